//! Passkeys on the hosted pages, driven over HTTP with a software authenticator in place of the
//! browser's (the browser tests use Chromium's virtual authenticator): set-up as the second
//! factor an organization requires, sign-in with a passkey, the passkey as the second factor,
//! ceremonies that any node finishes once, the refusals, and the passkeys page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portico_app::ports::ManualClock;
use portico_crypto::webauthn::software::{Asserted, Authenticator, Created};
use portico_domain::Timestamp;
use portico_testkit::{Browser, Page, Response, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Digest;
use std::sync::Arc;

const CALLBACK: &str = "http://localhost:3000/callback";
const PASSWORD: &str = "correct horse battery";
const VERIFIER: &str = "a-verifier-with-enough-entropy-0123456789abcdefghijklmnop";
/// The relying party of the default settings: passkeys for `localhost`, pages at this origin.
const RP_ID: &str = "localhost";
const ORIGIN: &str = "http://localhost:8080";
const START_MS: i64 = 1_800_000_000_000;

async fn spawn() -> (TestApp, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(START_MS)));
    (TestApp::spawn_with(Default::default(), clock.clone()).await, clock)
}

async fn member(t: &TestApp, user: &str, org: &str) {
    let m = t.post("/user_management/organization_memberships", json!({"user_id": user, "organization_id": org})).await;
    assert_eq!(m.status, 201, "{}", m.text);
}

async fn start(t: &TestApp, browser: &mut Browser) {
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(VERIFIER.as_bytes()));
    let started = browser
        .get(&format!(
            "/user_management/authorize?client_id={}&redirect_uri={CALLBACK}&response_type=code&state=st4te&code_challenge={challenge}&code_challenge_method=S256",
            t.client_id
        ))
        .await;
    assert_eq!(started.status, 302, "{}", started.html);
}

async fn password_sign_in(t: &TestApp, browser: &mut Browser, email: &str) -> Page {
    start(t, browser).await;
    let page = browser.post("/sign-in", &[("email", email)]).await;
    assert_eq!(page.location.as_deref(), Some("/sign-in/password"), "{}", page.html);
    browser.post("/sign-in/password", &[("password", PASSWORD)]).await
}

/// Asks the page's flow for a ceremony's options, as the hosted pages' script does.
async fn options(browser: &mut Browser, purpose: &str) -> Value {
    let page = browser.post("/passkeys/options", &[("purpose", purpose)]).await;
    assert_eq!(page.status, 200, "{}", page.html);
    serde_json::from_str(&page.html).unwrap()
}

fn challenge_of(options: &Value) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(options["challenge"].as_str().unwrap()).unwrap()
}

fn created_json(created: &Created) -> String {
    json!({
        "id": URL_SAFE_NO_PAD.encode(&created.credential_id),
        "type": "public-key",
        "clientDataJSON": URL_SAFE_NO_PAD.encode(&created.client_data_json),
        "attestationObject": URL_SAFE_NO_PAD.encode(&created.attestation_object),
        "transports": ["internal", "hybrid"],
    })
    .to_string()
}

fn asserted_json(asserted: &Asserted) -> String {
    json!({
        "id": URL_SAFE_NO_PAD.encode(&asserted.credential_id),
        "type": "public-key",
        "clientDataJSON": URL_SAFE_NO_PAD.encode(&asserted.client_data_json),
        "authenticatorData": URL_SAFE_NO_PAD.encode(&asserted.authenticator_data),
        "signature": URL_SAFE_NO_PAD.encode(&asserted.signature),
        "userHandle": URL_SAFE_NO_PAD.encode(&asserted.user_handle),
    })
    .to_string()
}

/// Registers a passkey on `authenticator` through the page's ceremony, posting to `action`.
async fn register(browser: &mut Browser, authenticator: &mut Authenticator, action: &str) -> Page {
    let options = options(browser, "register").await;
    assert_eq!(options["rp"]["id"], RP_ID);
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    assert_eq!(options["attestation"], "none");
    let user_handle = URL_SAFE_NO_PAD.decode(options["user"]["id"].as_str().unwrap()).unwrap();
    let created = authenticator.create(RP_ID, ORIGIN, &challenge_of(&options), &user_handle);
    browser.post(action, &[("credential", &created_json(&created))]).await
}

/// Signs the page's ceremony for `purpose` with `authenticator` and posts it to `action`.
async fn assert_with(browser: &mut Browser, authenticator: &mut Authenticator, purpose: &str, action: &str) -> Page {
    let options = options(browser, purpose).await;
    let asserted = authenticator.get(RP_ID, ORIGIN, &challenge_of(&options));
    browser.post(action, &[("credential", &asserted_json(&asserted))]).await
}

/// The app's code exchange after the flow came back with a code.
async fn exchange(t: &TestApp, page: &Page) -> Response {
    assert_eq!(page.status, 303, "{}", page.html);
    let location = page.location.clone().unwrap();
    assert!(location.starts_with(&format!("{CALLBACK}?code=")), "{location}");
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let body =
        json!({"client_id": t.client_id, "grant_type": "authorization_code", "code": code, "code_verifier": VERIFIER});
    let exchanged = t.send(t.raw(Method::POST, "/user_management/authenticate"), Some(body)).await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.text);
    exchanged
}

async fn claims(t: &TestApp, token: &str) -> Value {
    serde_json::to_value(portico_app::sessions::verify_access_token(&t.app, token).await.unwrap()).unwrap()
}

async fn require_mfa(t: &TestApp, org: &str) {
    let saved = t.put(&format!("/organizations/{org}/policy"), json!({"mfa": {"required": true}})).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
}

fn refusal_in(page: &Page, text: &str) {
    assert!(page.html.contains(text), "expected {text:?} on the page: {}", page.html);
}

/// The session id in an access token.
async fn session_of(t: &TestApp, exchanged: &Response) -> String {
    claims(t, &exchanged.str("access_token")).await["sid"].as_str().unwrap().to_owned()
}

/// Signs in with the password, then adds a passkey on the passkeys page, as a user who opens
/// it from the app right after signing in.
async fn with_passkey(t: &TestApp, email: &str, authenticator: &mut Authenticator) {
    let mut browser = t.browser();
    let page = password_sign_in(t, &mut browser, email).await;
    let sid = session_of(t, &exchange(t, &page).await).await;
    let link = t
        .post(
            &format!("/user_management/sessions/{sid}/passkey_settings"),
            json!({"client_id": t.client_id, "return_to": "http://localhost:3000/settings"}),
        )
        .await;
    assert_eq!(link.status, 201, "{}", link.text);
    let mut settings = t.browser();
    let opened = settings.get(&link.str("url")).await;
    assert_eq!(opened.location.as_deref(), Some("/passkeys"), "{}", opened.html);
    let added = register(&mut settings, authenticator, "/passkeys/add").await;
    assert_eq!(added.location.as_deref(), Some("/passkeys?done=added"), "{}", added.html);
}

#[tokio::test]
async fn a_passkey_set_up_for_an_mfa_policy_then_signs_in_alone() {
    let (t, _) = spawn().await;
    let org = t.organization("Acme").await;
    let user = t.verified_user("pia@example.com", PASSWORD).await;
    member(&t, &user, &org).await;
    require_mfa(&t, &org).await;

    // The organization requires a second factor: the set-up page offers a passkey.
    let mut browser = t.browser();
    let page = password_sign_in(&t, &mut browser, "pia@example.com").await;
    assert_eq!(page.location.as_deref(), Some("/mfa/setup"), "{}", page.html);
    let setup = browser.get("/mfa/setup").await;
    assert!(setup.html.contains("totp-qr") && setup.html.contains("Use a passkey instead"), "{}", setup.html);
    let mut laptop = Authenticator::es256();
    let done = register(&mut browser, &mut laptop, "/mfa/setup/passkey").await;
    // The authenticator-app enrollment the page started went with the choice of a passkey.
    let factors = t.get(&format!("/user_management/users/{user}/auth_factors")).await;
    assert_eq!(factors.body["data"], json!([]), "{}", factors.text);
    let first = exchange(&t, &done).await;
    assert_eq!(first.body["authentication_method"], "Password");
    assert_eq!(claims(&t, &first.str("access_token")).await["org_id"], json!(org));

    let listed = t.get(&format!("/user_management/users/{user}/passkeys")).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    let passkeys = listed.body["data"].as_array().unwrap();
    assert_eq!(passkeys.len(), 1, "{}", listed.text);
    assert_eq!(passkeys[0]["object"], "passkey");
    assert_eq!(passkeys[0]["synced"], true);
    assert!(passkeys[0]["id"].as_str().unwrap().starts_with("passkey_"));

    // Later: "Sign in with a passkey" on the first page, no email typed, straight into the
    // organization (the passkey verified the user: it is the second factor too).
    let mut later = t.browser();
    start(&t, &mut later).await;
    let signed_in = assert_with(&mut later, &mut laptop, "sign_in", "/sign-in/passkey").await;
    let second = exchange(&t, &signed_in).await;
    assert_eq!(second.body["authentication_method"], "Passkey");
    assert_eq!(second.body["user"]["id"], json!(user));
    assert_eq!(claims(&t, &second.str("access_token")).await["org_id"], json!(org));
    let events = t.event_names().await;
    assert!(events.contains(&"authentication.passkey_succeeded".to_owned()), "{events:?}");
    let used = t.get(&format!("/user_management/users/{user}/passkeys")).await;
    assert!(used.body["data"][0]["last_used_at"].is_string(), "{}", used.text);

    // A password sign-in now asks for the passkey as the second factor.
    let mut third = t.browser();
    let page = password_sign_in(&t, &mut third, "pia@example.com").await;
    assert_eq!(page.location.as_deref(), Some("/mfa/verify"), "{}", page.html);
    let verify = third.get("/mfa/verify").await;
    assert!(verify.html.contains("Use your passkey to finish signing in."), "{}", verify.html);
    let verified = assert_with(&mut third, &mut laptop, "second_factor", "/mfa/passkey").await;
    assert_eq!(exchange(&t, &verified).await.body["authentication_method"], "Password");

    // Over the API there is no browser to use the passkey: the second factor is still owed (an
    // enrollment here would let the password alone add a factor in the passkey's place).
    let api = t
        .send(
            t.raw(Method::POST, "/user_management/authenticate"),
            Some(json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "password",
                "email": "pia@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!((api.status, api.body["code"].clone()), (403, json!("mfa_challenge")), "{}", api.text);
    assert_eq!(api.body["authentication_factors"], json!([]), "{}", api.text);
}

#[tokio::test]
async fn any_node_finishes_a_ceremony_once() {
    let (a, _) = spawn().await;
    let b = a.another_node().await;
    let user = a.verified_user("noa@example.com", PASSWORD).await;
    let mut phone = Authenticator::ed25519();
    with_passkey(&a, "noa@example.com", &mut phone).await;

    // The challenge comes from node A, the answer goes to node B.
    let mut browser = a.browser();
    start(&a, &mut browser).await;
    let signing_in = options(&mut browser, "sign_in").await;
    let asserted = phone.get(RP_ID, ORIGIN, &challenge_of(&signing_in));
    let on_b =
        browser.post(&format!("{}/sign-in/passkey", b.base_url), &[("credential", &asserted_json(&asserted))]).await;
    assert_eq!(exchange(&a, &on_b).await.body["user"]["id"], json!(user));

    // The same answer again, in a new flow: its challenge was used up.
    let mut replay = a.browser();
    start(&a, &mut replay).await;
    let again = replay.post("/sign-in/passkey", &[("credential", &asserted_json(&asserted))]).await;
    assert_eq!(again.status, 400, "{}", again.html);
    refusal_in(&again, "The passkey request expired. Try again.");
    let failed = a.get("/events?events=authentication.passkey_failed").await;
    assert_eq!(failed.body["data"].as_array().unwrap().len(), 1, "a replay is a failed attempt: {}", failed.text);

    // An answer made for the second-factor ceremony does not sign in from the first page.
    let mut mixed = a.browser();
    let page = password_sign_in(&a, &mut mixed, "noa@example.com").await;
    assert_eq!(page.location.as_deref(), Some("/mfa/verify"), "{}", page.html);
    let second = options(&mut mixed, "second_factor").await;
    assert_eq!(second["allowCredentials"].as_array().unwrap().len(), 1);
    let asserted = phone.get(RP_ID, ORIGIN, &challenge_of(&second));
    let wrong_page = mixed.post("/sign-in/passkey", &[("credential", &asserted_json(&asserted))]).await;
    assert_eq!(wrong_page.status, 400, "{}", wrong_page.html);
}

#[tokio::test]
async fn forged_cloned_and_unknown_passkeys_are_refused() {
    let (t, _) = spawn().await;
    let org = t.organization("Acme").await;
    let user = t.verified_user("ida@example.com", PASSWORD).await;
    member(&t, &user, &org).await;
    require_mfa(&t, &org).await;
    let mut key = Authenticator::es256();
    key.counter = Some(0);
    let mut browser = t.browser();
    password_sign_in(&t, &mut browser, "ida@example.com").await;
    exchange(&t, &register(&mut browser, &mut key, "/mfa/setup/passkey").await).await;

    // Another site's page (a phishing origin) asking for this site's passkey.
    let mut phished = t.browser();
    start(&t, &mut phished).await;
    let phishing = options(&mut phished, "sign_in").await;
    let asserted = key.get(RP_ID, "https://login.evil.test", &challenge_of(&phishing));
    let refused = phished.post("/sign-in/passkey", &[("credential", &asserted_json(&asserted))]).await;
    assert_eq!(refused.status, 400, "{}", refused.html);
    refusal_in(&refused, "That passkey could not be used.");
    let failed = t.get("/events?events=authentication.passkey_failed").await;
    let data = &failed.body["data"][0]["data"];
    assert_eq!(
        (data["user_id"].clone(), data["email"].clone()),
        (json!(user), json!("ida@example.com")),
        "{}",
        failed.text
    );
    assert_eq!(data["error"]["code"], "passkey_failed");

    // A passkey that did not verify the user (no PIN or biometric) is not two factors.
    let mut lazy = t.browser();
    start(&t, &mut lazy).await;
    key.verifies_user = false;
    let unverified = assert_with(&mut lazy, &mut key, "sign_in", "/sign-in/passkey").await;
    assert_eq!(unverified.status, 400, "{}", unverified.html);
    key.verifies_user = true;

    // A clone: the counter goes back.
    let mut ok = t.browser();
    start(&t, &mut ok).await;
    exchange(&t, &assert_with(&mut ok, &mut key, "sign_in", "/sign-in/passkey").await).await;
    let mut clone = t.browser();
    start(&t, &mut clone).await;
    key.counter = Some(0);
    let cloned = assert_with(&mut clone, &mut key, "sign_in", "/sign-in/passkey").await;
    assert_eq!(cloned.status, 400, "{}", cloned.html);

    // Garbage in the credential field.
    let mut garbage = t.browser();
    start(&t, &mut garbage).await;
    let page = garbage.post("/sign-in/passkey", &[("credential", "{not json")]).await;
    assert_eq!(page.status, 400, "{}", page.html);

    // A passkey the app's backend removed no longer signs in.
    let listed = t.get(&format!("/user_management/users/{user}/passkeys")).await;
    let id = listed.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(t.delete(&format!("/user_management/passkeys/{id}")).await.status, 202);
    assert_eq!(t.delete(&format!("/user_management/passkeys/{id}")).await.status, 404);
    let mut removed = t.browser();
    start(&t, &mut removed).await;
    key.counter = None;
    let gone = assert_with(&mut removed, &mut key, "sign_in", "/sign-in/passkey").await;
    assert_eq!(gone.status, 400, "{}", gone.html);
    refusal_in(&gone, "This passkey is not registered to an account here.");
}

#[tokio::test]
async fn a_new_factor_never_stands_in_for_the_one_a_user_has() {
    let (t, _) = spawn().await;
    let user = t.verified_user("max@example.com", PASSWORD).await;
    let mut key = Authenticator::es256();
    with_passkey(&t, "max@example.com", &mut key).await;

    // Someone with only the password: the second-factor page, and no way around it by setting
    // up another passkey or an authenticator app.
    let mut attacker = t.browser();
    let page = password_sign_in(&t, &mut attacker, "max@example.com").await;
    assert_eq!(page.location.as_deref(), Some("/mfa/verify"), "{}", page.html);
    let refused = attacker.post("/passkeys/options", &[("purpose", "register")]).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert!(refused.html.contains("second_factor_required"), "{}", refused.html);
    let setup = attacker.get("/mfa/setup").await;
    assert_eq!(setup.location.as_deref(), Some("/mfa/verify"), "{}", setup.html);
    let code = attacker.post("/mfa/setup", &[("code", "123456")]).await;
    assert_eq!(code.location.as_deref(), Some("/mfa/verify"), "{}", code.html);
    // Still at the second factor: nothing was added.
    assert_eq!(t.get(&format!("/user_management/users/{user}/auth_factors")).await.body["data"], json!([]));

    // The options endpoint checks the form's CSRF token and flow like every form.
    let forged = attacker.post_raw("/passkeys/options", &[("purpose", "sign_in")], "same-origin").await;
    assert_eq!(forged.status, 403, "{}", forged.html);
    assert!(forged.html.contains("\"csrf\""), "{}", forged.html);
    let unknown = attacker.post("/passkeys/options", &[("purpose", "everything")]).await;
    assert_eq!(unknown.status, 422, "{}", unknown.html);
}

#[tokio::test]
async fn an_organization_can_refuse_passkeys_as_a_sign_in_method() {
    let (t, _) = spawn().await;
    let org = t.organization("Acme").await;
    let user = t.verified_user("lea@example.com", PASSWORD).await;
    member(&t, &user, &org).await;
    let mut key = Authenticator::es256();
    with_passkey(&t, "lea@example.com", &mut key).await;
    let saved =
        t.put(&format!("/organizations/{org}/policy"), json!({"allowed_authentication_methods": ["password"]})).await;
    assert_eq!(saved.status, 200, "{}", saved.text);

    let mut refused = t.browser();
    start(&t, &mut refused).await;
    let page = assert_with(&mut refused, &mut key, "sign_in", "/sign-in/passkey").await;
    assert_eq!(page.status, 403, "{}", page.html);
    refusal_in(&page, "Your organization’s security policy stops this sign-in");

    let allowed = t
        .put(
            &format!("/organizations/{org}/policy"),
            json!({"allowed_authentication_methods": ["password", "passkey"]}),
        )
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    let mut again = t.browser();
    start(&t, &mut again).await;
    let page = assert_with(&mut again, &mut key, "sign_in", "/sign-in/passkey").await;
    assert_eq!(exchange(&t, &page).await.body["authentication_method"], "Passkey");
}

#[tokio::test]
async fn the_passkeys_page_needs_a_fresh_sign_in_to_change_anything() {
    let (t, clock) = spawn().await;
    let user = t.verified_user("eli@example.com", PASSWORD).await;
    let mut browser = t.browser();
    let page = password_sign_in(&t, &mut browser, "eli@example.com").await;
    let sid = session_of(&t, &exchange(&t, &page).await).await;
    let link_for = |return_to: &str| json!({"client_id": t.client_id, "return_to": return_to});
    let path = format!("/user_management/sessions/{sid}/passkey_settings");

    // return_to must be on the app's origin.
    let elsewhere = t.post(&path, link_for("https://evil.test/")).await;
    assert_eq!(
        (elsewhere.status, elsewhere.body["errors"][0]["field"].clone()),
        (422, json!("return_to")),
        "{}",
        elsewhere.text
    );
    let link = t.post(&path, link_for("http://localhost:3000/settings")).await;
    assert_eq!(link.status, 201, "{}", link.text);
    assert_eq!(link.body["object"], "passkey_settings");

    let mut settings = t.browser();
    let url = link.str("url");
    assert_eq!(settings.get(&url).await.location.as_deref(), Some("/passkeys"));
    let page = settings.get("/passkeys").await;
    assert_eq!(page.status, 200, "{}", page.html);
    assert!(page.html.contains("You have no passkeys yet."), "{}", page.html);
    assert!(page.html.contains("href=\"http://localhost:3000/settings\""), "{}", page.html);
    // The link works once.
    let mut other = t.browser();
    let reused = other.get(&url).await;
    assert_eq!(reused.status, 400, "{}", reused.html);

    // Just signed in: a passkey can be added.
    let mut key = Authenticator::es256();
    let added = register(&mut settings, &mut key, "/passkeys/add").await;
    assert_eq!(added.location.as_deref(), Some("/passkeys?done=added"), "{}", added.html);
    let page = settings.get("/passkeys?done=added").await;
    assert!(page.html.contains("Passkey added."), "{}", page.html);
    let passkey = t.get(&format!("/user_management/users/{user}/passkeys")).await.body["data"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Eleven minutes later, nothing changes without confirming it's the user.
    clock.advance_ms(11 * 60 * 1000);
    let page = settings.get("/passkeys").await;
    assert!(page.html.contains("Confirm it’s you"), "{}", page.html);
    let refused = settings.post("/passkeys/remove", &[("passkey_id", &passkey)]).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    refusal_in(&refused, "Confirm it’s you first");
    let mut second = Authenticator::es256();
    let refused = settings.post("/passkeys/options", &[("purpose", "register")]).await;
    assert_eq!(refused.status, 200, "options are harmless; the registration itself is refused");
    let options: Value = serde_json::from_str(&refused.html).unwrap();
    let created = second.create(RP_ID, ORIGIN, &challenge_of(&options), b"x");
    let refused = settings.post("/passkeys/add", &[("credential", &created_json(&created))]).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    assert_eq!(
        t.get(&format!("/user_management/users/{user}/passkeys")).await.body["data"].as_array().unwrap().len(),
        1
    );

    // A wrong password does not confirm; the passkey does.
    let wrong = settings.post("/passkeys/confirm", &[("password", "not the password")]).await;
    assert_eq!(wrong.status, 400, "{}", wrong.html);
    let confirmed = assert_with(&mut settings, &mut key, "confirm", "/passkeys/confirm").await;
    assert_eq!(confirmed.location.as_deref(), Some("/passkeys?done=confirmed"), "{}", confirmed.html);
    // Someone else's passkey id is not removed; the user's own is.
    let missing = settings.post("/passkeys/remove", &[("passkey_id", "passkey_01JZZZZZZZZZZZZZZZZZZZZZZZ")]).await;
    assert_eq!(missing.status, 422, "{}", missing.html);
    let removed = settings.post("/passkeys/remove", &[("passkey_id", &passkey)]).await;
    assert_eq!(removed.location.as_deref(), Some("/passkeys?done=removed"), "{}", removed.html);
    assert!(
        t.get(&format!("/user_management/users/{user}/passkeys")).await.body["data"].as_array().unwrap().is_empty()
    );

    // Password confirmation works too, later again.
    clock.advance_ms(11 * 60 * 1000);
    let confirmed = settings.post("/passkeys/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.location.as_deref(), Some("/passkeys?done=confirmed"), "{}", confirmed.html);

    // An ended session: no new link, and the open page stops working.
    let revoked = t.post("/user_management/sessions/revoke", json!({"session_id": sid})).await;
    assert!(revoked.status < 300, "{}", revoked.text);
    let ended = t.post(&path, link_for("http://localhost:3000/settings")).await;
    assert_eq!(ended.status, 422, "{}", ended.text);
    let page = settings.get("/passkeys").await;
    assert_eq!(page.status, 400, "{}", page.html);

    // The page's flow never signs anyone in (only sign-in flows end with a code).
    settings.post("/sign-in", &[("email", "eli@example.com")]).await;
    let hijack = settings.post("/sign-in/password", &[("password", PASSWORD)]).await;
    assert_eq!(hijack.status, 422, "{}", hijack.html);
    assert!(hijack.location.is_none());
}

#[tokio::test]
async fn passkey_challenges_are_rate_limited_per_address() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(START_MS)));
    let settings = portico_app::AppSettings {
        code_checks_per_ip: portico_app::rate_limits::Limit { max: 3, window_seconds: 60 },
        ..Default::default()
    };
    let t = TestApp::spawn_with(settings, clock.clone()).await;
    let mut browser = t.browser();
    start(&t, &mut browser).await;
    for _ in 0..3 {
        options(&mut browser, "sign_in").await;
    }
    let limited = browser.post("/passkeys/options", &[("purpose", "sign_in")]).await;
    assert_eq!(limited.status, 429, "{}", limited.html);
    assert!(limited.html.contains("\"rate_limited\""), "{}", limited.html);
    let retry: u64 = limited.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    clock.advance_ms(60_000);
    options(&mut browser, "sign_in").await;
}

/// The code an authenticator app shows for `secret` at the clock's time.
fn totp_code(secret: &str, clock: &ManualClock) -> String {
    use portico_app::ports::Clock;
    let bytes = portico_crypto::totp::base32_decode(secret).unwrap();
    portico_crypto::totp::code_at_step(&bytes, portico_crypto::totp::step_at(clock.now().unix_ms() / 1000))
}

#[tokio::test]
async fn the_passkeys_page_removes_an_authenticator_app_only_after_a_fresh_sign_in() {
    let (t, clock) = spawn().await;
    let user = t.verified_user("ann@example.com", PASSWORD).await;
    let enrolled = t.post(&format!("/user_management/users/{user}/auth_factors"), json!({"type": "totp"})).await;
    assert_eq!(enrolled.status, 201, "{}", enrolled.text);
    let factor = enrolled.body["authentication_factor"]["id"].as_str().unwrap().to_owned();
    let secret = enrolled.body["authentication_factor"]["totp"]["secret"].as_str().unwrap().to_owned();
    let challenge = enrolled.body["authentication_challenge"]["id"].as_str().unwrap().to_owned();
    let verified =
        t.post(&format!("/auth/challenges/{challenge}/verify"), json!({"code": totp_code(&secret, &clock)})).await;
    assert_eq!(verified.body["valid"], true, "{}", verified.text);
    // Someone else's factor, which this user's page must not remove.
    let other = t.verified_user("bob@example.com", PASSWORD).await;
    let theirs = t.post(&format!("/user_management/users/{other}/auth_factors"), json!({"type": "totp"})).await;
    let theirs = theirs.body["authentication_factor"]["id"].as_str().unwrap().to_owned();

    clock.advance_ms(30_000);
    let mut browser = t.browser();
    let page = password_sign_in(&t, &mut browser, "ann@example.com").await;
    assert_eq!(page.location.as_deref(), Some("/mfa/verify"), "{}", page.html);
    let signed_in = browser.post("/mfa/verify", &[("code", &totp_code(&secret, &clock))]).await;
    let sid = session_of(&t, &exchange(&t, &signed_in).await).await;
    let link = t
        .post(
            &format!("/user_management/sessions/{sid}/passkey_settings"),
            json!({"client_id": t.client_id, "return_to": "http://localhost:3000/settings"}),
        )
        .await;
    let mut settings = t.browser();
    settings.get(&link.str("url")).await;
    let page = settings.get("/passkeys").await;
    assert!(page.html.contains("Authenticator app (Portico)"), "{}", page.html);
    assert!(page.html.contains("/passkeys/remove-app"), "{}", page.html);

    clock.advance_ms(11 * 60 * 1000);
    let page = settings.get("/passkeys").await;
    assert!(!page.html.contains("/passkeys/remove-app"), "no removal offered while not fresh: {}", page.html);
    let refused = settings.post("/passkeys/remove-app", &[("factor_id", &factor)]).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    refusal_in(&refused, "Confirm it’s you first");

    let confirmed = settings.post("/passkeys/confirm", &[("password", PASSWORD)]).await;
    assert_eq!(confirmed.location.as_deref(), Some("/passkeys?done=confirmed"), "{}", confirmed.html);
    let not_theirs = settings.post("/passkeys/remove-app", &[("factor_id", &theirs)]).await;
    assert_eq!(not_theirs.status, 422, "{}", not_theirs.html);
    refusal_in(&not_theirs, "That authenticator app is not on your account.");
    assert_eq!(t.get(&format!("/auth/factors/{theirs}")).await.status, 200);
    let removed = settings.post("/passkeys/remove-app", &[("factor_id", &factor)]).await;
    assert_eq!(removed.location.as_deref(), Some("/passkeys?done=app_removed"), "{}", removed.html);
    let factors = t.get(&format!("/user_management/users/{user}/auth_factors")).await;
    assert_eq!(factors.body["data"], json!([]), "{}", factors.text);
    // Without a second factor, the next sign-in asks for none.
    let mut next = t.browser();
    let page = password_sign_in(&t, &mut next, "ann@example.com").await;
    exchange(&t, &page).await;
}
