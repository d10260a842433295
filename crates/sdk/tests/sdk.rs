//! portico-sdk against a real Portico (sign-in, verification, the axum layer and guards, the
//! sealed cookie with refresh, the management client), and against a JWKS this test controls
//! (forged, expired, not-yet-valid, wrong-kid, `alg: none` and HS256-confusion tokens, key
//! rotation and the refetch limit).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair};
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Request, StatusCode};
use portico_sdk::{
    CookieSessions, ListMemberships, Portico, SendInvitation, Session, TokenError, Tokens, require_org,
    require_permission, require_role,
};
use portico_testkit::TestApp;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";

#[allow(clippy::disallowed_methods)] // tokens are minted for the real clock the SDK reads
fn now_s() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

// ---------------------------------------------------------------------------------------------
// A JWKS this test controls.

struct Issuer {
    keys: Mutex<Vec<(String, Arc<RsaKeyPair>)>>,
    fetches: AtomicUsize,
}

struct FakePortico {
    base_url: String,
    issuer: Arc<Issuer>,
    _server: tokio::task::JoinHandle<()>,
}

fn new_key() -> Arc<RsaKeyPair> {
    Arc::new(RsaKeyPair::generate(KeySize::Rsa2048).unwrap())
}

fn jwk(kid: &str, key: &RsaKeyPair) -> Value {
    let components = PublicKeyComponents::<Vec<u8>>::from(key.public_key());
    json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(&components.n), "e": URL_SAFE_NO_PAD.encode(&components.e)})
}

async fn fake_portico(kid: &str) -> (FakePortico, Arc<RsaKeyPair>) {
    let key = new_key();
    let issuer =
        Arc::new(Issuer { keys: Mutex::new(vec![(kid.to_owned(), key.clone())]), fetches: AtomicUsize::new(0) });
    let served = issuer.clone();
    let app = Router::new().route(
        "/sso/jwks/{client}",
        get(move || {
            let issuer = served.clone();
            async move {
                issuer.fetches.fetch_add(1, Ordering::SeqCst);
                let keys: Vec<Value> = issuer.keys.lock().unwrap().iter().map(|(kid, key)| jwk(kid, key)).collect();
                axum::Json(json!({ "keys": keys }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (FakePortico { base_url, issuer, _server: server }, key)
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn sign_rs256(key: &RsaKeyPair, header: &Value, claims: &Value) -> String {
    let signed = format!("{}.{}", b64(header), b64(claims));
    let mut signature = vec![0u8; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &aws_lc_rs::rand::SystemRandom::new(), signed.as_bytes(), &mut signature).unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn mint(key: &RsaKeyPair, kid: &str, claims: Value) -> String {
    sign_rs256(key, &json!({"alg": "RS256", "kid": kid, "typ": "JWT"}), &claims)
}

fn claims() -> Value {
    let now = now_s();
    json!({"sub": "user_01TEST", "sid": "session_01TEST", "jti": "01TEST", "iat": now, "exp": now + 300,
        "org_id": "org_01TEST", "role": "member", "roles": ["member"], "permissions": ["posts:read"]})
}

fn client(fake: &FakePortico) -> Portico {
    Portico::builder(&fake.base_url, "client_01TEST").build().unwrap()
}

#[tokio::test]
async fn a_genuine_token_verifies_into_a_session() {
    let (fake, key) = fake_portico("k1").await;
    let portico = client(&fake);
    let mut body = claims();
    body["act"] = json!({"sub": "support@example.com"});
    let session = portico.verify(&mint(&key, "k1", body)).await.unwrap();
    assert_eq!(session.user_id, "user_01TEST");
    assert_eq!(session.session_id, "session_01TEST");
    assert_eq!(session.organization_id.as_deref(), Some("org_01TEST"));
    assert_eq!(session.role.as_deref(), Some("member"));
    assert_eq!(session.permissions, vec!["posts:read"]);
    assert_eq!(session.impersonator.as_deref(), Some("support@example.com"));
    assert!(session.has_permission("posts:read") && !session.has_permission("posts:write"));
    // The keys are cached: more tokens, no more fetches, and the cached path needs no network.
    for _ in 0..20 {
        portico.verify(&mint(&key, "k1", claims())).await.unwrap();
    }
    assert!(portico.verify_cached(&mint(&key, "k1", claims())).is_ok());
    assert_eq!(fake.issuer.fetches.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn forged_expired_early_and_confused_tokens_are_refused() {
    let (fake, key) = fake_portico("k1").await;
    let portico = client(&fake);
    let now = now_s();

    // Signed by another key under the genuine kid.
    let forged = mint(&new_key(), "k1", claims());
    assert_eq!(portico.verify(&forged).await, Err(TokenError::BadSignature));
    // A genuine signature over changed claims.
    let genuine = mint(&key, "k1", claims());
    let parts: Vec<&str> = genuine.split('.').collect();
    let mut elevated = claims();
    elevated["permissions"] = json!(["posts:read", "admin:everything"]);
    let tampered = format!("{}.{}.{}", parts[0], b64(&elevated), parts[2]);
    assert_eq!(portico.verify(&tampered).await, Err(TokenError::BadSignature));

    let mut expired = claims();
    expired["exp"] = json!(now - 1);
    assert_eq!(portico.verify(&mint(&key, "k1", expired.clone())).await, Err(TokenError::Expired));
    let lenient = Portico::builder(&fake.base_url, "client_01TEST").leeway(Duration::from_secs(30)).build().unwrap();
    assert!(lenient.verify(&mint(&key, "k1", expired)).await.is_ok(), "leeway covers a second of skew");

    let mut early = claims();
    early["nbf"] = json!(now + 120);
    assert_eq!(portico.verify(&mint(&key, "k1", early)).await, Err(TokenError::NotYetValid));
    let mut future_iat = claims();
    future_iat["iat"] = json!(now + 120);
    assert_eq!(portico.verify(&mint(&key, "k1", future_iat)).await, Err(TokenError::NotYetValid));

    // alg: none, with and without a signature.
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "kid": "k1"})), b64(&claims()));
    assert_eq!(portico.verify(&none).await, Err(TokenError::UnsupportedAlgorithm("none".into())));
    // HS256 keyed with the public key (the classic confusion attack).
    let public_der = PublicKeyComponents::<Vec<u8>>::from(key.public_key());
    let hmac_key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &public_der.n);
    let signed = format!("{}.{}", b64(&json!({"alg": "HS256", "kid": "k1"})), b64(&claims()));
    let tag = aws_lc_rs::hmac::sign(&hmac_key, signed.as_bytes());
    let confused = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    assert_eq!(portico.verify(&confused).await, Err(TokenError::UnsupportedAlgorithm("HS256".into())));
    // RS384 or a lower-case alg are not RS256 either.
    let rs384 = sign_rs256(&key, &json!({"alg": "rs256", "kid": "k1"}), &claims());
    assert!(matches!(portico.verify(&rs384).await, Err(TokenError::UnsupportedAlgorithm(_))));

    // No kid, unknown kid, critical extensions, garbage.
    let no_kid = sign_rs256(&key, &json!({"alg": "RS256"}), &claims());
    assert_eq!(portico.verify(&no_kid).await, Err(TokenError::MissingKeyId));
    let crit = sign_rs256(&key, &json!({"alg": "RS256", "kid": "k1", "crit": ["exp"]}), &claims());
    assert_eq!(portico.verify(&crit).await, Err(TokenError::Malformed));
    assert_eq!(portico.verify(&mint(&key, "k9", claims())).await, Err(TokenError::UnknownKey("k9".into())));
    for garbage in ["", "a.b", "a.b.c.d", "!!!.???.***", "eyJhbGciOiJSUzI1NiJ9.e30"] {
        assert!(portico.verify(garbage).await.is_err(), "{garbage}");
    }
    // Missing required claims.
    let no_sid = mint(&key, "k1", json!({"sub": "user_1", "exp": now + 60}));
    assert_eq!(portico.verify(&no_sid).await, Err(TokenError::Malformed));

    // An issuer, when configured, must match.
    let strict = Portico::builder(&fake.base_url, "client_01TEST").issuer("https://auth.example.com").build().unwrap();
    let mut issued = claims();
    issued["iss"] = json!("https://evil.example.com");
    assert!(matches!(strict.verify(&mint(&key, "k1", issued)).await, Err(TokenError::WrongIssuer(_))));
    let mut right = claims();
    right["iss"] = json!("https://auth.example.com");
    assert!(strict.verify(&mint(&key, "k1", right)).await.is_ok());
}

#[tokio::test]
async fn rotated_keys_are_fetched_once_and_unknown_kids_cannot_flood_the_jwks() {
    let (fake, old) = fake_portico("k1").await;
    let portico = Portico::builder(&fake.base_url, "client_01TEST")
        .jwks_refetch_interval(Duration::from_millis(300))
        .build()
        .unwrap();
    portico.verify(&mint(&old, "k1", claims())).await.unwrap();
    assert_eq!(fake.issuer.fetches.load(Ordering::SeqCst), 1);

    // Made-up kids: one fetch per interval, however many tokens.
    let attacker = new_key();
    let floods: Vec<_> = (0..50).map(|i| mint(&attacker, &format!("bogus{i}"), claims())).collect();
    for token in &floods {
        assert!(matches!(portico.verify(token).await, Err(TokenError::UnknownKey(_))));
    }
    assert!(fake.issuer.fetches.load(Ordering::SeqCst) <= 2, "{}", fake.issuer.fetches.load(Ordering::SeqCst));

    // Portico rotates: publishes k2 beside k1 and signs with k2.
    tokio::time::sleep(Duration::from_millis(350)).await;
    let new = new_key();
    fake.issuer.keys.lock().unwrap().push(("k2".into(), new.clone()));
    let before = fake.issuer.fetches.load(Ordering::SeqCst);
    let concurrent: Vec<_> = (0..8).map(|_| mint(&new, "k2", claims())).collect();
    let results = portico_testkit::join_all(concurrent.iter().map(|t| portico.verify(t))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(fake.issuer.fetches.load(Ordering::SeqCst), before + 1, "one fetch for all waiting requests");
    // Old tokens still verify while the old key is published; once it is withdrawn and the
    // keys are fetched again, they do not.
    assert!(portico.verify(&mint(&old, "k1", claims())).await.is_ok());
    fake.issuer.keys.lock().unwrap().retain(|(kid, _)| kid == "k2");
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert!(portico.verify(&mint(&new, "k3-unknown", claims())).await.is_err(), "triggers a fetch");
    assert_eq!(portico.verify(&mint(&old, "k1", claims())).await, Err(TokenError::UnknownKey("k1".into())));
}

#[tokio::test]
async fn an_unreachable_portico_does_not_sign_cookie_users_out() {
    let portico = Portico::new("http://127.0.0.1:9", "client_01TEST").unwrap();
    let cookies = CookieSessions::new(b"0123456789abcdef0123456789abcdef").unwrap();
    let router = Router::new()
        .route("/", get(|s: Session| async move { s.user_id }))
        .layer(portico.cookie_layer(cookies.clone()));
    let sealed = cookies.seal(&Tokens { access_token: mint(&new_key(), "k1", claims()), refresh_token: "r".into() });
    let request = Request::get("/").header("cookie", format!("portico_session={sealed}")).body(Body::empty()).unwrap();
    let response = router.oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers().get("set-cookie").is_none(), "the cookie is kept for when Portico is back");
}

#[tokio::test]
async fn an_unreachable_jwks_is_an_error_not_a_pass() {
    let portico = Portico::new("http://127.0.0.1:9", "client_01TEST").unwrap();
    let token = mint(&new_key(), "k1", claims());
    assert!(matches!(portico.verify(&token).await, Err(TokenError::Keys(_))));
    assert!(Portico::new("not a url", "client_01TEST").is_err());
    assert!(Portico::new("ftp://example.com", "client_01TEST").is_err());
    assert!(Portico::new("http://localhost:8080", "nope").is_err());
}

// ---------------------------------------------------------------------------------------------
// Against a real Portico.

/// A user with `PASSWORD` whose email is verified; returns their id.
async fn verified_user(t: &TestApp, email: &str) -> String {
    let created =
        t.post("/user_management/users", json!({"email": email, "password": PASSWORD, "email_verified": true})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    created.str("id")
}

/// The password grant with the API key, as a server-side app signs someone in.
async fn password_sign_in(t: &TestApp, email: &str) -> portico_testkit::Response {
    t.send(
        t.raw(reqwest::Method::POST, "/user_management/authenticate"),
        Some(json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "password",
            "email": email, "password": PASSWORD})),
    )
    .await
}

/// An org with `posts:read`/`posts:write`, a user who is `writer` there, signed in.
struct Signed {
    t: TestApp,
    portico: Portico,
    org: String,
    user: String,
    access_token: String,
    refresh_token: String,
}

async fn signed_in_writer() -> Signed {
    let t = TestApp::spawn().await;
    for slug in ["posts:read", "posts:write"] {
        assert_eq!(t.post("/authorization/permissions", json!({"slug": slug, "name": slug})).await.status, 201);
    }
    assert_eq!(t.post("/authorization/roles", json!({"slug": "writer", "name": "Writer"})).await.status, 201);
    let set =
        t.put("/authorization/roles/writer/permissions", json!({"permissions": ["posts:read", "posts:write"]})).await;
    assert_eq!(set.status, 200);
    let org = t.organization("Acme").await;
    let user = verified_user(&t, "ada@example.com").await;
    let m = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org, "role_slug": "writer"}),
        )
        .await;
    assert_eq!(m.status, 201);
    let signed = password_sign_in(&t, "ada@example.com").await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    let portico =
        Portico::builder(&t.base_url, &t.client_id).api_key(&t.api_key).issuer(t.base_url.clone()).build().unwrap();
    Signed {
        access_token: signed.str("access_token"),
        refresh_token: signed.str("refresh_token"),
        portico,
        org,
        user,
        t,
    }
}

fn app(portico: &Portico) -> Router {
    Router::new()
        .route("/posts", get(|s: Session| async move { s.user_id }).route_layer(require_permission("posts:write")))
        .route("/admin", get(|| async { "admin" }).route_layer(require_role("admin")))
        .route("/org", get(|| async { "org" }).route_layer(require_org()))
        .route("/maybe", get(|s: Option<Session>| async move { s.map(|s| s.user_id).unwrap_or("anonymous".into()) }))
        .layer(portico.layer())
}

async fn call(router: &Router, path: &str, token: Option<&str>) -> (StatusCode, Value, String) {
    let mut request = Request::get(path);
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    let www = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(&bytes)));
    (status, body, www)
}

#[tokio::test]
async fn guards_let_through_what_the_token_permits_and_explain_the_rest() {
    let s = signed_in_writer().await;
    let router = app(&s.portico);
    let (status, body, _) = call(&router, "/posts", Some(&s.access_token)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!(s.user));
    let (status, body, _) = call(&router, "/org", Some(&s.access_token)).await;
    assert_eq!((status, body), (StatusCode::OK, json!("org")));

    let (status, body, _) = call(&router, "/admin", Some(&s.access_token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"], "forbidden");
    assert_eq!(body["required_role"], "admin");
    assert!(body["reason"].as_str().unwrap().contains("admin"));

    for token in [None, Some("garbage"), Some(&s.access_token[..s.access_token.len() - 4])] {
        let (status, body, www) = call(&router, "/posts", token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{token:?}");
        assert_eq!(body["error"], "unauthenticated");
        assert!(!body["reason"].as_str().unwrap().is_empty());
        assert_eq!(www, "Bearer");
    }
    let (_, body, _) = call(&router, "/maybe", None).await;
    assert_eq!(body, json!("anonymous"));
    let (_, body, _) = call(&router, "/maybe", Some(&s.access_token)).await;
    assert_eq!(body, json!(s.user));

    // The permission is gone from the role: the check API says so at once; new tokens lack it.
    let api = s.portico.management().unwrap();
    let membership = api.list_memberships(&ListMemberships::organization(&s.org)).await.unwrap().data.remove(0);
    let session = s.portico.verify(&s.access_token).await.unwrap();
    assert!(api.check_permission(&membership.id, "posts:write").await.unwrap());
    assert!(api.session_has_permission(&session, "posts:write").await.unwrap());
    assert_eq!(s.t.delete("/authorization/roles/writer/permissions/posts:write").await.status, 200);
    assert!(!api.check_permission(&membership.id, "posts:write").await.unwrap());
    assert!(!api.session_has_permission(&session, "posts:write").await.unwrap(), "the token still says yes");
    assert!(session.has_permission("posts:write"));
    let outside = Session { organization_id: None, ..session.clone() };
    assert!(!api.session_has_permission(&outside, "posts:read").await.unwrap());
    let debug =
        format!("{:?} {:?}", s.portico, Tokens { access_token: s.access_token.clone(), refresh_token: "r".into() });
    assert!(
        !debug.contains(&s.access_token) && !debug.contains(&s.t.api_key),
        "Debug never shows credentials: {debug}"
    );
    let answers = api.check_permissions(&membership.id, &["posts:read", "posts:write"]).await.unwrap();
    assert_eq!(answers.iter().map(|a| a.authorized).collect::<Vec<_>>(), vec![true, false]);
    let refreshed = s.portico.refresh(&s.refresh_token).await.unwrap();
    let (status, body, _) = call(&router, "/posts", Some(&refreshed.access_token)).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["required_permission"], "posts:write");
    // Without the layer, the extractor says so instead of letting anyone in.
    let bare = Router::new().route("/x", get(|s: Session| async move { s.user_id }));
    assert_eq!(call(&bare, "/x", Some(&s.access_token)).await.0, StatusCode::INTERNAL_SERVER_ERROR);
}

#[tokio::test]
async fn switching_organization_and_signing_out_through_the_sdk() {
    let s = signed_in_writer().await;
    let second = s.t.organization("Globex").await;
    let api = s.portico.management().unwrap();
    api.create_membership(&s.user, &second, Some("member")).await.unwrap();
    let switched = s.portico.switch_organization(&s.refresh_token, &second).await.unwrap();
    assert_eq!(switched.session.organization_id.as_deref(), Some(second.as_str()));
    assert_eq!(switched.session.role.as_deref(), Some("member"));
    assert!(switched.session.permissions.is_empty());
    assert_eq!(switched.organization_id.as_deref(), Some(second.as_str()));
    let refused = s.portico.switch_organization(&switched.refresh_token, "org_01HZZZZZZZZZZZZZZZZZZZZZZZ").await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.status(), Some(400));
    assert_eq!(refused.code(), Some("organization_membership_not_found"));
    let url = s
        .portico
        .organization_switch_url(&switched.session.session_id, "http://localhost:3000/callback", "st", None)
        .await
        .unwrap();
    assert!(url.starts_with(&format!("{}/switch-organization?token=", s.t.base_url)));
    let bad =
        s.portico.organization_switch_url(&switched.session.session_id, "http://evil.example/cb", "st", None).await;
    assert_eq!(bad.unwrap_err().code(), Some("invalid_request_parameters"));
    let logout = s.portico.logout_url(&switched.session.session_id, Some("http://localhost:3000/"));
    assert!(logout.contains("session_id=session_") && logout.contains("return_to=http%3A%2F%2Flocalhost%3A3000%2F"));
    let no_key = Portico::new(&s.t.base_url, &s.t.client_id).unwrap();
    assert!(matches!(no_key.management(), Err(portico_sdk::Error::Config(_))));
}

#[tokio::test]
async fn passkeys_page_links_and_the_users_passkeys() {
    let s = signed_in_writer().await;
    let sid = s.portico.verify(&s.access_token).await.unwrap().session_id;
    let url = s.portico.passkeys_url(&sid, "http://localhost:3000/settings").await.unwrap();
    assert!(url.starts_with(&format!("{}/passkeys?token=", s.t.base_url)), "{url}");
    let elsewhere = s.portico.passkeys_url(&sid, "https://evil.example/settings").await.unwrap_err();
    assert_eq!((elsewhere.status(), elsewhere.code()), (Some(422), Some("invalid_request_parameters")));

    // The user adds a passkey on the page the link opens (a software authenticator stands in
    // for the browser's), and the management client reads it back.
    let mut browser = s.t.browser();
    assert_eq!(browser.get(&url).await.location.as_deref(), Some("/passkeys"));
    let options = browser.post("/passkeys/options", &[("purpose", "register")]).await;
    let options: Value = serde_json::from_str(&options.html).unwrap();
    let challenge = URL_SAFE_NO_PAD.decode(options["challenge"].as_str().unwrap()).unwrap();
    let mut authenticator = portico_crypto::webauthn::software::Authenticator::es256();
    let created = authenticator.create("localhost", "http://localhost:8080", &challenge, s.user.as_bytes());
    let credential = json!({
        "id": URL_SAFE_NO_PAD.encode(&created.credential_id),
        "clientDataJSON": URL_SAFE_NO_PAD.encode(&created.client_data_json),
        "attestationObject": URL_SAFE_NO_PAD.encode(&created.attestation_object),
    });
    let added = browser.post("/passkeys/add", &[("credential", &credential.to_string())]).await;
    assert_eq!(added.location.as_deref(), Some("/passkeys?done=added"), "{}", added.html);

    let api = s.portico.management().unwrap();
    let passkeys = api.list_passkeys(&s.user).await.unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(
        (passkeys[0].user_id.as_str(), passkeys[0].synced, passkeys[0].last_used_at.as_deref()),
        (s.user.as_str(), true, None)
    );
    assert!(passkeys[0].id.starts_with("passkey_"));
    api.delete_passkey(&passkeys[0].id).await.unwrap();
    assert!(api.list_passkeys(&s.user).await.unwrap().is_empty());
    assert_eq!(api.delete_passkey(&passkeys[0].id).await.unwrap_err().status(), Some(404));
}

#[tokio::test]
async fn the_management_client_runs_a_members_page() {
    let s = signed_in_writer().await;
    let api = s.portico.management().unwrap();
    let org = api.get_organization(&s.org).await.unwrap();
    assert_eq!(org.name, "Acme");
    let roles = api.list_organization_roles(&s.org).await.unwrap();
    assert!(roles.iter().any(|r| r.slug == "writer" && r.permissions.contains(&"posts:write".to_owned())));
    let invitation = api
        .send_invitation(&SendInvitation::new("grace@example.com").organization(&s.org).role("member").inviter(&s.user))
        .await
        .unwrap();
    assert_eq!(invitation.state, "pending");
    assert_eq!(invitation.role_slug.as_deref(), Some("member"));
    let pending = api.list_invitations(&s.org).await.unwrap();
    assert_eq!(pending.data.len(), 1);
    assert_eq!(api.revoke_invitation(&invitation.id).await.unwrap().state, "revoked");
    let bad = api.send_invitation(&SendInvitation::new("not-an-email").organization(&s.org)).await.unwrap_err();
    assert_eq!(bad.status(), Some(422));

    let grace =
        s.t.post("/user_management/users", json!({"email": "grace@example.com", "email_verified": true}))
            .await
            .str("id");
    let created = api.create_membership(&grace, &s.org, None).await.unwrap();
    assert_eq!(created.role.slug, "member");
    let promoted = api.update_membership_role(&created.id, "writer").await.unwrap();
    assert_eq!(promoted.role.slug, "writer");
    let members = api.list_memberships(&ListMemberships::organization(&s.org).limit(10)).await.unwrap();
    let emails: Vec<String> = members.data.iter().filter_map(|m| m.user.as_ref().map(|u| u.email.clone())).collect();
    assert_eq!(members.data.len(), 2);
    assert!(emails.contains(&"grace@example.com".to_owned()));
    api.delete_membership(&created.id).await.unwrap();
    assert_eq!(api.get_membership(&created.id).await.unwrap_err().status(), Some(404));
    assert_eq!(api.find_user_by_email("grace@example.com").await.unwrap().unwrap().id, grace);
    assert!(api.find_user_by_email("nobody@example.com").await.unwrap().is_none());
}

#[tokio::test]
async fn the_management_client_previews_and_sets_an_organization_policy() {
    use portico_sdk::PolicyChange;
    let s = signed_in_writer().await;
    let api = s.portico.management().unwrap();
    let off = api.organization_policy(&s.org).await.unwrap();
    assert!(!off.mfa.required && off.updated_at.is_none() && off.ip_allowlist.is_none());

    let change =
        PolicyChange::new().require_mfa(7).idle_timeout(3600).ip_allowlist(["127.0.0.0/8"]).break_glass(&s.user);
    let report = api.dry_run_organization_policy(&s.org, &change).await.unwrap();
    assert_eq!((report.member_count, report.affected_member_count), (1, 1));
    assert_eq!(report.members[0].user_id, s.user);
    assert_eq!(report.members[0].findings[0].rule, "mfa");
    let saved = api.set_organization_policy(&s.org, &change).await.unwrap();
    assert!(saved.mfa.required && saved.mfa.enforced_from.is_some());
    assert_eq!(saved.session.idle_timeout_seconds, Some(3600));
    assert_eq!(saved.break_glass_user_id.as_deref(), Some(s.user.as_str()));
    assert_eq!(saved.revoked_session_count, Some(0));
    assert_eq!(api.organization_policy(&s.org).await.unwrap().ip_allowlist, Some(vec!["127.0.0.0/8".to_owned()]));

    // A looser limit than the environment allows is refused, naming the field.
    let refused =
        api.set_organization_policy(&s.org, &PolicyChange::new().max_session_lifetime(u64::from(u32::MAX))).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.status(), Some(422));
    assert_eq!(refused.code(), Some("invalid_request_parameters"));

    // Enforce now: MFA without grace ends the writer's session, which passed no second factor.
    let ended = api.set_organization_policy(&s.org, &PolicyChange::new().require_mfa(0).enforce_now()).await.unwrap();
    assert_eq!(ended.revoked_session_count, Some(1));
    assert_eq!(s.portico.refresh(&s.refresh_token).await.unwrap_err().code(), Some("invalid_grant"));
}

#[tokio::test]
async fn the_cookie_layer_refreshes_an_expired_access_token_and_clears_an_ended_session() {
    use portico_app::ports::ManualClock;
    use portico_domain::Timestamp;
    // Portico's clock starts ten minutes ago, so the first access token has already expired by
    // the wall clock the SDK checks it against.
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms((now_s() - 600) * 1000)));
    let t = TestApp::spawn_with(portico_app::AppSettings::default(), clock.clone()).await;
    let org = t.organization("Acme").await;
    let user = verified_user(&t, "ada@example.com").await;
    t.post("/user_management/organization_memberships", json!({"user_id": user, "organization_id": org})).await;
    let signed = password_sign_in(&t, "ada@example.com").await;
    assert_eq!(signed.status, 200, "{}", signed.text);
    clock.advance_ms(600_000);
    let portico = Portico::new(&t.base_url, &t.client_id).unwrap();
    assert_eq!(portico.verify(&signed.str("access_token")).await, Err(TokenError::Expired));

    let cookies = CookieSessions::new(b"0123456789abcdef0123456789abcdef").unwrap().secure(false);
    let router = Router::new()
        .route("/", get(|s: Session| async move { s.user_id }).route_layer(require_org()))
        .layer(portico.cookie_layer(cookies.clone()));
    let sealed =
        cookies.seal(&Tokens { access_token: signed.str("access_token"), refresh_token: signed.str("refresh_token") });
    let request = |value: &str| {
        Request::get("/").header("cookie", format!("other=1; portico_session={value}")).body(Body::empty()).unwrap()
    };
    let response = router.clone().oneshot(request(&sealed)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let set_cookie = response.headers().get("set-cookie").expect("a refreshed cookie").to_str().unwrap().to_owned();
    assert!(
        set_cookie.starts_with("portico_session=")
            && set_cookie.contains("HttpOnly")
            && set_cookie.contains("SameSite=Lax")
    );
    let refreshed_value = set_cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let tokens = cookies.unseal(&refreshed_value).unwrap();
    assert_ne!(tokens.refresh_token, signed.str("refresh_token"), "rotated");
    // The new cookie works without another refresh.
    let again = router.clone().oneshot(request(&refreshed_value)).await.unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert!(again.headers().get("set-cookie").is_none());

    // A cookie sealed by another key, or altered, is nobody.
    let stranger = CookieSessions::new(b"another secret of thirty-two bytes!!").unwrap();
    let foreign = stranger.seal(&tokens);
    assert_eq!(router.clone().oneshot(request(&foreign)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    let mut altered = refreshed_value.clone().into_bytes();
    let last = altered.len() - 5;
    altered[last] = if altered[last] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    assert_eq!(router.clone().oneshot(request(&altered)).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert!(CookieSessions::new(b"short").is_err());

    // Portico ends the session: once the access token expires, the refresh fails and the cookie goes.
    let sid = portico.verify(&tokens.access_token).await.unwrap().session_id;
    assert_eq!(t.post("/user_management/sessions/revoke", json!({"session_id": sid})).await.status, 200);
    let expired_again =
        cookies.seal(&Tokens { access_token: signed.str("access_token"), refresh_token: tokens.refresh_token });
    let ended = router.clone().oneshot(request(&expired_again)).await.unwrap();
    assert_eq!(ended.status(), StatusCode::UNAUTHORIZED);
    assert!(ended.headers().get("set-cookie").unwrap().to_str().unwrap().contains("Max-Age=0"));
}
