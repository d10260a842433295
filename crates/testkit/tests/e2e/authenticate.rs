use portico_app::ports::ManualClock;
use portico_domain::Timestamp;
use portico_testkit::{Response, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery";

async fn user_with_password(t: &TestApp, email: &str) -> String {
    let created =
        t.post("/user_management/users", json!({"email": email, "password": PASSWORD, "email_verified": true})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.str("id")
}

async fn authenticate(t: &TestApp, body: Value) -> Response {
    t.send(t.raw(Method::POST, "/user_management/authenticate"), Some(body)).await
}

fn password_grant(t: &TestApp, email: &str, password: &str) -> Value {
    json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "password", "email": email, "password": password})
}

fn refresh_grant(t: &TestApp, token: &str) -> Value {
    json!({"client_id": t.client_id, "grant_type": "refresh_token", "refresh_token": token})
}

async fn claims(t: &TestApp, token: &str) -> Value {
    serde_json::to_value(portico_app::sessions::verify_access_token(&t.app, token).await.unwrap()).unwrap()
}

async fn member(t: &TestApp, user: &str, org: &str, role: &str) -> String {
    let m = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org, "role_slug": role}),
        )
        .await;
    assert_eq!(m.status, 201, "{}", m.text);
    m.str("id")
}

#[tokio::test]
async fn password_sign_in_without_organizations_gives_an_unscoped_session() {
    let t = TestApp::spawn().await;
    let user = user_with_password(&t, "ada@example.com").await;
    let signed_in = authenticate(&t, password_grant(&t, "ADA@example.com", PASSWORD)).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    assert_eq!(signed_in.header("cache-control"), Some("no-store"));
    assert_eq!(signed_in.body["user"]["id"], user.as_str());
    assert!(signed_in.body["user"]["last_sign_in_at"].is_string());
    assert_eq!(signed_in.body["authentication_method"], "Password");
    assert!(signed_in.body.get("organization_id").is_none());
    let access = signed_in.str("access_token");
    let c = claims(&t, &access).await;
    assert_eq!(c["sub"], user.as_str());
    assert!(c["sid"].as_str().unwrap().starts_with("session_"));
    assert_eq!(c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(), 300);
    assert!(c.get("org_id").is_none() && c.get("permissions").is_none());
    let header: Value = {
        use base64::Engine;
        let part = access.split('.').next().unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    assert_eq!(header["alg"], "RS256");
    assert!(header["kid"].is_string());

    let sessions = t.get(&format!("/user_management/users/{user}/sessions")).await;
    assert_eq!(sessions.body["data"][0]["id"], c["sid"]);
    assert_eq!(sessions.body["data"][0]["status"], "active");
    assert_eq!(sessions.body["data"][0]["auth_method"], "password");
    let names = t.event_names().await;
    assert!(names.contains(&"authentication.password_succeeded".to_owned()));
    assert!(names.contains(&"session.created".to_owned()));
}

#[tokio::test]
async fn wrong_passwords_and_unknown_emails_get_the_same_answer() {
    let t = TestApp::spawn().await;
    user_with_password(&t, "ada@example.com").await;
    let wrong = authenticate(&t, password_grant(&t, "ada@example.com", "not the password")).await;
    let unknown = authenticate(&t, password_grant(&t, "nobody@example.com", PASSWORD)).await;
    let malformed = authenticate(&t, password_grant(&t, "not-an-email", PASSWORD)).await;
    for response in [&wrong, &unknown, &malformed] {
        assert_eq!(response.status, 400);
        assert_eq!(response.body, json!({"code": "invalid_credentials", "message": "Invalid email or password."}));
    }
    let passwordless = t.user("nopass@example.com").await;
    assert!(!passwordless.is_empty());
    assert_eq!(authenticate(&t, password_grant(&t, "nopass@example.com", PASSWORD)).await.status, 400);
    assert!(t.event_names().await.contains(&"authentication.password_failed".to_owned()));
}

#[tokio::test]
async fn clients_and_grants_are_checked() {
    let t = TestApp::spawn().await;
    user_with_password(&t, "ada@example.com").await;
    let no_client = authenticate(&t, json!({"grant_type": "password"})).await;
    assert_eq!((no_client.status, no_client.body["error"].as_str()), (400, Some("invalid_request")));
    let unknown =
        authenticate(&t, json!({"client_id": "client_01HXYZ123456789ABCDEFGHIJ", "grant_type": "password"})).await;
    assert_eq!((unknown.status, unknown.body["error"].as_str()), (401, Some("invalid_client")));
    let mut bad_secret = password_grant(&t, "ada@example.com", PASSWORD);
    bad_secret["client_secret"] = json!("sk_test_wrong");
    assert_eq!(authenticate(&t, bad_secret).await.status, 401);
    let mut public = password_grant(&t, "ada@example.com", PASSWORD);
    public.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(authenticate(&t, public).await.body["error"], "invalid_client");
    let grant = authenticate(&t, json!({"client_id": t.client_id, "grant_type": "client_credentials"})).await;
    assert_eq!(grant.body["error"], "unsupported_grant_type");
    let form = t
        .send(
            t.raw(Method::POST, "/user_management/authenticate")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(format!(
                    "client_id={}&client_secret={}&grant_type=password&email=ada%40example.com&password=correct+horse+battery",
                    t.client_id, t.api_key
                )),
            None,
        )
        .await;
    assert_eq!(form.status, 200, "form bodies are accepted too: {}", form.text);
}

#[tokio::test]
async fn one_organization_scopes_the_token_with_roles_and_permissions() {
    let t = TestApp::spawn().await;
    let user = user_with_password(&t, "ada@example.com").await;
    let org = t.organization("Acme").await;
    for slug in ["posts:read", "posts:write"] {
        t.post("/authorization/permissions", json!({"slug": slug, "name": slug})).await;
    }
    t.put("/authorization/roles/admin/permissions", json!({"permissions": ["posts:read", "posts:write"]})).await;
    member(&t, &user, &org, "admin").await;
    let signed_in = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    assert_eq!(signed_in.body["organization_id"], org.as_str());
    let c = claims(&t, &signed_in.str("access_token")).await;
    assert_eq!(c["org_id"], org.as_str());
    assert_eq!(c["role"], "admin");
    assert_eq!(c["roles"], json!(["admin"]));
    assert_eq!(c["permissions"], json!(["posts:read", "posts:write"]));
}

#[tokio::test]
async fn several_organizations_ask_for_a_choice() {
    let t = TestApp::spawn().await;
    let user = user_with_password(&t, "ada@example.com").await;
    let acme = t.organization("Acme").await;
    let globex = t.organization("Globex").await;
    let outsider = t.organization("Initech").await;
    member(&t, &user, &acme, "admin").await;
    member(&t, &user, &globex, "member").await;
    let step = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    assert_eq!(step.status, 403, "{}", step.text);
    assert_eq!(step.body["code"], "organization_selection_required");
    assert_eq!(step.body["user"]["id"], user.as_str());
    assert_eq!(step.body["organizations"], json!([{"id": acme, "name": "Acme"}, {"id": globex, "name": "Globex"}]));
    let pending = step.str("pending_authentication_token");
    let select = |org: &str| {
        json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "urn:workos:oauth:grant-type:organization-selection",
               "pending_authentication_token": pending, "organization_id": org})
    };
    let refused = authenticate(&t, select(&outsider)).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"], "organization_membership_not_found");
    let chosen = authenticate(&t, select(&globex)).await;
    assert_eq!(chosen.status, 200, "a refused choice leaves the token usable: {}", chosen.text);
    assert_eq!(claims(&t, &chosen.str("access_token")).await["org_id"], globex.as_str());
    let replayed = authenticate(&t, select(&acme)).await;
    assert_eq!(replayed.body["code"], "invalid_pending_authentication_token");
}

#[tokio::test]
async fn refresh_tokens_rotate_and_a_reuse_revokes_the_session() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let t = TestApp::spawn_with(Default::default(), clock.clone()).await;
    user_with_password(&t, "ada@example.com").await;
    let first = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    let r1 = first.str("refresh_token");
    let second = authenticate(&t, refresh_grant(&t, &r1)).await;
    assert_eq!(second.status, 200, "{}", second.text);
    let r2 = second.str("refresh_token");
    assert_ne!(r1, r2);
    let sid = claims(&t, &second.str("access_token")).await["sid"].clone();
    assert_eq!(claims(&t, &first.str("access_token")).await["sid"], sid, "refresh keeps the session");
    let auth_time = claims(&t, &first.str("access_token")).await["auth_time"].clone();
    assert_eq!(auth_time.as_i64(), Some(1_800_000_000), "auth_time is when the user signed in");
    assert_eq!(claims(&t, &second.str("access_token")).await["auth_time"], auth_time, "and stays on refresh");

    // A retry of the previous token inside the grace window is honoured once…
    clock.advance_ms(5_000);
    let grace = authenticate(&t, refresh_grant(&t, &r1)).await;
    assert_eq!(grace.status, 200, "{}", grace.text);
    // …a second retry is a reuse: the session ends and every token of it stops working.
    let reuse = authenticate(&t, refresh_grant(&t, &r1)).await;
    assert_eq!(reuse.status, 400);
    assert_eq!(reuse.body["error"], "invalid_grant");
    assert_eq!(authenticate(&t, refresh_grant(&t, &r2)).await.body["error"], "invalid_grant");
    assert_eq!(authenticate(&t, refresh_grant(&t, &grace.str("refresh_token"))).await.status, 400);
    assert!(t.event_names().await.contains(&"session.revoked".to_owned()));
    assert_eq!(authenticate(&t, refresh_grant(&t, "not-a-token")).await.body["error"], "invalid_grant");
}

#[tokio::test]
async fn grace_covers_only_the_previous_token_and_only_briefly() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let t = TestApp::spawn_with(Default::default(), clock.clone()).await;
    user_with_password(&t, "ada@example.com").await;
    let r1 = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await.str("refresh_token");
    let r2 = authenticate(&t, refresh_grant(&t, &r1)).await.str("refresh_token");
    let r3 = authenticate(&t, refresh_grant(&t, &r2)).await.str("refresh_token");
    // r1 is two rotations old: no grace.
    assert_eq!(authenticate(&t, refresh_grant(&t, &r1)).await.status, 400);
    assert_eq!(authenticate(&t, refresh_grant(&t, &r3)).await.status, 400, "the session was revoked");

    let s1 = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await.str("refresh_token");
    authenticate(&t, refresh_grant(&t, &s1)).await;
    clock.advance_ms(31_000);
    assert_eq!(authenticate(&t, refresh_grant(&t, &s1)).await.status, 400, "past the 30 s grace");
}

#[tokio::test]
async fn refresh_switches_organization_only_to_active_memberships() {
    let t = TestApp::spawn().await;
    let user = user_with_password(&t, "ada@example.com").await;
    let acme = t.organization("Acme").await;
    let globex = t.organization("Globex").await;
    let initech = t.organization("Initech").await;
    member(&t, &user, &acme, "admin").await;
    member(&t, &user, &globex, "member").await;
    let step = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    let chosen = authenticate(
        &t,
        json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "urn:workos:oauth:grant-type:organization-selection",
               "pending_authentication_token": step.str("pending_authentication_token"), "organization_id": acme}),
    )
    .await;
    let token = chosen.str("refresh_token");
    let mut switch = refresh_grant(&t, &token);
    switch["organization_id"] = json!(initech);
    let refused = authenticate(&t, switch.clone()).await;
    assert_eq!(refused.status, 400);
    assert_eq!(refused.body["error"], "organization_membership_not_found");
    switch["organization_id"] = json!(globex);
    let switched = authenticate(&t, switch).await;
    assert_eq!(switched.status, 200, "the refused switch did not use up the token: {}", switched.text);
    assert_eq!(switched.body["organization_id"], globex.as_str());
    let c = claims(&t, &switched.str("access_token")).await;
    assert_eq!((c["org_id"].as_str(), c["role"].as_str()), (Some(globex.as_str()), Some("member")));
    let stays = authenticate(&t, refresh_grant(&t, &switched.str("refresh_token"))).await;
    assert_eq!(stays.body["organization_id"], globex.as_str(), "the session remembers its organization");
}

#[tokio::test]
async fn ending_a_membership_or_revoking_ends_sessions() {
    let t = TestApp::spawn().await;
    let user = user_with_password(&t, "ada@example.com").await;
    let org = t.organization("Acme").await;
    let membership = member(&t, &user, &org, "member").await;
    let signed_in = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    assert_eq!(t.delete(&format!("/user_management/organization_memberships/{membership}")).await.status, 204);
    assert_eq!(
        authenticate(&t, refresh_grant(&t, &signed_in.str("refresh_token"))).await.body["error"],
        "invalid_grant"
    );
    let sessions = t.get(&format!("/user_management/users/{user}/sessions")).await;
    assert_eq!(sessions.body["data"][0]["status"], "revoked");
    assert!(sessions.body["data"][0]["ended_at"].is_string());

    let again = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    let sid = claims(&t, &again.str("access_token")).await["sid"].as_str().unwrap().to_owned();
    let revoked = t.post("/user_management/sessions/revoke", json!({"session_id": sid})).await;
    assert_eq!(revoked.status, 200);
    assert_eq!(authenticate(&t, refresh_grant(&t, &again.str("refresh_token"))).await.status, 400);
    assert_eq!(t.post("/user_management/sessions/revoke", json!({})).await.status, 422);
    assert_eq!(
        t.post("/user_management/sessions/revoke", json!({"session_id": "session_01HXYZ123456789ABCDEFGHIJ"}))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn sessions_expire_when_idle_or_too_old() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let settings = portico_app::AppSettings {
        session_limits: portico_domain::session::SessionLimits { absolute_ms: 10 * 3_600_000, idle_ms: 3_600_000 },
        ..Default::default()
    };
    let t = TestApp::spawn_with(settings, clock.clone()).await;
    let user = user_with_password(&t, "ada@example.com").await;
    let mut token = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await.str("refresh_token");
    // Ten refreshes 59 minutes apart (590 minutes in all) stay inside both limits.
    for _ in 0..10 {
        clock.advance_ms(59 * 60_000);
        let refreshed = authenticate(&t, refresh_grant(&t, &token)).await;
        assert_eq!(refreshed.status, 200, "active sessions stay up: {}", refreshed.text);
        token = refreshed.str("refresh_token");
    }
    clock.advance_ms(59 * 60_000);
    assert_eq!(authenticate(&t, refresh_grant(&t, &token)).await.body["error"], "invalid_grant", "absolute lifetime");
    assert_eq!(t.get(&format!("/user_management/users/{user}/sessions")).await.body["data"][0]["status"], "expired");

    let idle = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await.str("refresh_token");
    clock.advance_ms(61 * 60_000);
    assert_eq!(authenticate(&t, refresh_grant(&t, &idle)).await.status, 400, "idle timeout");
}

#[tokio::test]
async fn jwks_publishes_the_keys_and_rotation_overlaps() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let t = TestApp::spawn_with(Default::default(), clock.clone()).await;
    let jwks = t.send(t.raw(Method::GET, &format!("/sso/jwks/{}", t.client_id)), None).await;
    assert_eq!(jwks.status, 200);
    let keys = jwks.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    for member in ["alg", "kty", "use", "kid", "n", "e", "x5c", "x5t#S256"] {
        assert!(keys[0].get(member).is_some(), "{member}");
    }
    let old_kid = keys[0]["kid"].as_str().unwrap().to_owned();
    assert_eq!(t.send(t.raw(Method::GET, "/sso/jwks/client_01HXYZ123456789ABCDEFGHIJ"), None).await.status, 404);

    user_with_password(&t, "ada@example.com").await;
    let (new_kid, _) = portico_app::keys::rotate(&t.app).await.unwrap();
    let kids = |r: &Response| {
        r.body["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    let during = t.send(t.raw(Method::GET, &format!("/sso/jwks/{}", t.client_id)), None).await;
    assert_eq!(kids(&during), vec![old_kid.clone(), new_kid.clone()], "the next key is published before it signs");
    let kid_of = |token: &str| {
        use base64::Engine;
        let part = token.split('.').next().unwrap().to_owned();
        let header: Value =
            serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
        header["kid"].as_str().unwrap().to_owned()
    };
    let before = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    assert_eq!(kid_of(&before.str("access_token")), old_kid);
    clock.advance_ms(portico_app::keys::PUBLISH_AHEAD_MS + 1);
    let after = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    assert_eq!(kid_of(&after.str("access_token")), new_kid);
    let overlap = t.send(t.raw(Method::GET, &format!("/sso/jwks/{}", t.client_id)), None).await;
    assert_eq!(kids(&overlap).len(), 2, "the old key stays while its tokens may live");
    clock.advance_ms(10 * 60_000);
    let later = t.send(t.raw(Method::GET, &format!("/sso/jwks/{}", t.client_id)), None).await;
    assert_eq!(kids(&later), vec![new_kid]);
}

#[tokio::test]
async fn logout_ends_the_session_and_returns_only_to_known_origins() {
    let t = TestApp::spawn().await;
    user_with_password(&t, "ada@example.com").await;
    let signed_in = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    let sid = claims(&t, &signed_in.str("access_token")).await["sid"].as_str().unwrap().to_owned();
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let get = |path: String| {
        let client = no_redirects.clone();
        let url = format!("{}{}", t.base_url, path);
        async move { client.get(url).send().await.unwrap() }
    };
    let refused =
        get(format!("/user_management/sessions/logout?session_id={sid}&return_to=https://evil.example/")).await;
    assert_eq!(refused.status(), 422);
    assert_eq!(get("/user_management/sessions/logout".into()).await.status(), 422);
    let out =
        get(format!("/user_management/sessions/logout?session_id={sid}&return_to=http://localhost:3000/signed-out"))
            .await;
    assert_eq!(out.status(), 302);
    assert_eq!(out.headers()["location"], "http://localhost:3000/signed-out");
    assert_eq!(authenticate(&t, refresh_grant(&t, &signed_in.str("refresh_token"))).await.status, 400);
}

#[tokio::test]
async fn concurrent_refreshes_with_one_token_both_succeed() {
    let t = TestApp::spawn().await;
    user_with_password(&t, "ada@example.com").await;
    let token = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await.str("refresh_token");
    let results = portico_testkit::join_all([
        authenticate(&t, refresh_grant(&t, &token)),
        authenticate(&t, refresh_grant(&t, &token)),
    ])
    .await;
    for result in &results {
        assert_eq!(result.status, 200, "{}", result.text);
    }
    assert_ne!(results[0].str("refresh_token"), results[1].str("refresh_token"));
    for result in &results {
        assert_eq!(authenticate(&t, refresh_grant(&t, &result.str("refresh_token"))).await.status, 200);
    }
}

#[tokio::test]
async fn sign_in_attempts_are_limited_per_email_and_per_address() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let settings = portico_app::AppSettings {
        sign_in_per_ip: portico_app::rate_limits::Limit { max: 12, window_seconds: 60 },
        ..Default::default()
    };
    let t = TestApp::spawn_with(settings, clock.clone()).await;
    user_with_password(&t, "ada@example.com").await;
    for attempt in 0..10 {
        let password = if attempt % 2 == 0 { "wrong password" } else { PASSWORD };
        let answer = authenticate(&t, password_grant(&t, "ada@example.com", password)).await;
        assert_ne!(answer.status, 429, "attempt {attempt} is within the limit");
    }
    let limited = authenticate(&t, password_grant(&t, "ADA@example.com", PASSWORD)).await;
    assert_eq!(limited.status, 429, "{}", limited.text);
    assert_eq!(limited.body["code"], "rate_limit_exceeded");
    let retry_after: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    // Unknown addresses are limited the same way, so the limit reveals nothing.
    for _ in 0..10 {
        authenticate(&t, password_grant(&t, "nobody@example.com", PASSWORD)).await;
    }
    assert_eq!(authenticate(&t, password_grant(&t, "nobody@example.com", PASSWORD)).await.status, 429);
    // The limit is per address: the peer address (127.0.0.1 here) has now made 22 attempts.
    assert_eq!(authenticate(&t, password_grant(&t, "other@example.com", PASSWORD)).await.status, 429);

    clock.advance_ms(i64::try_from(retry_after).unwrap() * 1000);
    let again = authenticate(&t, password_grant(&t, "ada@example.com", PASSWORD)).await;
    assert_eq!(again.status, 200, "a new window: {}", again.text);
}
