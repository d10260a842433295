//! Second factors (TOTP) and organization policies: the auth-factor API, the `mfa-totp` grant
//! and its step-ups, grace periods and reminders, org switches, IP allowlists, session limits,
//! "enforce now", and the dry run.

use portico_app::ports::ManualClock;
use portico_domain::Timestamp;
use portico_testkit::{Response, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use std::sync::Arc;

const PASSWORD: &str = "correct horse battery";
const START_MS: i64 = 1_800_000_000_000;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

async fn spawn() -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(START_MS)));
    (TestApp::spawn_with(Default::default(), clock.clone()).await, clock)
}

async fn member(t: &TestApp, user: &str, org: &str) {
    let m = t.post("/user_management/organization_memberships", json!({"user_id": user, "organization_id": org})).await;
    assert_eq!(m.status, 201, "{}", m.text);
}

async fn authenticate(t: &TestApp, body: Value) -> Response {
    t.send(t.raw(Method::POST, "/user_management/authenticate"), Some(body)).await
}

fn password(t: &TestApp, email: &str) -> Value {
    json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "password", "email": email, "password": PASSWORD})
}

fn refresh(t: &TestApp, token: &str) -> Value {
    json!({"client_id": t.client_id, "grant_type": "refresh_token", "refresh_token": token})
}

fn totp(t: &TestApp, pending: &str, challenge: &str, code: &str) -> Value {
    json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "urn:workos:oauth:grant-type:mfa-totp",
        "pending_authentication_token": pending, "authentication_challenge_id": challenge, "code": code})
}

/// The code an authenticator app shows for `secret`, `steps_ahead` 30-second steps after `clock`.
fn code(secret: &str, clock: &ManualClock, steps_ahead: i64) -> String {
    use portico_app::ports::Clock;
    let bytes = portico_crypto::totp::base32_decode(secret).unwrap();
    let step = portico_crypto::totp::step_at(clock.now().unix_ms() / 1000) + steps_ahead;
    portico_crypto::totp::code_at_step(&bytes, step)
}

/// Enrolls a TOTP factor; returns (factor id, secret, first challenge id).
async fn enroll(t: &TestApp, user: &str) -> (String, String, String) {
    let enrolled = t.post(&format!("/user_management/users/{user}/auth_factors"), json!({"type": "totp"})).await;
    assert_eq!(enrolled.status, 201, "{}", enrolled.text);
    let factor = &enrolled.body["authentication_factor"];
    (
        factor["id"].as_str().unwrap().to_owned(),
        factor["totp"]["secret"].as_str().unwrap().to_owned(),
        enrolled.body["authentication_challenge"]["id"].as_str().unwrap().to_owned(),
    )
}

async fn put_policy(t: &TestApp, org: &str, policy: Value) -> Response {
    let saved = t.put(&format!("/organizations/{org}/policy"), policy).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    saved
}

async fn claims(t: &TestApp, token: &str) -> Value {
    serde_json::to_value(portico_app::sessions::verify_access_token(&t.app, token).await.unwrap()).unwrap()
}

#[tokio::test]
async fn totp_factors_enroll_challenge_and_accept_each_code_once() {
    let (t, clock) = spawn().await;
    let user = t.verified_user("ada@example.com", PASSWORD).await;
    let enrolled = t
        .post(&format!("/user_management/users/{user}/auth_factors"), json!({"type": "totp", "totp_issuer": "Acme"}))
        .await;
    assert_eq!(enrolled.status, 201, "{}", enrolled.text);
    let factor = &enrolled.body["authentication_factor"];
    assert_eq!(factor["object"], "authentication_factor");
    assert_eq!(factor["type"], "totp");
    assert_eq!(factor["user_id"], user.as_str());
    assert_eq!(factor["totp"]["issuer"], "Acme");
    assert_eq!(factor["totp"]["user"], "ada@example.com");
    assert!(factor["totp"]["qr_code"].as_str().unwrap().starts_with("data:image/png;base64,"));
    let secret = factor["totp"]["secret"].as_str().unwrap();
    assert_eq!(
        factor["totp"]["uri"].as_str().unwrap(),
        format!("otpauth://totp/Acme:ada%40example.com?secret={secret}&issuer=Acme&algorithm=SHA1&digits=6&period=30")
    );
    let challenge = &enrolled.body["authentication_challenge"];
    assert_eq!(challenge["object"], "authentication_challenge");
    assert_eq!(challenge["authentication_factor_id"], factor["id"]);
    assert_eq!(challenge["code"], Value::Null);
    let factor_id = factor["id"].as_str().unwrap();
    let challenge_id = challenge["id"].as_str().unwrap();

    // Secrets are never shown again.
    let listed = t.get(&format!("/user_management/users/{user}/auth_factors")).await;
    assert_eq!(listed.body["data"][0]["id"], factor_id);
    assert!(
        listed.body["data"][0]["totp"].get("secret").is_none()
            && listed.body["data"][0]["totp"].get("qr_code").is_none()
    );
    assert!(t.get(&format!("/auth/factors/{factor_id}")).await.body["totp"].get("secret").is_none());

    let verify = |challenge: String, code: String| {
        let t = &t;
        async move { t.post(&format!("/auth/challenges/{challenge}/verify"), json!({"code": code})).await }
    };
    let wrong = verify(challenge_id.to_owned(), "000000".into()).await;
    assert_eq!((wrong.status, wrong.body["valid"].clone()), (200, json!(false)), "{}", wrong.text);
    let right = verify(challenge_id.to_owned(), code(secret, &clock, 0)).await;
    assert_eq!(right.body["valid"], true, "{}", right.text);
    assert_eq!(right.body["challenge"]["id"], challenge_id);
    let again = verify(challenge_id.to_owned(), code(secret, &clock, 0)).await;
    assert_eq!(again.body["code"], "authentication_challenge_previously_verified");

    // The same 30-second code does not work twice, even on a new challenge.
    let second = t.post(&format!("/auth/factors/{factor_id}/challenge"), json!({})).await;
    assert_eq!(second.status, 201);
    let replay = verify(second.str("id"), code(secret, &clock, 0)).await;
    assert_eq!(replay.body["valid"], false, "a code is accepted once per step");
    clock.advance_ms(30_000);
    assert_eq!(verify(second.str("id"), code(secret, &clock, 0)).await.body["valid"], true);

    // Too many wrong codes spend a challenge; an expired one is refused.
    let third = t.post(&format!("/auth/factors/{factor_id}/challenge"), json!({})).await.str("id");
    for _ in 0..5 {
        verify(third.clone(), "111111".into()).await;
    }
    assert_eq!(verify(third, code(secret, &clock, 1)).await.body["code"], "one_time_code_too_many_attempts");
    let fourth = t.post(&format!("/auth/factors/{factor_id}/challenge"), json!({})).await.str("id");
    clock.advance_ms(11 * 60 * 1000);
    assert_eq!(verify(fourth, code(secret, &clock, 0)).await.body["code"], "authentication_challenge_expired");

    // Bad input names the problem.
    let bad = t.post(&format!("/user_management/users/{user}/auth_factors"), json!({"type": "sms"})).await;
    assert_eq!((bad.status, bad.body["errors"][0]["field"].clone()), (422, json!("type")));
    let bad_secret = t
        .post(&format!("/user_management/users/{user}/auth_factors"), json!({"type": "totp", "totp_secret": "1!"}))
        .await;
    assert_eq!(bad_secret.body["errors"][0]["field"], "totp_secret");
    assert_eq!(
        t.post("/user_management/users/user_01HZZZZZZZZZZZZZZZZZZZZZZZ/auth_factors", json!({"type": "totp"}))
            .await
            .status,
        404
    );
    assert_eq!(t.post(&format!("/auth/challenges/{challenge_id}/verify"), json!({})).await.status, 422);

    assert_eq!(t.delete(&format!("/auth/factors/{factor_id}")).await.status, 202);
    assert_eq!(t.get(&format!("/user_management/users/{user}/auth_factors")).await.body["data"], json!([]));
    assert_eq!(t.get(&format!("/auth/factors/{factor_id}")).await.status, 404);
}

#[tokio::test]
async fn an_organization_requiring_mfa_steps_up_every_sign_in() {
    let (t, clock) = spawn().await;
    let org = t.organization("Acme").await;
    let user = t.verified_user("bo@example.com", PASSWORD).await;
    member(&t, &user, &org).await;
    let saved = put_policy(&t, &org, json!({"mfa": {"required": true}})).await;
    assert_eq!(saved.body["object"], "organization_policy");
    assert_eq!(saved.body["mfa"], json!({"required": true, "enforced_from": null}));

    let first = authenticate(&t, password(&t, "bo@example.com")).await;
    assert_eq!(first.status, 403, "{}", first.text);
    assert_eq!(first.body["code"], "mfa_enrollment");
    assert_eq!(first.body["user"]["id"], user.as_str());
    let pending = first.str("pending_authentication_token");
    let (_, secret, challenge) = enroll(&t, &user).await;
    let wrong = authenticate(&t, totp(&t, &pending, &challenge, "000000")).await;
    assert_eq!((wrong.status, wrong.body["code"].clone()), (400, json!("invalid_one_time_code")), "{}", wrong.text);
    let done = authenticate(&t, totp(&t, &pending, &challenge, &code(&secret, &clock, 0))).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["organization_id"], org.as_str());
    assert_eq!(claims(&t, &done.str("access_token")).await["org_id"], org.as_str());
    let replay = authenticate(&t, totp(&t, &pending, &challenge, &code(&secret, &clock, 1))).await;
    assert_eq!(replay.body["code"], "invalid_pending_authentication_token");

    // Next time the factor is asked for; another user's challenge does not answer it.
    let again = authenticate(&t, password(&t, "bo@example.com")).await;
    assert_eq!(again.body["code"], "mfa_challenge", "{}", again.text);
    let factors = again.body["authentication_factors"].as_array().unwrap();
    assert_eq!(factors.len(), 1);
    assert_eq!(factors[0]["type"], "totp");
    let intruder = t.verified_user("eve@example.com", PASSWORD).await;
    let (_, _, foreign) = enroll(&t, &intruder).await;
    let crossed = authenticate(&t, totp(&t, &again.str("pending_authentication_token"), &foreign, "123456")).await;
    assert_eq!(crossed.body["code"], "authentication_challenge_not_found");
    let fresh = t.post(&format!("/auth/factors/{}/challenge", factors[0]["id"].as_str().unwrap()), json!({})).await;
    let second = authenticate(
        &t,
        totp(&t, &again.str("pending_authentication_token"), &fresh.str("id"), &code(&secret, &clock, 1)),
    )
    .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert!(t.event_names().await.contains(&"authentication.mfa_succeeded".to_owned()));
}

#[tokio::test]
async fn a_grace_period_lets_members_in_reminds_them_then_bites() {
    let (t, clock) = spawn().await;
    let org = t.organization("Acme").await;
    let user = t.verified_user("cy@example.com", PASSWORD).await;
    member(&t, &user, &org).await;
    let compliant = t.verified_user("di@example.com", PASSWORD).await;
    member(&t, &compliant, &org).await;
    let (_, secret, challenge) = enroll(&t, &compliant).await;
    assert_eq!(
        t.post(&format!("/auth/challenges/{challenge}/verify"), json!({"code": code(&secret, &clock, 0)})).await.body["valid"],
        true
    );

    let proposal = json!({"mfa": {"required": true, "grace_period_days": 7}});
    let dry = t.post(&format!("/organizations/{org}/policy/dry_run"), proposal.clone()).await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(dry.body["object"], "organization_policy_dry_run");
    assert_eq!((dry.body["member_count"].clone(), dry.body["affected_member_count"].clone()), (json!(2), json!(1)));
    assert_eq!(dry.body["members"][0]["user_id"], user.as_str());
    assert_eq!(dry.body["members"][0]["findings"][0]["rule"], "mfa");
    assert_eq!(
        t.get(&format!("/organizations/{org}/policy")).await.body["mfa"]["required"],
        false,
        "a dry run saves nothing"
    );

    let saved = put_policy(&t, &org, proposal).await;
    let deadline = Timestamp::from_unix_ms(START_MS + 7 * DAY_MS).to_string();
    assert_eq!(saved.body["mfa"]["enforced_from"], deadline.as_str());
    let reminder = t.mail_to("cy@example.com", &[]).await;
    assert!(reminder.subject.contains("two-step verification"), "{}", reminder.subject);
    assert!(reminder.text.contains("Acme") && reminder.text.contains(&deadline[..10]), "{}", reminder.text);

    // In the grace period the member signs in without a second factor.
    let inside = authenticate(&t, password(&t, "cy@example.com")).await;
    assert_eq!(inside.status, 200, "{}", inside.text);
    // Saving the same rule again does not move the deadline.
    clock.advance_ms(DAY_MS);
    let inside = authenticate(&t, refresh(&t, &inside.str("refresh_token"))).await;
    assert_eq!(inside.status, 200, "{}", inside.text);
    let resaved = put_policy(&t, &org, json!({"mfa": {"required": true, "grace_period_days": 7}})).await;
    assert_eq!(resaved.body["mfa"]["enforced_from"], deadline.as_str());

    // After the grace: refreshes stop (the SDKs sign the user out on mfa_enrollment) and the
    // next sign-in must enroll.
    clock.advance_ms(6 * DAY_MS);
    let refused = authenticate(&t, refresh(&t, &inside.str("refresh_token"))).await;
    assert_eq!((refused.status, refused.body["error"].clone()), (400, json!("mfa_enrollment")), "{}", refused.text);
    assert_eq!(authenticate(&t, password(&t, "cy@example.com")).await.body["code"], "mfa_enrollment");
    let updated = t.get("/events?events=organization.policy_updated").await;
    let changes: Vec<(Value, Value)> = updated.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["data"]["before"]["mfa"]["required"].clone(), e["data"]["after"]["mfa"]["required"].clone()))
        .collect();
    assert_eq!(changes.len(), 2, "one event per save, with the policy before and after");
    assert!(changes.contains(&(json!(false), json!(true))) && changes.contains(&(json!(true), json!(true))));
}

#[tokio::test]
async fn switching_organizations_must_meet_the_new_organizations_policy() {
    let (t, clock) = spawn().await;
    let strict = t.organization("Strict").await;
    let relaxed = t.organization("Relaxed").await;
    let user = t.verified_user("ed@example.com", PASSWORD).await;
    member(&t, &user, &strict).await;
    member(&t, &user, &relaxed).await;
    put_policy(&t, &strict, json!({"mfa": {"required": true}})).await;

    let choose = authenticate(&t, password(&t, "ed@example.com")).await;
    assert_eq!(choose.body["code"], "organization_selection_required");
    let into_relaxed = authenticate(
        &t,
        json!({"client_id": t.client_id, "client_secret": t.api_key,
            "grant_type": "urn:workos:oauth:grant-type:organization-selection",
            "pending_authentication_token": choose.str("pending_authentication_token"), "organization_id": relaxed}),
    )
    .await;
    assert_eq!(into_relaxed.status, 200, "{}", into_relaxed.text);
    let sid = claims(&t, &into_relaxed.str("access_token")).await["sid"].clone();

    // A session that satisfied the relaxed organization does not unlock the strict one.
    let mut switch = refresh(&t, &into_relaxed.str("refresh_token"));
    switch["organization_id"] = json!(strict);
    let stepped = authenticate(&t, switch).await;
    assert_eq!((stepped.status, stepped.body["code"].clone()), (403, json!("mfa_enrollment")), "{}", stepped.text);
    let (_, secret, challenge) = enroll(&t, &user).await;
    let switched =
        authenticate(&t, totp(&t, &stepped.str("pending_authentication_token"), &challenge, &code(&secret, &clock, 0)))
            .await;
    assert_eq!(switched.status, 200, "{}", switched.text);
    let now = claims(&t, &switched.str("access_token")).await;
    assert_eq!((now["org_id"].clone(), now["sid"].clone()), (json!(strict), sid), "the same session, now in Strict");
    // Having passed the second factor, the session moves freely between the two.
    let mut back = refresh(&t, &switched.str("refresh_token"));
    back["organization_id"] = json!(relaxed);
    let back = authenticate(&t, back).await;
    assert_eq!(back.status, 200, "{}", back.text);
    let mut forth = refresh(&t, &back.str("refresh_token"));
    forth["organization_id"] = json!(strict);
    assert_eq!(authenticate(&t, forth).await.status, 200);
}

#[tokio::test]
async fn an_ip_allowlist_stops_requests_from_elsewhere_except_the_break_glass_account() {
    let (t, _) = spawn().await;
    let org = t.organization("Acme").await;
    let user = t.verified_user("fay@example.com", PASSWORD).await;
    member(&t, &user, &org).await;
    let owner = t.verified_user("owner@example.com", PASSWORD).await;
    member(&t, &owner, &org).await;
    let mut grant = password(&t, "fay@example.com");
    grant["ip_address"] = json!("203.0.113.9");
    let signed_in = authenticate(&t, grant).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    put_policy(&t, &org, json!({"ip_allowlist": ["203.0.113.0/24", "2001:db8::/32"], "break_glass_user_id": owner}))
        .await;

    let mut outside = refresh(&t, &signed_in.str("refresh_token"));
    outside["ip_address"] = json!("198.51.100.7");
    let refused = authenticate(&t, outside).await;
    assert_eq!((refused.status, refused.body["error"].clone()), (400, json!("access_denied")), "{}", refused.text);
    let mut inside = refresh(&t, &signed_in.str("refresh_token"));
    inside["ip_address"] = json!("203.0.113.77");
    assert_eq!(authenticate(&t, inside).await.status, 200, "the refused refresh did not use up the token");

    let mut from_elsewhere = password(&t, "fay@example.com");
    from_elsewhere["ip_address"] = json!("198.51.100.7");
    let denied = authenticate(&t, from_elsewhere).await;
    assert_eq!((denied.status, denied.body["code"].clone()), (403, json!("ip_address_not_allowed")), "{}", denied.text);
    let mut break_glass = password(&t, "owner@example.com");
    break_glass["ip_address"] = json!("198.51.100.7");
    assert_eq!(authenticate(&t, break_glass).await.status, 200, "the break-glass account is not locked out");
}

#[tokio::test]
async fn session_limits_and_sign_in_methods_apply() {
    let (t, clock) = spawn().await;
    let org = t.organization("Acme").await;
    let user = t.verified_user("gus@example.com", PASSWORD).await;
    member(&t, &user, &org).await;
    let signed_in = authenticate(&t, password(&t, "gus@example.com")).await;
    put_policy(&t, &org, json!({"session": {"idle_timeout_seconds": 600, "max_lifetime_seconds": 3600}})).await;
    clock.advance_ms(599_000);
    let kept = authenticate(&t, refresh(&t, &signed_in.str("refresh_token"))).await;
    assert_eq!(kept.status, 200, "{}", kept.text);
    clock.advance_ms(600_000);
    let idle = authenticate(&t, refresh(&t, &kept.str("refresh_token"))).await;
    assert_eq!((idle.status, idle.body["error"].clone()), (400, json!("invalid_grant")), "{}", idle.text);

    put_policy(&t, &org, json!({"allowed_authentication_methods": ["magic_auth"]})).await;
    let refused = authenticate(&t, password(&t, "gus@example.com")).await;
    assert_eq!(refused.status, 403, "{}", refused.text);
    assert_eq!(refused.body["code"], "organization_authentication_methods_required");
    assert_eq!(refused.body["auth_methods"]["magic_auth"], true);
    assert_eq!(refused.body["auth_methods"]["password"], false);
}

#[tokio::test]
async fn enforce_now_ends_the_sessions_a_tightened_policy_rules_out() {
    let (t, clock) = spawn().await;
    let org = t.organization("Acme").await;
    let lax = t.verified_user("hal@example.com", PASSWORD).await;
    member(&t, &lax, &org).await;
    let careful = t.verified_user("ivy@example.com", PASSWORD).await;
    member(&t, &careful, &org).await;
    let lax_session = authenticate(&t, password(&t, "hal@example.com")).await;
    let (_, secret, first) = enroll(&t, &careful).await;
    let verified = t.post(&format!("/auth/challenges/{first}/verify"), json!({"code": code(&secret, &clock, 0)})).await;
    assert_eq!(verified.body["valid"], true);
    let challenged = authenticate(&t, password(&t, "ivy@example.com")).await;
    let factor = challenged.body["authentication_factors"][0]["id"].as_str().unwrap().to_owned();
    let challenge = t.post(&format!("/auth/factors/{factor}/challenge"), json!({})).await.str("id");
    let careful_session = authenticate(
        &t,
        totp(&t, &challenged.str("pending_authentication_token"), &challenge, &code(&secret, &clock, 1)),
    )
    .await;
    assert_eq!(careful_session.status, 200, "{}", careful_session.text);

    let dry = t.post(&format!("/organizations/{org}/policy/dry_run"), json!({"mfa": {"required": true}})).await;
    assert_eq!(dry.body["sessions_ended_by_enforce_now"], 1, "{}", dry.text);
    let saved = put_policy(&t, &org, json!({"mfa": {"required": true}, "enforce_now": true})).await;
    assert_eq!(saved.body["revoked_session_count"], 1);
    let ended = authenticate(&t, refresh(&t, &lax_session.str("refresh_token"))).await;
    assert_eq!(ended.body["error"], "invalid_grant");
    assert_eq!(authenticate(&t, refresh(&t, &careful_session.str("refresh_token"))).await.status, 200);
    let sessions = t.get(&format!("/user_management/users/{lax}/sessions")).await;
    assert_eq!(sessions.body["data"][0]["status"], "revoked");
}

#[tokio::test]
async fn policy_input_is_checked_and_never_loosens_the_environment() {
    let (t, _) = spawn().await;
    let org = t.organization("Acme").await;
    let empty = t.get(&format!("/organizations/{org}/policy")).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.body["created_at"], Value::Null);
    assert_eq!(empty.body["ip_allowlist"], Value::Null);
    let bad = t
        .put(
            &format!("/organizations/{org}/policy"),
            json!({"mfa": {"required": true, "grace_period_days": -1}, "ip_allowlist": ["10.0.0.1/8"],
                "session": {"max_lifetime_seconds": 999_999_999}, "allowed_authentication_methods": ["fax"],
                "break_glass_user_id": "user_nobody"}),
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "mfa.grace_period_days",
            "allowed_authentication_methods[0]",
            "session.max_lifetime_seconds",
            "ip_allowlist[0]",
            "break_glass_user_id"
        ]
    );
    let limit =
        bad.body["errors"].as_array().unwrap().iter().find(|e| e["field"] == "session.max_lifetime_seconds").unwrap();
    assert_eq!(limit["code"], "exceeds_environment_limit");
    let unknown = t.put(&format!("/organizations/{org}/policy"), json!({"require_mfa": true})).await;
    assert_eq!(unknown.status, 422, "unknown fields are named, not ignored: {}", unknown.text);
    let not_bool = t.put(&format!("/organizations/{org}/policy"), json!({"enforce_now": "yes"})).await;
    assert_eq!(not_bool.body["errors"][0]["field"], "enforce_now");
    assert_eq!(
        t.get(&format!("/organizations/{org}/policy")).await.body["created_at"],
        Value::Null,
        "nothing half-written"
    );
    assert_eq!(t.get("/organizations/org_01HZZZZZZZZZZZZZZZZZZZZZZZ/policy").await.status, 404);
}

#[tokio::test]
async fn only_addresses_at_allowed_domains_can_join() {
    let (t, _) = spawn().await;
    let org = t.organization("Acme").await;
    put_policy(&t, &org, json!({"allowed_email_domains": ["acme.com", "Acme.co.uk"]})).await;
    assert_eq!(
        t.get(&format!("/organizations/{org}/policy")).await.body["allowed_email_domains"],
        json!(["acme.co.uk", "acme.com"])
    );
    let outsider = t.verified_user("jo@gmail.com", PASSWORD).await;
    let refused =
        t.post("/user_management/organization_memberships", json!({"user_id": outsider, "organization_id": org})).await;
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert_eq!(refused.body["errors"][0]["code"], "email_domain_not_allowed");
    let invite =
        t.post("/user_management/invitations", json!({"email": "kim@gmail.com", "organization_id": org})).await;
    assert_eq!((invite.status, invite.body["errors"][0]["field"].clone()), (422, json!("email")), "{}", invite.text);
    let insider = t.verified_user("lee@acme.com", PASSWORD).await;
    member(&t, &insider, &org).await;
    let invited =
        t.post("/user_management/invitations", json!({"email": "max@ACME.co.uk", "organization_id": org})).await;
    assert_eq!(invited.status, 201, "{}", invited.text);
}

#[tokio::test]
async fn users_at_a_verified_domain_join_at_sign_in_when_auto_join_is_on() {
    let (t, _) = spawn().await;
    let created = t
        .post("/organizations", json!({"name": "Acme", "domain_data": [{"domain": "acme.com", "state": "verified"}]}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let org = created.str("id");
    let unknown_role =
        t.put(&format!("/organizations/{org}/policy"), json!({"auto_join": {"role_slug": "ghost"}})).await;
    assert_eq!(unknown_role.body["errors"][0]["field"], "auto_join.role_slug", "{}", unknown_role.text);
    let saved = put_policy(&t, &org, json!({"auto_join": {"role_slug": "member"}})).await;
    assert_eq!(saved.body["auto_join"], json!({"role_slug": "member"}));

    let user = t.verified_user("nia@acme.com", PASSWORD).await;
    let signed_in = authenticate(&t, password(&t, "nia@acme.com")).await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    assert_eq!(signed_in.body["organization_id"], org.as_str(), "joined and scoped to Acme");
    let memberships = t.get(&format!("/user_management/organization_memberships?user_id={user}")).await;
    assert_eq!(memberships.body["data"][0]["role"]["slug"], "member");

    // An admin's deactivation sticks; other domains and unverified addresses do not join.
    let id = memberships.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        t.put(&format!("/user_management/organization_memberships/{id}/deactivate"), json!({})).await.status,
        200
    );
    let again = authenticate(&t, password(&t, "nia@acme.com")).await;
    assert!(again.body.get("organization_id").is_none(), "{}", again.text);
    t.verified_user("oz@elsewhere.com", PASSWORD).await;
    assert!(authenticate(&t, password(&t, "oz@elsewhere.com")).await.body.get("organization_id").is_none());
    let unverified = t.post("/user_management/users", json!({"email": "pat@acme.com", "password": PASSWORD})).await;
    assert_eq!(unverified.status, 201);
    assert_eq!(authenticate(&t, password(&t, "pat@acme.com")).await.body["code"], "email_verification_required");
    let listed = t.get(&format!("/user_management/organization_memberships?user_id={}", unverified.str("id"))).await;
    assert_eq!(listed.body["data"], json!([]), "an unproven address joins nothing");
}
