//! Permission checks (`/authorization/organization_memberships/{id}/check` and `/checks`) and
//! the hosted organization switcher.

use base64::Engine;
use portico_testkit::{Response, TestApp};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Digest;

const CALLBACK: &str = "http://localhost:3000/callback";
const PASSWORD: &str = "correct horse battery";
const VERIFIER: &str = "switch-verifier-with-enough-entropy-0123456789abcdefghijkl";

/// Permissions `posts:read`, `posts:write`; role `editor` with both, `viewer` with read.
async fn editor_and_viewer(t: &TestApp) {
    for slug in ["posts:read", "posts:write"] {
        assert_eq!(t.post("/authorization/permissions", json!({"slug": slug, "name": slug})).await.status, 201);
    }
    for (role, permissions) in [("editor", vec!["posts:read", "posts:write"]), ("viewer", vec!["posts:read"])] {
        assert_eq!(t.post("/authorization/roles", json!({"slug": role, "name": role})).await.status, 201);
        let set = t.put(&format!("/authorization/roles/{role}/permissions"), json!({"permissions": permissions})).await;
        assert_eq!(set.status, 200, "{}", set.text);
    }
}

async fn membership(t: &TestApp, user: &str, org: &str, role: &str) -> String {
    let m = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org, "role_slug": role}),
        )
        .await;
    assert_eq!(m.status, 201, "{}", m.text);
    m.str("id")
}

async fn check(t: &TestApp, membership: &str, body: Value) -> Response {
    t.post(&format!("/authorization/organization_memberships/{membership}/check"), body).await
}

async fn authorized(t: &TestApp, membership: &str, permission: &str) -> bool {
    let answer = check(t, membership, json!({"permission_slug": permission})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.body["authorized"].as_bool().expect("authorized is a bool")
}

#[tokio::test]
async fn a_check_answers_from_the_membership_roles() {
    let t = TestApp::spawn().await;
    editor_and_viewer(&t).await;
    let org = t.organization("Acme").await;
    let other = t.organization("Globex").await;
    let patch = t.put(&format!("/organizations/{other}"), json!({"external_id": "globex-ext"})).await;
    assert_eq!(patch.status, 200, "{}", patch.text);
    let acme_patch = t.put(&format!("/organizations/{org}"), json!({"external_id": "acme-ext"})).await;
    assert_eq!(acme_patch.status, 200);
    let user = t.user("ada@example.com").await;
    let om = membership(&t, &user, &org, "viewer").await;

    assert!(authorized(&t, &om, "posts:read").await);
    assert!(!authorized(&t, &om, "posts:write").await);
    assert!(!authorized(&t, &om, "no-such:permission").await, "unknown permissions are not held");
    let exact = check(&t, &om, json!({"permission_slug": "posts:read"})).await;
    assert_eq!(exact.body, json!({"authorized": true}), "the WorkOS shape, nothing more");

    // Resources: the membership's organization by id or external id; another organization
    // grants nothing; unknown resources are 404.
    for body in [
        json!({"permission_slug": "posts:read", "resource_id": org}),
        json!({"permission_slug": "posts:read", "resource_external_id": "acme-ext", "resource_type_slug": "organization"}),
    ] {
        assert_eq!(check(&t, &om, body).await.body["authorized"], true);
    }
    for body in [
        json!({"permission_slug": "posts:read", "resource_id": other}),
        json!({"permission_slug": "posts:read", "resource_external_id": "globex-ext", "resource_type_slug": "organization"}),
    ] {
        assert_eq!(check(&t, &om, body).await.body["authorized"], false);
    }
    let unknown = check(&t, &om, json!({"permission_slug": "posts:read", "resource_id": "doc_123"})).await;
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    let kind = check(
        &t,
        &om,
        json!({"permission_slug": "posts:read", "resource_external_id": "x", "resource_type_slug": "document"}),
    )
    .await;
    assert_eq!(kind.status, 422);
    assert_eq!(kind.body["errors"][0]["field"], "resource_type_slug", "{}", kind.text);

    // Bad input names the field; unknown memberships are 404.
    let missing = check(&t, &om, json!({})).await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.body["errors"][0]["field"], "permission_slug");
    let lonely = check(&t, &om, json!({"permission_slug": "posts:read", "resource_external_id": "acme-ext"})).await;
    assert_eq!(lonely.body["errors"][0]["field"], "resource_type_slug", "{}", lonely.text);
    assert_eq!(check(&t, "om_01HZZZZZZZZZZZZZZZZZZZZZZZ", json!({"permission_slug": "posts:read"})).await.status, 404);
    assert_eq!(check(&t, "nonsense", json!({"permission_slug": "posts:read"})).await.status, 404);

    // A role change applies to the next check; a deactivated membership holds nothing.
    let promoted =
        t.put(&format!("/user_management/organization_memberships/{om}"), json!({"role_slug": "editor"})).await;
    assert_eq!(promoted.status, 200, "{}", promoted.text);
    assert!(authorized(&t, &om, "posts:write").await);
    let deactivated = t.put(&format!("/user_management/organization_memberships/{om}/deactivate"), json!({})).await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.text);
    assert!(!authorized(&t, &om, "posts:read").await);
}

#[tokio::test]
async fn a_batch_answers_each_permission_in_order() {
    let t = TestApp::spawn().await;
    editor_and_viewer(&t).await;
    let org = t.organization("Acme").await;
    let user = t.user("ada@example.com").await;
    let om = membership(&t, &user, &org, "viewer").await;
    let path = format!("/authorization/organization_memberships/{om}/checks");
    let answer = t.post(&path, json!({"permission_slugs": ["posts:write", "posts:read", "nope"]})).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.body,
        json!({"object": "list", "data": [
            {"permission_slug": "posts:write", "authorized": false},
            {"permission_slug": "posts:read", "authorized": true},
            {"permission_slug": "nope", "authorized": false},
        ]})
    );
    for (body, field) in [
        (json!({}), "permission_slugs"),
        (json!({"permission_slugs": []}), "permission_slugs"),
        (json!({"permission_slugs": ["posts:read", ""]}), "permission_slugs[1]"),
        (json!({"permission_slugs": vec!["p"; 101]}), "permission_slugs"),
    ] {
        let refused = t.post(&path, body).await;
        assert_eq!(refused.status, 422, "{}", refused.text);
        assert_eq!(refused.body["errors"][0]["field"], field, "{}", refused.text);
    }
    let wrong_type = t.post(&path, json!({"permission_slugs": "posts:read"})).await;
    assert_eq!(wrong_type.status, 422, "{}", wrong_type.text);
}

/// Two nodes on one database: once one node acknowledges a change to what a role permits, the
/// other never answers from its older cache.
#[tokio::test]
async fn no_node_answers_from_a_map_older_than_an_acknowledged_change() {
    let a = TestApp::spawn().await;
    let b = a.another_node().await;
    editor_and_viewer(&a).await;
    let org = a.organization("Acme").await;
    let user = a.user("ada@example.com").await;
    let om = membership(&a, &user, &org, "editor").await;
    for round in 0..5 {
        // Node A's cache is warm and says yes.
        assert!(authorized(&a, &om, "posts:write").await, "round {round}");
        let removed = b.delete("/authorization/roles/editor/permissions/posts:write").await;
        assert_eq!(removed.status, 200, "{}", removed.text);
        assert!(!authorized(&a, &om, "posts:write").await, "round {round}: A answered from a stale map");
        let added = b.post("/authorization/roles/editor/permissions", json!({"slug": "posts:write"})).await;
        assert_eq!(added.status, 200, "{}", added.text);
        assert!(authorized(&a, &om, "posts:write").await, "round {round}: A missed the permission coming back");
    }
    // What the membership holds changes on node B: node A's cached membership is not used.
    for round in 0..3 {
        let demoted =
            b.put(&format!("/user_management/organization_memberships/{om}"), json!({"role_slug": "viewer"})).await;
        assert_eq!(demoted.status, 200, "{}", demoted.text);
        assert!(!authorized(&a, &om, "posts:write").await, "round {round}: A answered from a stale membership");
        let promoted =
            b.put(&format!("/user_management/organization_memberships/{om}"), json!({"role_slug": "editor"})).await;
        assert_eq!(promoted.status, 200, "{}", promoted.text);
        assert!(authorized(&a, &om, "posts:write").await, "round {round}");
    }
    let deactivated = b.put(&format!("/user_management/organization_memberships/{om}/deactivate"), json!({})).await;
    assert_eq!(deactivated.status, 200, "{}", deactivated.text);
    assert!(!authorized(&a, &om, "posts:read").await);
    let reactivated = b.put(&format!("/user_management/organization_memberships/{om}/reactivate"), json!({})).await;
    assert_eq!(reactivated.status, 200, "{}", reactivated.text);
    assert!(authorized(&a, &om, "posts:read").await);

    // Deleting a permission and re-creating the slug is a different permission: not held.
    assert!(authorized(&a, &om, "posts:read").await);
    assert_eq!(b.delete("/authorization/permissions/posts:read").await.status, 204);
    assert!(!authorized(&a, &om, "posts:read").await);
    assert_eq!(b.post("/authorization/permissions", json!({"slug": "posts:read", "name": "again"})).await.status, 201);
    assert!(!authorized(&a, &om, "posts:read").await);
    // A removed membership is gone on every node.
    assert_eq!(b.delete(&format!("/user_management/organization_memberships/{om}")).await.status, 204);
    assert_eq!(check(&a, &om, json!({"permission_slug": "posts:write"})).await.status, 404);
}

/// Many checks at once share version reads, and each still sees a change acknowledged before it
/// was sent.
#[tokio::test]
async fn concurrent_checks_see_every_change_acknowledged_before_them() {
    let a = TestApp::spawn().await;
    let b = a.another_node().await;
    editor_and_viewer(&a).await;
    let org = a.organization("Acme").await;
    let user = a.user("ada@example.com").await;
    let om = membership(&a, &user, &org, "editor").await;
    for round in 0..4 {
        let expected = round % 2 == 1;
        let change = if expected {
            b.post("/authorization/roles/editor/permissions", json!({"slug": "posts:write"})).await
        } else {
            b.delete("/authorization/roles/editor/permissions/posts:write").await
        };
        assert_eq!(change.status, 200, "{}", change.text);
        let answers = portico_testkit::join_all((0..24).map(|_| authorized(&a, &om, "posts:write"))).await;
        assert!(answers.iter().all(|answer| *answer == expected), "round {round}: {answers:?}");
    }
}

fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

async fn sign_in(t: &TestApp, email: &str) -> Response {
    let signed_in = t
        .send(
            t.raw(Method::POST, "/user_management/authenticate"),
            Some(json!({"client_id": t.client_id, "client_secret": t.api_key, "grant_type": "password",
                "email": email, "password": PASSWORD})),
        )
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
    signed_in
}

async fn claims(t: &TestApp, token: &str) -> Value {
    serde_json::to_value(portico_app::sessions::verify_access_token(&t.app, token).await.unwrap()).unwrap()
}

#[tokio::test]
async fn the_organization_switcher_moves_the_same_session_to_the_chosen_organization() {
    let t = TestApp::spawn().await;
    editor_and_viewer(&t).await;
    let acme = t.organization("Acme").await;
    let globex = t.organization("Globex").await;
    let user = t.verified_user("ada@example.com", PASSWORD).await;
    membership(&t, &user, &acme, "viewer").await;
    let signed_in = sign_in(&t, "ada@example.com").await;
    let first = claims(&t, &signed_in.str("access_token")).await;
    assert_eq!(first["org_id"], acme.as_str());
    let session = first["sid"].as_str().unwrap().to_owned();
    membership(&t, &user, &globex, "editor").await;

    let link_path = format!("/user_management/sessions/{session}/organization_switch");
    let link = t
        .post(
            &link_path,
            json!({"client_id": t.client_id, "redirect_uri": CALLBACK, "state": "sw1tch",
                "code_challenge": challenge(VERIFIER), "code_challenge_method": "S256"}),
        )
        .await;
    assert_eq!(link.status, 201, "{}", link.text);
    assert_eq!(link.body["object"], "organization_switch");
    let url = link.str("url");
    assert!(url.starts_with(&format!("{}/switch-organization?token=", t.base_url)), "{url}");

    let mut browser = t.browser();
    let opened = browser.get(&url).await;
    assert_eq!(opened.status, 302, "{}", opened.html);
    assert_eq!(opened.location.as_deref(), Some("/choose-organization"));
    let page = browser.get("/choose-organization").await;
    assert_eq!(page.status, 200);
    assert!(page.html.contains("Switch organization"), "{}", page.html);
    assert!(page.html.contains("Acme") && page.html.contains("Globex"));
    assert!(page.html.contains("Current"), "the session's organization is marked");
    // The link works once, in one browser.
    let mut other_browser = t.browser();
    let again = other_browser.get(&url).await;
    assert_eq!(again.status, 400);
    assert!(again.html.contains("expired or was already used"), "{}", again.html);

    // Not a member: refused on the page.
    let outsider = t.organization("Initech").await;
    let refused = browser.post("/choose-organization", &[("organization_id", &outsider)]).await;
    assert_eq!(refused.status, 422, "{}", refused.html);
    let chosen = browser.post("/choose-organization", &[("organization_id", &globex)]).await;
    assert_eq!(chosen.status, 303, "{}", chosen.html);
    let location = chosen.location.unwrap();
    assert!(location.starts_with(&format!("{CALLBACK}?code=")) && location.ends_with("&state=sw1tch"), "{location}");
    let code = location.split("code=").nth(1).unwrap().split('&').next().unwrap().to_owned();

    let exchanged = t
        .send(
            t.raw(Method::POST, "/user_management/authenticate"),
            Some(json!({"client_id": t.client_id, "grant_type": "authorization_code", "code": code,
                "code_verifier": VERIFIER})),
        )
        .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.text);
    let switched = claims(&t, &exchanged.str("access_token")).await;
    assert_eq!(switched["sid"], session.as_str(), "the same session continues");
    assert_eq!(switched["org_id"], globex.as_str());
    assert_eq!(switched["role"], "editor");
    assert_eq!(switched["permissions"], json!(["posts:read", "posts:write"]));
    assert_eq!(exchanged.body["organization_id"], globex.as_str());
    // The new refresh token stays in the new organization.
    let refreshed = t
        .send(
            t.raw(Method::POST, "/user_management/authenticate"),
            Some(json!({"client_id": t.client_id, "grant_type": "refresh_token",
                "refresh_token": exchanged.str("refresh_token")})),
        )
        .await;
    assert_eq!(refreshed.status, 200, "{}", refreshed.text);
    assert_eq!(claims(&t, &refreshed.str("access_token")).await["org_id"], globex.as_str());
    let sessions = t.get(&format!("/user_management/users/{user}/sessions")).await;
    assert_eq!(sessions.body["data"].as_array().unwrap().len(), 1, "no second session: {}", sessions.text);
}

#[tokio::test]
async fn organization_switch_links_refuse_bad_requests_and_ended_sessions() {
    let t = TestApp::spawn().await;
    let acme = t.organization("Acme").await;
    let user = t.verified_user("bo@example.com", PASSWORD).await;
    membership(&t, &user, &acme, "member").await;
    let signed_in = sign_in(&t, "bo@example.com").await;
    let session = claims(&t, &signed_in.str("access_token")).await["sid"].as_str().unwrap().to_owned();
    let path = format!("/user_management/sessions/{session}/organization_switch");
    for (body, field) in [
        (json!({"redirect_uri": CALLBACK}), "client_id"),
        (json!({"client_id": "client_01HZZZZZZZZZZZZZZZZZZZZZZZ", "redirect_uri": CALLBACK}), "client_id"),
        (json!({"client_id": t.client_id}), "redirect_uri"),
        (json!({"client_id": t.client_id, "redirect_uri": "http://localhost:3000/callback/"}), "redirect_uri"),
        (
            json!({"client_id": t.client_id, "redirect_uri": CALLBACK, "code_challenge": "short",
            "code_challenge_method": "S256"}),
            "code_challenge",
        ),
        (
            json!({"client_id": t.client_id, "redirect_uri": CALLBACK, "code_challenge": challenge(VERIFIER),
            "code_challenge_method": "plain"}),
            "code_challenge_method",
        ),
    ] {
        let refused = t.post(&path, body.clone()).await;
        assert_eq!(refused.status, 422, "{body}: {}", refused.text);
        assert_eq!(refused.body["errors"][0]["field"], field, "{body}: {}", refused.text);
    }
    let unknown = t
        .post(
            "/user_management/sessions/session_01HZZZZZZZZZZZZZZZZZZZZZZZ/organization_switch",
            json!({"client_id": t.client_id, "redirect_uri": CALLBACK}),
        )
        .await;
    assert_eq!(unknown.status, 404);
    // A link made before sign-out stops working; after sign-out no link is made.
    let link = t.post(&path, json!({"client_id": t.client_id, "redirect_uri": CALLBACK})).await;
    assert_eq!(link.status, 201, "{}", link.text);
    assert_eq!(t.post("/user_management/sessions/revoke", json!({"session_id": session})).await.status, 200);
    let opened = t.browser().get(&link.str("url")).await;
    assert_eq!(opened.status, 400, "{}", opened.html);
    let ended = t.post(&path, json!({"client_id": t.client_id, "redirect_uri": CALLBACK})).await;
    assert_eq!(ended.status, 422);
    assert_eq!(ended.body["errors"][0]["field"], "session_id");
    let no_token = t.browser().get("/switch-organization").await;
    assert_eq!(no_token.status, 400);
}

#[tokio::test]
async fn a_switch_link_must_be_opened_within_five_minutes_then_the_page_waits_like_any_sign_in() {
    use portico_app::ports::ManualClock;
    use portico_domain::Timestamp;
    use std::sync::Arc;
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let t = TestApp::spawn_with(portico_app::AppSettings::default(), clock.clone()).await;
    let acme = t.organization("Acme").await;
    let globex = t.organization("Globex").await;
    let user = t.verified_user("cy@example.com", PASSWORD).await;
    membership(&t, &user, &acme, "member").await;
    let session =
        claims(&t, &sign_in(&t, "cy@example.com").await.str("access_token")).await["sid"].as_str().unwrap().to_owned();
    membership(&t, &user, &globex, "member").await;
    let path = format!("/user_management/sessions/{session}/organization_switch");
    let body = json!({"client_id": t.client_id, "redirect_uri": CALLBACK, "state": "late"});

    let stale = t.post(&path, body.clone()).await;
    clock.advance_ms(5 * 60 * 1000 + 1);
    assert_eq!(t.browser().get(&stale.str("url")).await.status, 400, "opened too late");

    let link = t.post(&path, body).await;
    clock.advance_ms(4 * 60 * 1000);
    let mut browser = t.browser();
    assert_eq!(browser.get(&link.str("url")).await.status, 302);
    // Longer than the link's five minutes: the opened page still works.
    clock.advance_ms(20 * 60 * 1000);
    let chosen = browser.post("/choose-organization", &[("organization_id", &globex)]).await;
    assert_eq!(chosen.status, 303, "{}", chosen.html);
    assert!(chosen.location.unwrap().ends_with("&state=late"));
}
