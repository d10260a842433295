//! The hosted sign-in flow over HTTP, as a browser without JavaScript drives it: `/authorize`,
//! the pages, the code back to the app, and the `authorization_code` grant. Plus the security
//! rules each step must keep.

use base64::Engine;
use portico_app::ports::ManualClock;
use portico_domain::Timestamp;
use portico_testkit::{Browser, Page, Response, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Digest;
use std::sync::Arc;

const CALLBACK: &str = "http://localhost:3000/callback";
const PASSWORD: &str = "correct horse battery";
const VERIFIER: &str = "a-verifier-with-enough-entropy-0123456789abcdefghijklmnop";

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

fn authorize_url(t: &TestApp, extra: &str) -> String {
    format!(
        "/user_management/authorize?client_id={}&redirect_uri={CALLBACK}&response_type=code&provider=authkit&state=st4te&code_challenge={}&code_challenge_method=S256{extra}",
        t.client_id,
        challenge(VERIFIER)
    )
}

/// Starts a flow in `browser` and returns the first page's path.
async fn start(t: &TestApp, browser: &mut Browser, extra: &str) -> String {
    let started = browser.get(&authorize_url(t, extra)).await;
    assert_eq!(started.status, 302, "{}", started.html);
    started.location.expect("a first page")
}

/// The code in a redirect to the app, after checking the state came back verbatim.
fn code_from(page: &Page) -> String {
    assert_eq!(page.status, 303, "{}", page.html);
    let location = page.location.clone().expect("a redirect");
    assert!(location.starts_with(&format!("{CALLBACK}?code=")), "{location}");
    assert!(location.ends_with("&state=st4te"), "{location}");
    location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned()
}

async fn exchange(t: &TestApp, body: Value) -> Response {
    t.send(t.raw(Method::POST, "/user_management/authenticate"), Some(body)).await
}

fn public_exchange(t: &TestApp, code: &str, verifier: &str) -> Value {
    json!({"client_id": t.client_id, "grant_type": "authorization_code", "code": code, "code_verifier": verifier})
}

async fn member(t: &TestApp, user: &str, org: &str, role: &str) {
    let m = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org, "role_slug": role}),
        )
        .await;
    assert_eq!(m.status, 201, "{}", m.text);
}

async fn claims(t: &TestApp, token: &str) -> Value {
    serde_json::to_value(portico_app::sessions::verify_access_token(&t.app, token).await.unwrap()).unwrap()
}

#[tokio::test]
async fn sign_up_verify_email_and_come_back_with_a_code() {
    let t = TestApp::spawn().await;
    let mut browser = t.browser();
    assert_eq!(start(&t, &mut browser, "&screen_hint=sign-up").await, "/sign-up");
    let page = browser.get("/sign-up").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("name=\"csrf_token\""));
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));

    // Password rules name the problem and keep what was typed.
    let weak = browser
        .post(
            "/sign-up",
            &[("first_name", "Ada"), ("last_name", "Lovelace"), ("email", "ada@example.com"), ("password", "password")],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(weak.html.contains("too common") && weak.html.contains("value=\"Lovelace\""), "{}", weak.html);

    let signed_up = browser
        .post(
            "/sign-up",
            &[("first_name", "Ada"), ("last_name", "Lovelace"), ("email", "ada@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(signed_up.location.as_deref(), Some("/verify-email"), "{}", signed_up.html);
    let mail = t.mail_to("ada@example.com", &[]).await;
    assert!(!mail.subject.contains(&mail.code()), "codes stay out of subjects");
    assert!(mail.html.contains(&mail.code()));

    // Skipping ahead to the organization choice does not skip the verification, even for an
    // organization the new user belongs to.
    let org = t.organization("Acme").await;
    let users = t.get("/user_management/users?email=ada@example.com").await;
    member(&t, users.body["data"][0]["id"].as_str().unwrap(), &org, "member").await;
    let skipped = browser.post("/choose-organization", &[("organization_id", &org)]).await;
    assert_eq!(skipped.status, 422, "{}", skipped.html);
    assert!(skipped.location.is_none() && skipped.html.contains("Verify your email first"));

    let wrong = browser.post("/verify-email", &[("code", "000000")]).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.html.contains("role=\"alert\"") && wrong.html.contains("The code is incorrect."));

    let code = code_from(&browser.post("/verify-email", &[("code", &mail.code())]).await);
    let issued = exchange(&t, public_exchange(&t, &code, VERIFIER)).await;
    assert_eq!(issued.status, 200, "{}", issued.text);
    assert_eq!(issued.body["user"]["email_verified"], true);
    assert_eq!(issued.body["user"]["first_name"], "Ada");
    assert_eq!(issued.body["authentication_method"], "Password");

    // A replayed code is refused and revokes what its first use issued.
    let replay = exchange(&t, public_exchange(&t, &code, VERIFIER)).await;
    assert_eq!(replay.status, 400);
    assert_eq!(replay.body["error"], "invalid_grant");
    let refresh = exchange(
        &t,
        json!({"client_id": t.client_id, "grant_type": "refresh_token", "refresh_token": issued.str("refresh_token")}),
    )
    .await;
    assert_eq!(refresh.status, 400, "{}", refresh.text);
    assert!(t.event_names().await.iter().any(|e| e == "session.revoked"));
}

#[tokio::test]
async fn authorize_never_redirects_to_an_unknown_client_or_redirect_uri() {
    let t = TestApp::spawn().await;
    let mut browser = t.browser();
    let bad = [
        format!(
            "/user_management/authorize?client_id=client_01ZZZZZZZZZZZZZZZZZZZZZZZZ&redirect_uri={CALLBACK}&response_type=code"
        ),
        format!(
            "/user_management/authorize?client_id={}&redirect_uri=https://evil.example/callback&response_type=code",
            t.client_id
        ),
        format!("/user_management/authorize?client_id={}&redirect_uri={CALLBACK}/more&response_type=code", t.client_id),
        format!(
            "/user_management/authorize?client_id={}&redirect_uri={CALLBACK}%3Fx%3D1&response_type=code",
            t.client_id
        ),
        format!("/user_management/authorize?client_id={}&response_type=code", t.client_id),
        format!("/user_management/authorize?redirect_uri={CALLBACK}&response_type=code"),
    ];
    for url in bad {
        let page = browser.get(&url).await;
        assert_eq!(page.status, 400, "{url}");
        assert!(page.location.is_none(), "{url} must not redirect");
        assert!(page.html.contains("data-error-code="), "{url}: {}", page.html);
    }
    // A trusted redirect URI gets OAuth errors back, with the state.
    for (extra, error) in [
        ("&code_challenge_method=plain", "invalid_request"),
        ("&prompt=none", "login_required"),
        ("&screen_hint=sideways", "invalid_request"),
        ("&provider=GoogleOAuth", "invalid_request"),
    ] {
        let url = authorize_url(&t, extra).replace("&code_challenge_method=S256", "").replace("&provider=authkit", "");
        let url =
            if extra.contains("code_challenge_method") { url } else { format!("{url}&code_challenge_method=S256") };
        let page = browser.get(&url).await;
        assert_eq!(page.status, 302, "{extra}");
        let location = page.location.unwrap();
        assert!(location.starts_with(&format!("{CALLBACK}?error={error}")), "{extra}: {location}");
        assert!(location.ends_with("state=st4te"), "{location}");
    }
    let unsupported = browser.get(&authorize_url(&t, "").replace("response_type=code", "response_type=token")).await;
    assert!(unsupported.location.unwrap().contains("error=unsupported_response_type"));
}

#[tokio::test]
async fn pkce_is_enforced_and_codes_expire() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let t = TestApp::spawn_with(Default::default(), clock.clone()).await;
    t.verified_user("grace@example.com", PASSWORD).await;
    let sign_in = |extra: &'static str| {
        let t = &t;
        async move {
            let mut browser = t.browser();
            start(t, &mut browser, extra).await;
            browser.get("/sign-in").await;
            browser.post("/sign-in", &[("email", "grace@example.com")]).await;
            code_from(&browser.post("/sign-in/password", &[("password", PASSWORD)]).await)
        }
    };
    let code = sign_in("").await;
    let missing =
        exchange(&t, json!({"client_id": t.client_id, "grant_type": "authorization_code", "code": code})).await;
    assert_eq!((missing.status, missing.body["error"].as_str()), (400, Some("invalid_grant")));
    let wrong = exchange(&t, public_exchange(&t, &code, "another-verifier-0123456789-0123456789-0123456789")).await;
    assert_eq!((wrong.status, wrong.body["error"].as_str()), (400, Some("invalid_grant")));

    let code = sign_in("").await;
    clock.advance_ms(10 * 60 * 1000 + 1);
    let expired = exchange(&t, public_exchange(&t, &code, VERIFIER)).await;
    assert_eq!(expired.body["error"], "invalid_grant");
    assert!(expired.text.contains("expired"));

    // Without a challenge, only a confidential client (with the API key) may exchange.
    let mut browser = t.browser();
    let plain = format!(
        "/user_management/authorize?client_id={}&redirect_uri={CALLBACK}&response_type=code&state=st4te",
        t.client_id
    );
    assert_eq!(browser.get(&plain).await.status, 302);
    browser.get("/sign-in").await;
    browser.post("/sign-in", &[("email", "grace@example.com")]).await;
    let code = code_from(&browser.post("/sign-in/password", &[("password", PASSWORD)]).await);
    let public =
        exchange(&t, json!({"client_id": t.client_id, "grant_type": "authorization_code", "code": code})).await;
    assert_eq!((public.status, public.body["error"].as_str()), (401, Some("invalid_client")));
    let confidential = exchange(
        &t,
        json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "authorization_code", "code": code}),
    )
    .await;
    assert_eq!(confidential.status, 200, "{}", confidential.text);
}

#[tokio::test]
async fn every_form_refuses_forged_submissions() {
    let t = TestApp::spawn().await;
    let mut browser = t.browser();
    start(&t, &mut browser, "").await;
    browser.get("/sign-in").await;
    let token = browser.cookies["portico_csrf"].clone();
    for path in [
        "/sign-in",
        "/sign-in/password",
        "/sign-in/code",
        "/sign-in/code/send",
        "/sign-up",
        "/verify-email",
        "/verify-email/resend",
        "/choose-organization",
        "/forgot-password",
        "/reset-password",
    ] {
        let missing = browser.post_raw(path, &[("email", "x@example.com")], "same-origin").await;
        assert_eq!(missing.status, 403, "{path} without a token");
        assert!(missing.html.contains("data-error-code=\"csrf\""), "{path}");
        let wrong = browser.post_raw(path, &[("csrf_token", "A".repeat(43).as_str())], "same-origin").await;
        assert_eq!(wrong.status, 403, "{path} with a wrong token");
        let cross_site = browser.post_raw(path, &[("csrf_token", token.as_str())], "cross-site").await;
        assert_eq!(cross_site.status, 403, "{path} from another site");
    }
    // A browser without the cookie cannot use a token lifted from someone else's page.
    let mut stranger = t.browser();
    let lifted = stranger
        .post_raw("/forgot-password", &[("csrf_token", token.as_str()), ("email", "x@example.com")], "same-origin")
        .await;
    assert_eq!(lifted.status, 403);
}

#[tokio::test]
async fn several_organizations_ask_for_a_choice_and_the_last_one_comes_first() {
    let t = TestApp::spawn().await;
    let user = t.verified_user("lin@example.com", PASSWORD).await;
    let acme = t.organization("Acme").await;
    let globex = t.organization("Globex").await;
    member(&t, &user, &acme, "admin").await;
    member(&t, &user, &globex, "member").await;
    let mut browser = t.browser();
    start(&t, &mut browser, "").await;
    browser.get("/sign-in").await;
    browser.post("/sign-in", &[("email", "lin@example.com")]).await;
    let chosen = browser.post("/sign-in/password", &[("password", PASSWORD)]).await;
    assert_eq!(chosen.location.as_deref(), Some("/choose-organization"));
    let picker = browser.get("/choose-organization").await;
    assert!(picker.html.contains("Acme") && picker.html.contains("Globex") && picker.html.contains("Role: Admin"));
    let outsider = t.organization("Initech").await;
    let refused = browser.post("/choose-organization", &[("organization_id", &outsider)]).await;
    assert_eq!(refused.status, 422, "not a member of Initech");
    let code = code_from(&browser.post("/choose-organization", &[("organization_id", &globex)]).await);
    assert_eq!(browser.cookies.get("portico_last_org"), Some(&globex));
    let issued = exchange(&t, public_exchange(&t, &code, VERIFIER)).await;
    assert_eq!(issued.body["organization_id"], globex.as_str());
    let c = claims(&t, &issued.str("access_token")).await;
    assert_eq!((c["org_id"].as_str(), c["role"].as_str()), (Some(globex.as_str()), Some("member")));

    // Next time, Globex is first and marked.
    start(&t, &mut browser, "").await;
    browser.post("/sign-in", &[("email", "lin@example.com")]).await;
    browser.post("/sign-in/password", &[("password", PASSWORD)]).await;
    let picker = browser.get("/choose-organization").await;
    let globex_at = picker.html.find("Globex").unwrap();
    assert!(globex_at < picker.html.find("Acme").unwrap());
    assert!(picker.html.contains("Last used"));
}

#[tokio::test]
async fn wrong_passwords_and_unknown_emails_get_the_same_answer() {
    let t = TestApp::spawn().await;
    t.verified_user("known@example.com", PASSWORD).await;
    let mut answers = Vec::new();
    for email in ["known@example.com", "nobody@example.com"] {
        let mut browser = t.browser();
        start(&t, &mut browser, "").await;
        browser.get("/sign-in").await;
        let next = browser.post("/sign-in", &[("email", email)]).await;
        assert_eq!(next.location.as_deref(), Some("/sign-in/password"), "the same next page for {email}");
        let refused = browser.post("/sign-in/password", &[("password", "not the password")]).await;
        assert_eq!(refused.status, 400);
        let alert = refused.html.split("role=\"alert\"").nth(1).unwrap().split("</div>").next().unwrap().to_owned();
        answers.push(alert);
    }
    assert_eq!(answers[0], answers[1]);
}

#[tokio::test]
async fn sign_in_with_an_emailed_code() {
    let t = TestApp::spawn().await;
    let user = t.verified_user("mae@example.com", PASSWORD).await;
    let org = t.organization("Acme").await;
    member(&t, &user, &org, "member").await;
    let mut browser = t.browser();
    start(&t, &mut browser, "&login_hint=mae@example.com").await;
    assert!(browser.get("/sign-in").await.html.contains("value=\"mae@example.com\""));
    browser.post("/sign-in", &[("email", "mae@example.com")]).await;
    let sent = browser.post("/sign-in/code/send", &[]).await;
    assert_eq!(sent.location.as_deref(), Some("/sign-in/code"));
    let mail = t.mail_to("mae@example.com", &[]).await;
    let code = code_from(&browser.post("/sign-in/code", &[("code", &mail.code())]).await);
    let issued = exchange(&t, public_exchange(&t, &code, VERIFIER)).await;
    assert_eq!(issued.body["authentication_method"], "MagicAuth");
    assert_eq!(issued.body["organization_id"], org.as_str());
}

#[tokio::test]
async fn forgotten_passwords_are_reset_by_email_without_revealing_accounts() {
    let t = TestApp::spawn().await;
    t.verified_user("reset@example.com", PASSWORD).await;
    let old = exchange(
        &t,
        json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "password", "email": "reset@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!(old.status, 200);
    let mut browser = t.browser();
    browser.get("/forgot-password").await;
    let known = browser.post("/forgot-password", &[("email", "reset@example.com")]).await;
    let unknown = browser.post("/forgot-password", &[("email", "ghost@example.com")]).await;
    assert_eq!(known.status, 200);
    assert_eq!(known.html.replace("reset@example.com", "X"), unknown.html.replace("ghost@example.com", "X"));
    let mail = t.mail_to("reset@example.com", &[]).await;
    let link = mail.link();
    let path = link.trim_start_matches(&t.base_url).to_owned();
    assert!(path.starts_with("/reset-password?token="), "{link}");
    let page = browser.get(&path).await;
    assert_eq!(page.headers["referrer-policy"], "same-origin");
    let token = path.split("token=").nth(1).unwrap().to_owned();
    let weak = browser.post("/reset-password", &[("token", &token), ("new_password", "short")]).await;
    assert_eq!(weak.status, 422);
    let done = browser.post("/reset-password", &[("token", &token), ("new_password", "a brand new passphrase")]).await;
    assert_eq!(done.status, 200, "{}", done.html);
    let again = browser.post("/reset-password", &[("token", &token), ("new_password", "yet another passphrase")]).await;
    assert_eq!(again.status, 400, "a link works once");
    // Whoever held the old session is signed out; the new password works, the old does not.
    let refresh = exchange(
        &t,
        json!({"client_id": t.client_id, "grant_type": "refresh_token", "refresh_token": old.str("refresh_token")}),
    )
    .await;
    assert_eq!(refresh.status, 400);
    let grant = |password: &str| json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "password", "email": "reset@example.com", "password": password});
    assert_eq!(exchange(&t, grant(PASSWORD)).await.status, 400);
    assert_eq!(exchange(&t, grant("a brand new passphrase")).await.status, 200);
}

#[tokio::test]
async fn an_invitation_joins_the_organization_with_its_role() {
    let t = TestApp::spawn().await;
    let org = t.organization("Acme").await;
    let sent = t
        .post(
            "/user_management/invitations",
            json!({"email": "new@example.com", "organization_id": org, "role_slug": "admin"}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    assert_eq!(sent.body["state"], "pending");
    let mail = t.mail_to("new@example.com", &[]).await;
    assert!(mail.text.contains("Acme"));
    let path = mail.link().trim_start_matches(&t.base_url).to_owned();
    let mut browser = t.browser();
    let started = browser.get(&path).await;
    assert_eq!(started.location.as_deref(), Some("/invitation"));
    let page = browser.get("/invitation").await;
    assert!(page.html.contains("Join Acme") && page.html.contains("new@example.com"), "{}", page.html);
    let form = browser.get("/sign-up").await;
    assert!(form.html.contains("value=\"new@example.com\" readonly"));
    // The invited address is fixed: another one typed in is ignored.
    let joined = browser.post("/sign-up", &[("email", "other@example.com"), ("password", PASSWORD)]).await;
    let location = joined.location.clone().unwrap();
    assert!(location.starts_with(&format!("{CALLBACK}?code=")), "the invitation proved the address: {location}");
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap();
    let issued = exchange(
        &t,
        json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "authorization_code", "code": code}),
    )
    .await;
    assert_eq!(issued.status, 200, "{}", issued.text);
    assert_eq!(issued.body["user"]["email"], "new@example.com");
    let c = claims(&t, &issued.str("access_token")).await;
    assert_eq!((c["org_id"].as_str(), c["role"].as_str()), (Some(org.as_str()), Some("admin")));
    let invitation = t.get(&format!("/user_management/invitations/{}", sent.str("id"))).await;
    assert_eq!(invitation.body["state"], "accepted");
    // Used up: the link now shows an error page.
    assert_eq!(t.browser().get(&path).await.status, 400);
}

#[tokio::test]
async fn signing_up_with_a_taken_email_reveals_nothing() {
    let t = TestApp::spawn().await;
    t.verified_user("taken@example.com", PASSWORD).await;
    let mut browser = t.browser();
    start(&t, &mut browser, "&screen_hint=sign-up").await;
    browser.get("/sign-up").await;
    let next = browser.post("/sign-up", &[("email", "taken@example.com"), ("password", "some other passphrase")]).await;
    assert_eq!(next.location.as_deref(), Some("/verify-email"), "the same page as a new address");
    let notice = t.mail_to("taken@example.com", &[]).await;
    assert!(notice.subject.contains("Sign-up attempt"), "{}", notice.subject);
    let guessed = browser.post("/verify-email", &[("code", "123456")]).await;
    assert_eq!(guessed.status, 400);
}

#[tokio::test]
async fn pages_speak_french_when_asked() {
    let t = TestApp::spawn().await;
    let mut browser = t.browser();
    start(&t, &mut browser, "").await;
    let page = browser.get("/sign-in?lang=fr").await;
    assert!(page.html.contains("<html lang=\"fr\">") && page.html.contains("Connexion à Portico"), "{}", page.html);
    assert_eq!(browser.cookies.get("portico_lang").map(String::as_str), Some("fr"));
    assert!(browser.get("/sign-in").await.html.contains("Continuer"), "the choice is remembered");
    let negotiated =
        t.raw(Method::GET, "/forgot-password").header("accept-language", "fr-CA,fr;q=0.9").send().await.unwrap();
    assert!(negotiated.text().await.unwrap().contains("Réinitialiser votre mot de passe"));
}

#[tokio::test]
async fn api_sign_in_asks_for_email_verification_first() {
    let t = TestApp::spawn().await;
    let created =
        t.post("/user_management/users", json!({"email": "unverified@example.com", "password": PASSWORD})).await;
    let grant = json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "password", "email": "unverified@example.com", "password": PASSWORD});
    let step = exchange(&t, grant).await;
    assert_eq!(step.status, 403, "{}", step.text);
    assert_eq!(step.body["code"], "email_verification_required");
    assert_eq!(step.body["email"], "unverified@example.com");
    let verification =
        t.get(&format!("/user_management/email_verification/{}", step.str("email_verification_id"))).await;
    assert_eq!(verification.body["user_id"], created.str("id").as_str());
    let code = verification.str("code");
    let verify = |code: &str| {
        json!({"client_id": t.client_id, "client_secret": t.api_key, "pending_authentication_token": step.str("pending_authentication_token"),
               "grant_type": "urn:workos:oauth:grant-type:email-verification:code", "code": code})
    };
    let wrong = exchange(&t, verify("999999")).await;
    assert_eq!((wrong.status, wrong.body["code"].as_str()), (400, Some("invalid_one_time_code")));
    let user_id = created.str("id");
    let missing = t.post(&format!("/user_management/users/{user_id}/email_verification/confirm"), json!({})).await;
    assert_eq!(missing.status, 422, "{}", missing.text);
    assert_eq!(missing.body["errors"][0]["field"], "code");
    let done = exchange(&t, verify(&code)).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["user"]["email_verified"], true);
    let reused = exchange(&t, verify(&code)).await;
    assert_eq!(reused.status, 400, "the pending token is spent");
}

#[tokio::test]
async fn emailed_codes_are_limited_per_address_and_guesses_per_code() {
    let t = TestApp::spawn().await;
    for attempt in 1..=4 {
        let sent = t.post("/user_management/magic_auth", json!({"email": "limit@example.com"})).await;
        if attempt <= 3 {
            assert_eq!(sent.status, 201, "{}", sent.text);
        } else {
            assert_eq!(sent.status, 429);
            assert!(sent.header("retry-after").is_some());
        }
    }
    let magic = t.post("/user_management/magic_auth", json!({"email": "guess@example.com"})).await;
    let grant = |code: &str| json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "urn:workos:oauth:grant-type:magic-auth:code", "email": "guess@example.com", "code": code});
    for _ in 0..5 {
        assert_eq!(exchange(&t, grant("000000")).await.body["code"], "invalid_one_time_code");
    }
    let exhausted = exchange(&t, grant(&magic.str("code"))).await;
    assert_eq!(exhausted.body["code"], "one_time_code_too_many_attempts", "{}", exhausted.text);
}

#[tokio::test]
async fn browsers_may_call_the_token_endpoint_only_from_allowed_origins() {
    let t = TestApp::spawn().await;
    let added = portico_app::clients::update(
        &t.app,
        &t.client_id,
        portico_app::clients::ClientChanges {
            add_origins: vec!["https://app.example.com".into()],
            ..Default::default()
        },
    )
    .await;
    assert!(added.is_ok());
    for (origin, allowed) in [("https://app.example.com", true), ("https://evil.example.com", false)] {
        let preflight = t
            .raw(Method::OPTIONS, "/user_management/authenticate")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), 204);
        assert_eq!(preflight.headers().get("access-control-allow-origin").is_some(), allowed, "{origin}");
        let refused = t
            .raw(Method::POST, "/user_management/authenticate")
            .header("origin", origin)
            .header("content-type", "application/json")
            .body(json!({"client_id": t.client_id, "grant_type": "refresh_token", "refresh_token": "x"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 400);
        let echoed = refused.headers().get("access-control-allow-origin").map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(echoed.as_deref() == Some(origin), allowed, "{origin}");
    }
}

#[tokio::test]
async fn a_grant_with_an_invitation_token_joins_and_scopes_the_session() {
    let t = TestApp::spawn().await;
    let created = t.post("/user_management/users", json!({"email": "joiner@example.com", "password": PASSWORD})).await;
    let org = t.organization("Acme").await;
    let invitation = t
        .post(
            "/user_management/invitations",
            json!({"email": "joiner@example.com", "organization_id": org, "role_slug": "admin"}),
        )
        .await;
    let other =
        t.post("/user_management/invitations", json!({"email": "someone@example.com", "organization_id": org})).await;
    let grant = |token: &str| {
        json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "password",
               "email": "joiner@example.com", "password": PASSWORD, "invitation_token": token})
    };
    let mismatched = exchange(&t, grant(&other.str("token"))).await;
    assert_eq!((mismatched.status, mismatched.body["error"].as_str()), (400, Some("invitation_invalid")));
    let joined = exchange(&t, grant(&invitation.str("token"))).await;
    assert_eq!(joined.status, 200, "the invitation proves the address: {}", joined.text);
    assert_eq!(joined.body["organization_id"], org.as_str());
    assert_eq!(joined.body["user"]["email_verified"], true);
    let c = claims(&t, &joined.str("access_token")).await;
    assert_eq!(c["role"], "admin");
    let used = exchange(&t, grant(&invitation.str("token"))).await;
    assert_eq!(used.body["error"], "invitation_invalid", "accepted once");
    let memberships = t.get(&format!("/user_management/organization_memberships?user_id={}", created.str("id"))).await;
    assert_eq!(memberships.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_form_from_a_replaced_flow_does_not_finish_the_newer_one() {
    let t = TestApp::spawn().await;
    t.verified_user("tabs@example.com", PASSWORD).await;
    let mut browser = t.browser();
    start(&t, &mut browser, "").await;
    browser.get("/sign-in").await;
    let first_tab_flow = portico_app::authorize::flow_tag(&browser.cookies["portico_flow"]);
    // Another tab starts a new sign-in, which replaces the first in this browser.
    start(&t, &mut browser, "&state=other").await;
    let csrf = browser.cookies["portico_csrf"].clone();
    let stale = browser
        .post_raw(
            "/sign-in",
            &[("csrf_token", &csrf), ("flow", &first_tab_flow), ("email", "tabs@example.com")],
            "same-origin",
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.html.contains("data-error-code=\"flow_replaced\""));
    assert_eq!(
        browser.post("/sign-in", &[("email", "tabs@example.com")]).await.status,
        303,
        "the newest tab carries on"
    );
}

/// The code an authenticator app shows for `secret` (base32), `steps_ahead` steps after `clock`.
fn totp(secret: &str, clock: &ManualClock, steps_ahead: i64) -> String {
    use portico_app::ports::Clock;
    let bytes = portico_crypto::totp::base32_decode(secret).unwrap();
    portico_crypto::totp::code_at_step(
        &bytes,
        portico_crypto::totp::step_at(clock.now().unix_ms() / 1000) + steps_ahead,
    )
}

/// Signs in with a password in a new browser, up to the page after the password.
async fn to_after_password(t: &TestApp, email: &str) -> (Browser, Page) {
    let mut browser = t.browser();
    start(t, &mut browser, "").await;
    browser.get("/sign-in").await;
    browser.post("/sign-in", &[("email", email)]).await;
    let after = browser.post("/sign-in/password", &[("password", PASSWORD)]).await;
    (browser, after)
}

#[tokio::test]
async fn the_hosted_pages_set_up_the_second_factor_and_ask_for_it_next_time() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let t = TestApp::spawn_with(Default::default(), clock.clone()).await;
    let org = t.organization("Acme").await;
    let user = t.verified_user("quin@example.com", PASSWORD).await;
    member(&t, &user, &org, "member").await;
    let saved = t.put(&format!("/organizations/{org}/policy"), json!({"mfa": {"required": true}})).await;
    assert_eq!(saved.status, 200, "{}", saved.text);

    let (mut browser, after) = to_after_password(&t, "quin@example.com").await;
    assert_eq!(after.location.as_deref(), Some("/mfa/setup"), "{}", after.html);
    let setup = browser.get("/mfa/setup").await;
    assert_eq!(setup.status, 200);
    assert!(
        setup.html.contains("<h1>Set up two-step verification</h1>") && setup.html.contains("data:image/png;base64,")
    );
    let key = |html: &str| {
        html.split("id=\"totp-secret\" class=\"secret-key\">")
            .nth(1)
            .unwrap()
            .split("</code>")
            .next()
            .unwrap()
            .replace(' ', "")
    };
    let secret = key(&setup.html);
    assert_eq!(key(&browser.get("/mfa/setup").await.html), secret, "a reload shows the same key");
    let wrong = browser.post("/mfa/setup", &[("code", "000000")]).await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.html.contains("role=\"alert\""));
    assert_eq!(key(&wrong.html), secret);
    let confirmed = browser.post("/mfa/setup", &[("code", &totp(&secret, &clock, 0))]).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.html);
    let recovery: Vec<String> = confirmed
        .html
        .split("<li><code>")
        .skip(1)
        .map(|rest| rest.split("</code>").next().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10, "{}", confirmed.html);
    let code = code_from(&browser.post("/mfa/continue", &[]).await);
    let session = exchange(&t, public_exchange(&t, &code, VERIFIER)).await;
    assert_eq!(session.status, 200, "{}", session.text);
    assert_eq!(claims(&t, &session.str("access_token")).await["org_id"], org.as_str());
    let factors = t.get(&format!("/user_management/users/{user}/auth_factors")).await;
    assert_eq!(factors.body["data"].as_array().unwrap().len(), 1);

    // Next time: the code from the app, or a recovery code, once (typed in capitals, no dashes).
    let (mut browser, after) = to_after_password(&t, "quin@example.com").await;
    assert_eq!(after.location.as_deref(), Some("/mfa/verify"));
    assert!(browser.get("/mfa/verify").await.html.contains("<h1>Two-step verification</h1>"));
    let typed = recovery[0].replace('-', "").to_uppercase();
    let code = code_from(&browser.post("/mfa/verify", &[("code", &typed)]).await);
    assert_eq!(exchange(&t, public_exchange(&t, &code, VERIFIER)).await.status, 200);
    let (mut browser, _) = to_after_password(&t, "quin@example.com").await;
    let reused = browser.post("/mfa/verify", &[("code", &recovery[0])]).await;
    assert_eq!(reused.status, 400, "a recovery code works once");
    let by_app = browser.post("/mfa/verify", &[("code", &totp(&secret, &clock, 1))]).await;
    code_from(&by_app);

    // Without a flow the pages say so; a form from another site is refused.
    assert_eq!(t.browser().get("/mfa/verify").await.status, 400);
    let (mut browser, _) = to_after_password(&t, "quin@example.com").await;
    let csrf = browser.cookies.get("portico_csrf").cloned().unwrap_or_default();
    let forged = browser.post_raw("/mfa/verify", &[("csrf_token", &csrf), ("code", "123456")], "cross-site").await;
    assert_eq!(forged.status, 403);
}

#[tokio::test]
async fn during_a_grace_period_the_hosted_pages_offer_the_set_up() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let t = TestApp::spawn_with(Default::default(), clock.clone()).await;
    let org = t.organization("Acme").await;
    let user = t.verified_user("rae@example.com", PASSWORD).await;
    member(&t, &user, &org, "member").await;
    let policy = json!({"mfa": {"required": true, "grace_period_days": 7}});
    assert_eq!(t.put(&format!("/organizations/{org}/policy"), policy).await.status, 200);

    // "Not now" goes on without a second factor.
    let (mut browser, after) = to_after_password(&t, "rae@example.com").await;
    assert_eq!(after.location.as_deref(), Some("/mfa/soon"), "{}", after.html);
    let soon = browser.get("/mfa/soon").await;
    assert!(soon.html.contains("Acme will require two-step verification to sign in from 2027-01-22."), "{}", soon.html);
    let code = code_from(&browser.post("/mfa/later", &[]).await);
    assert_eq!(exchange(&t, public_exchange(&t, &code, VERIFIER)).await.status, 200);

    // "Set it up now" sets it up and goes on; once set up, the offer is not made again.
    let (mut browser, _) = to_after_password(&t, "rae@example.com").await;
    let setup = browser.get("/mfa/setup").await;
    let secret = setup
        .html
        .split("id=\"totp-secret\" class=\"secret-key\">")
        .nth(1)
        .unwrap()
        .split("</code>")
        .next()
        .unwrap()
        .replace(' ', "");
    assert_eq!(browser.post("/mfa/setup", &[("code", &totp(&secret, &clock, 0))]).await.status, 200);
    let code = code_from(&browser.post("/mfa/continue", &[]).await);
    assert_eq!(exchange(&t, public_exchange(&t, &code, VERIFIER)).await.status, 200);
    let (_, after) = to_after_password(&t, "rae@example.com").await;
    assert_eq!(after.location.as_deref(), Some("/mfa/verify"));
    assert_eq!(t.browser().get("/mfa/soon").await.status, 400, "no flow, no offer");
}
