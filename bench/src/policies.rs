//! `--suite policies`: the cost of organization policies. The evaluation function on its own
//! (every rule set, the strictest outcome computed), and the `refresh_token` grant over HTTP
//! with and without a policy on the session's organization, alternated in the same run.

use crate::{Cli, Run, Server, commas, post, refresh_run, start_server, verdict};
use anyhow::{Result, bail};
use portico_domain::policy::{Checkpoint, Facts, Method, Policy, evaluate};
use portico_domain::{Timestamp, UserId};
use serde_json::json;
use std::time::Instant;

/// A policy with every rule set, none of which refuses the facts below (the evaluation does all
/// its work), and an allowlist of 50 networks with the client's at the end.
fn full_policy(now: Timestamp) -> Policy {
    let mut networks: Vec<_> =
        (0..49).map(|i| format!("10.{i}.0.0/16").parse().unwrap_or_else(|_| unreachable!())).collect();
    networks.push("203.0.113.0/24".parse().unwrap_or_else(|_| unreachable!()));
    Policy {
        mfa_required: true,
        mfa_enforced_from: Some(now.plus_ms(-1)),
        allowed_methods: Some([Method::Password, Method::MagicAuth, Method::Sso].into_iter().collect()),
        allowed_email_domains: None,
        max_session_lifetime_ms: Some(30 * 24 * 3_600_000),
        idle_timeout_ms: Some(24 * 3_600_000),
        reauthentication_interval_ms: Some(7 * 24 * 3_600_000),
        ip_allowlist: Some(networks),
        break_glass_user_id: UserId::parse("user_01HZZZZZZZZZZZZZZZZZZZZZZZ"),
        auto_join_role: Some("member".to_owned()),
    }
}

/// Nanoseconds per evaluation: the median of 7 timed batches on one thread.
fn evaluation_ns() -> f64 {
    let now = Timestamp::from_unix_ms(1_800_000_000_000);
    let environment = Policy { mfa_required: false, ..Policy::default() };
    let organization = full_policy(now);
    let facts = Facts {
        now,
        checkpoint: Checkpoint::Switch,
        user_id: UserId::parse("user_01HAAAAAAAAAAAAAAAAAAAAAAA").unwrap_or_else(|| unreachable!()),
        has_second_factor: true,
        method: Method::Password,
        authenticated_at: now.plus_ms(-3_600_000),
        second_factor_verified: true,
        last_active_at: now.plus_ms(-60_000),
        ip: Some([203, 0, 113, 9].into()),
    };
    let batch = 200_000;
    let mut samples: Vec<f64> = (0..7)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..batch {
                std::hint::black_box(evaluate(
                    std::hint::black_box(&environment),
                    Some(std::hint::black_box(&organization)),
                    std::hint::black_box(&facts),
                ));
            }
            started.elapsed().as_nanos() as f64 / f64::from(batch)
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[3]
}

async fn api(
    http: &reqwest::Client,
    server: &Server,
    method: reqwest::Method,
    path: &str,
    body: serde_json::Value,
) -> Result<serde_json::Value> {
    let response =
        http.request(method, format!("{}{path}", server.base)).bearer_auth(&server.api_key).json(&body).send().await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        bail!("{path} answered {status}: {body}");
    }
    Ok(body)
}

/// A server with one user, a member of one organization, signed in `sessions` times from
/// 203.0.113.9; returns the organization and the refresh tokens.
async fn prepared(bin: &std::path::Path, sessions: usize) -> Result<(Server, String, Vec<String>)> {
    let server = start_server(bin, None).await?;
    let http = reqwest::Client::new();
    let email = "bench-policy@example.com";
    let user = api(
        &http,
        &server,
        reqwest::Method::POST,
        "/user_management/users",
        json!({"email": email, "password": crate::PASSWORD, "email_verified": true}),
    )
    .await?;
    let org = api(&http, &server, reqwest::Method::POST, "/organizations", json!({"name": "Bench"})).await?;
    let org_id = org["id"].as_str().unwrap_or_default().to_owned();
    api(
        &http,
        &server,
        reqwest::Method::POST,
        "/user_management/organization_memberships",
        json!({"user_id": user["id"], "organization_id": org_id}),
    )
    .await?;
    let mut tokens = Vec::new();
    let sign_in = json!({"client_id": server.client_id, "client_secret": server.api_key, "grant_type": "password",
                         "email": email, "password": crate::PASSWORD, "ip_address": "203.0.113.9"});
    for _ in 0..sessions {
        let (status, answer) = post(&http, &format!("{}/user_management/authenticate", server.base), &sign_in).await?;
        if status != 200 || answer["organization_id"] != org_id.as_str() {
            bail!("sign-in failed ({status}): {answer}");
        }
        tokens.push(answer["refresh_token"].as_str().unwrap_or_default().to_owned());
    }
    let (_, tokens) = refresh_run(&server, tokens, 2, None).await?;
    Ok((server, org_id, tokens))
}

fn median(runs: &mut [Run]) -> Run {
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    let mid = &runs[runs.len() / 2];
    Run {
        per_second: mid.per_second,
        p50_ms: mid.p50_ms,
        p99_ms: mid.p99_ms,
        errors: runs.iter().map(|r| r.errors).sum(),
    }
}

fn row(label: &str, run: &Run) -> String {
    format!(
        "| {label} | {} /s (p50 {:.1} ms, p99 {:.1} ms, {} errors) |",
        commas(run.per_second),
        run.p50_ms,
        run.p99_ms,
        run.errors
    )
}

pub async fn run(cli: &Cli, cores: usize) -> Result<String> {
    eprintln!("bench: policy evaluation");
    let ns = evaluation_ns();
    let http = reqwest::Client::new();
    let (server, org_id, mut tokens) = prepared(&cli.bin, cli.concurrency).await?;
    let mut baseline = match &cli.baseline_bin {
        Some(bin) => Some(prepared(bin, cli.concurrency).await?),
        None => None,
    };
    // Every rule on that lets these sessions through: MFA with its grace still running, the
    // methods, the session limits, and an allowlist holding the server's own loopback clients.
    let policy = json!({"mfa": {"required": true, "grace_period_days": 30},
        "allowed_authentication_methods": ["password", "magic_auth"],
        "session": {"max_lifetime_seconds": 2_592_000, "idle_timeout_seconds": 86_400, "reauthentication_interval_seconds": 604_800},
        "ip_allowlist": ["10.0.0.0/8", "192.168.0.0/16", "127.0.0.0/8", "::1/128"]});
    let path = format!("/organizations/{org_id}/policy");
    let (mut before, mut off, mut on) = (Vec::new(), Vec::new(), Vec::new());
    // Alternate, so drift in the machine's speed falls on every side.
    for round in 1..=3 {
        if let Some((old, _, old_tokens)) = baseline.as_mut() {
            eprintln!("bench: refresh on the baseline build (round {round})");
            let (run, next) = refresh_run(old, std::mem::take(old_tokens), cli.seconds, None).await?;
            before.push(run);
            *old_tokens = next;
        }
        eprintln!("bench: refresh without a policy (round {round})");
        api(&http, &server, reqwest::Method::PUT, &path, json!({})).await?;
        let (run, next) = refresh_run(&server, tokens, cli.seconds, None).await?;
        off.push(run);
        eprintln!("bench: refresh with every rule on (round {round})");
        api(&http, &server, reqwest::Method::PUT, &path, policy.clone()).await?;
        let (run, next) = refresh_run(&server, next, cli.seconds, None).await?;
        on.push(run);
        tokens = next;
    }
    let (off, on) = (median(&mut off), median(&mut on));
    let reference = if before.is_empty() { off.per_second } else { median(&mut before).per_second };
    let loss = 100.0 * (1.0 - on.per_second / reference);
    let mut section = String::from("## Organization policies, SQLite\n\n");
    section.push_str(&format!(
        "Measured by `portico-bench --suite policies` (release build) on the same {cores}-CPU machine. Evaluation: the domain's `evaluate` with every rule set (MFA, methods, lifetime, idle, re-authentication, a 50-network IP allowlist, break-glass), median of 7 batches of 200,000 on one thread. Refresh: {} clients refreshing their own session in an organization, {} s per run, three rounds{} alternated, medians reported; the load generator shares the CPUs with the server.\n\n",
        cli.concurrency,
        cli.seconds,
        if before.is_empty() { " (no policy, every rule on)" } else { " (the build before policies existed, this build with no policy, this build with every rule on)" }
    ));
    section.push_str("| Measure | Result | Target | Verdict |\n|---|---|---|---|\n");
    section.push_str(&format!(
        "| Policy evaluation, every rule set | {:.2} µs ({} evaluations/s on one core) | ≤ 20 µs per grant | {} |\n",
        ns / 1000.0,
        commas(1e9 / ns),
        verdict(ns <= 20_000.0)
    ));
    if !before.is_empty() {
        let before = median(&mut before);
        section.push_str(&format!("{} — | — |\n", row("`refresh_token` grant, build before policies", &before)));
    }
    section.push_str(&format!("{} — | — |\n", row("`refresh_token` grant, no policy on the organization", &off)));
    section.push_str(&format!(
        "{} loses ≤ 10 % | {} ({:.1} % {} than {}) |\n\n",
        row("`refresh_token` grant, every rule on (none refusing)", &on),
        verdict(loss <= 10.0 && on.errors == 0),
        loss.abs(),
        if loss >= 0.0 { "slower" } else { "faster" },
        if cli.baseline_bin.is_some() { "the build before policies" } else { "no policy" }
    ));
    Ok(section)
}
