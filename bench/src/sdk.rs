//! `portico-bench --suite sdk`: what `portico-sdk` costs an app, next to the physical bound
//! measured in the same run.
//!
//! - Token verification (`Portico::verify_cached`, keys already fetched) per second on one core
//!   and on all, next to bare RS256 verifications of the same token with the same library.
//! - The guard in the example app (Lighthouse): a request through the app's router to a route
//!   behind the Portico layer and `require_permission("projects:read")`, against a route of the
//!   same router outside the layer. Both in-process (no sockets), one request at a time.

use crate::{Cli, PASSWORD, commas, ops_per_second, post, start_server, verdict};
use anyhow::{Context, Result, bail};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// A token Portico issued: signed in as a `member` of an organization (Lighthouse's roles).
async fn member_token(base: &str, api_key: &str, client_id: &str) -> Result<String> {
    let http = reqwest::Client::new();
    let admin = |path: &str, body: serde_json::Value| {
        http.post(format!("{base}{path}")).bearer_auth(api_key).json(&body).send()
    };
    let user: serde_json::Value = admin(
        "/user_management/users",
        json!({"email": "bench-sdk@example.com", "password": PASSWORD, "email_verified": true}),
    )
    .await?
    .json()
    .await?;
    let org: serde_json::Value = admin("/organizations", json!({"name": "Bench SDK Org"})).await?.json().await?;
    let membership = admin(
        "/user_management/organization_memberships",
        json!({"user_id": user["id"], "organization_id": org["id"], "role_slug": "member"}),
    )
    .await?;
    if !membership.status().is_success() {
        bail!("creating the membership failed: {}", membership.text().await.unwrap_or_default());
    }
    let sign_in = json!({"client_id": client_id, "client_secret": api_key, "grant_type": "password",
                         "email": "bench-sdk@example.com", "password": PASSWORD});
    let (status, answer) = post(&http, &format!("{base}/user_management/authenticate"), &sign_in).await?;
    if status != 200 {
        bail!("sign-in failed ({status}): {answer}");
    }
    Ok(answer["access_token"].as_str().unwrap_or_default().to_owned())
}

/// The token's signature checked with nothing else: the key parsed once, as the SDK does.
async fn bare_rs256(base: &str, client_id: &str, token: &str) -> Result<impl Fn() + Send + Sync + 'static> {
    let jwks: serde_json::Value = reqwest::get(format!("{base}/sso/jwks/{client_id}")).await?.json().await?;
    let key = &jwks["keys"][0];
    let decode = |field: &str| URL_SAFE_NO_PAD.decode(key[field].as_str().unwrap_or_default());
    let (n, e) = (decode("n")?, decode("e")?);
    let der = RsaPublicKeyComponents { n: n.as_slice(), e: e.as_slice() }
        .as_der()
        .map_err(|_| anyhow::anyhow!("the JWKS key is not RSA"))?;
    let key = ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, der.as_ref())
        .map_err(|_| anyhow::anyhow!("the JWKS key is not usable"))?;
    let (signed, signature) = token.rsplit_once('.').context("not a JWT")?;
    let signed = signed.as_bytes().to_vec();
    let signature = URL_SAFE_NO_PAD.decode(signature)?;
    key.verify_sig(&signed, &signature).map_err(|_| anyhow::anyhow!("the token does not verify"))?;
    Ok(move || {
        let _ = key.verify_sig(&signed, &signature);
    })
}

/// Per-request latencies of `count` sequential requests to `path` through `router`.
async fn through_router(router: &axum::Router, path: &str, token: &str, count: usize) -> Result<Vec<Duration>> {
    let mut latencies = Vec::with_capacity(count);
    for _ in 0..count {
        let request = http::Request::get(path)
            .header("authorization", format!("Bearer {token}"))
            .body(axum::body::Body::empty())?;
        let started = Instant::now();
        let response = router.clone().oneshot(request).await?;
        let status = response.status();
        let _ = axum::body::to_bytes(response.into_body(), 1 << 20).await?;
        latencies.push(started.elapsed());
        if !status.is_success() {
            bail!("{path} answered {status}");
        }
    }
    latencies.sort();
    Ok(latencies)
}

fn micros(latencies: &[Duration], quantile: f64) -> f64 {
    let index = ((latencies.len() as f64 - 1.0) * quantile).round() as usize;
    latencies.get(index).map_or(0.0, |d| d.as_secs_f64() * 1e6)
}

fn mean_micros(latencies: &[Duration]) -> f64 {
    latencies.iter().map(Duration::as_secs_f64).sum::<f64>() * 1e6 / latencies.len().max(1) as f64
}

pub async fn run(cli: &Cli, cores: usize) -> Result<String> {
    let server = start_server(&cli.bin, None).await?;
    let config = portico_example_b2b::Config {
        portico_url: server.base.clone(),
        client_id: server.client_id.clone(),
        api_key: server.api_key.clone(),
        app_url: "http://127.0.0.1:3000".to_owned(),
        cookie_secret: vec![7; 32],
    };
    let state = portico_example_b2b::AppState::new(&config)?;
    portico_example_b2b::provision(&state.portico().management()?).await?;
    let token = member_token(&server.base, &server.api_key, &server.client_id).await?;
    let portico = state.portico().clone();
    let session = portico.verify(&token).await?;
    if !session.has_permission("projects:read") {
        bail!("the benchmark token lacks projects:read");
    }

    eprintln!("bench: RS256 verification (the bound) and SDK verification");
    let seconds = cli.seconds.clamp(2, 10) as f64;
    let bare = Arc::new(bare_rs256(&server.base, &server.client_id, &token).await?);
    let bare_one = ops_per_second(1, seconds, {
        let bare = bare.clone();
        move || bare()
    });
    let verify = {
        let (portico, token) = (portico.clone(), token.clone());
        move || {
            let _ = portico.verify_cached(&token);
        }
    };
    let sdk_one = ops_per_second(1, seconds, verify.clone());
    let bare_all = ops_per_second(cores, seconds, move || bare());
    let sdk_all = ops_per_second(cores, seconds, verify);

    eprintln!("bench: the guard in the example app");
    let router = portico_example_b2b::router(state);
    let count = 20_000;
    // Warm both paths (connection pools, allocator) before measuring.
    through_router(&router, "/api/projects", &token, 2_000).await?;
    through_router(&router, "/health", &token, 2_000).await?;
    let guarded = through_router(&router, "/api/projects", &token, count).await?;
    let open = through_router(&router, "/health", &token, count).await?;
    let added = mean_micros(&guarded) - mean_micros(&open);

    let mut section = String::from("## portico-sdk\n\n");
    section.push_str(&format!(
        "Measured by `portico-bench --suite sdk` (release build) on the same {cores}-CPU machine, against a Portico it starts (SQLite); tokens are real Portico access tokens (RS256, 2048-bit key). Verification runs with the keys already fetched, as in a running app; {seconds:.0} s per measure.\n\n"
    ));
    section
        .push_str("| Measure | Result | Target | Bound measured in the same run | Verdict |\n|---|---|---|---|---|\n");
    section.push_str(&format!(
        "| Token verification (`verify_cached`: parse, RS256, claims, `Session`), one core | {} tokens/s ({:.1} µs each) | ≥ 30,000 /s per core | RS256 verifications of the same token (aws-lc-rs, parsed key): {} /s on one core ({:.0} % of it) | {} |\n",
        commas(sdk_one),
        1e6 / sdk_one,
        commas(bare_one),
        100.0 * sdk_one / bare_one,
        verdict(sdk_one >= 30_000.0)
    ));
    section.push_str(&format!(
        "| Token verification, {cores} cores | {} tokens/s | — | RS256: {} /s on {cores} cores | — |\n",
        commas(sdk_all),
        commas(bare_all)
    ));
    section.push_str(&format!(
        "| Guard in the example app: `GET /api/projects` behind the Portico layer and `require_permission(\"projects:read\")`, in-process, sequential | {:.1} µs mean (p50 {:.1}, p99 {:.1}) | — | The same router's `GET /health`, outside the layer: {:.1} µs mean (p50 {:.1}, p99 {:.1}) | — |\n",
        mean_micros(&guarded),
        micros(&guarded, 0.5),
        micros(&guarded, 0.99),
        mean_micros(&open),
        micros(&open, 0.5),
        micros(&open, 0.99)
    ));
    section.push_str(&format!(
        "| Time the layer and guard add per request (difference of the means, including the handler's own JSON) | {added:.1} µs | ≤ 50 µs | — | {} |\n\n",
        verdict(added <= 50.0)
    ));
    Ok(section)
}
