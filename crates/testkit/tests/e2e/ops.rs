use portico_testkit::TestApp;
use reqwest::Method;

#[tokio::test]
async fn health_ready_and_landing_page() {
    let t = TestApp::spawn().await;
    let health = t.send(t.raw(Method::GET, "/health"), None).await;
    assert_eq!(health.status, 200);
    let ready = t.send(t.raw(Method::GET, "/ready"), None).await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ready");
    let landing = t.send(t.raw(Method::GET, "/"), None).await;
    assert_eq!(landing.status, 200);
    assert!(landing.header("content-type").unwrap().starts_with("text/html"));
    assert!(landing.text.contains("Portico") && landing.text.contains("/openapi.json"));
}

#[tokio::test]
async fn the_openapi_document_lists_every_api_route() {
    let t = TestApp::spawn().await;
    let doc = t.send(t.raw(Method::GET, "/openapi.json"), None).await;
    assert_eq!(doc.status, 200);
    let paths = doc.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/user_management/users", "post"),
        ("/user_management/users/{id}", "put"),
        ("/user_management/users/external_id/{external_id}", "get"),
        ("/user_management/users/{id}/identities", "get"),
        ("/organizations", "get"),
        ("/organizations/{id}", "delete"),
        ("/organization_domains/{id}/verify", "post"),
        ("/user_management/organization_memberships/{id}/deactivate", "put"),
        ("/authorization/permissions/{slug}", "patch"),
        ("/authorization/roles/{slug}/permissions", "put"),
        ("/authorization/organizations/{organization_id}/roles/{slug}/permissions/{permission}", "delete"),
        ("/events", "get"),
        ("/user_management/authorize", "get"),
        ("/user_management/authenticate", "post"),
        ("/user_management/magic_auth", "post"),
        ("/user_management/users/{id}/email_verification/confirm", "post"),
        ("/user_management/password_reset/confirm", "post"),
        ("/user_management/invitations/{id}/resend", "post"),
        ("/ready", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} missing from /openapi.json");
    }
    assert!(doc.body["components"]["schemas"].get("CreateUser").is_some());
}
