use portico_testkit::TestApp;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn api_keys_are_required_and_checked() {
    let t = TestApp::spawn().await;
    let none = t.send(t.raw(Method::GET, "/user_management/users"), None).await;
    assert_eq!(none.status, 401);
    assert_eq!(none.header("content-type"), Some("application/json"));
    assert_eq!(none.body["code"], "unauthorized");
    let wrong = t.send(t.raw(Method::GET, "/user_management/users").bearer_auth("sk_test_wrong"), None).await;
    assert_eq!(wrong.status, 401);
    let not_a_key = t.send(t.raw(Method::GET, "/organizations").bearer_auth("hello"), None).await;
    assert_eq!(not_a_key.status, 401);

    let extra = portico_app::api_keys::create(&t.app, "second").await.unwrap();
    let ok = t.send(t.raw(Method::GET, "/organizations").bearer_auth(&extra.secret), None).await;
    assert_eq!(ok.status, 200);
    portico_app::api_keys::revoke(&t.app, extra.record.id.as_str()).await.unwrap();
    let revoked = t.send(t.raw(Method::GET, "/organizations").bearer_auth(&extra.secret), None).await;
    assert_eq!(revoked.status, 401, "a revoked key stops working at once");
}

#[tokio::test]
async fn every_answer_is_json_with_a_request_id() {
    let t = TestApp::spawn().await;
    for (method, path) in
        [(Method::GET, "/user_management/users"), (Method::GET, "/nowhere"), (Method::DELETE, "/events")]
    {
        let response = t.request(method.clone(), path, None).await;
        assert_eq!(response.header("content-type"), Some("application/json"), "{method} {path}");
        assert!(response.header("x-request-id").is_some_and(|id| !id.is_empty()));
    }
    let unknown = t.get("/nowhere").await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body["message"].as_str().unwrap().contains("/nowhere"));
    assert_eq!(t.request(Method::DELETE, "/events", None).await.status, 405);
    let echoed = t.send(t.raw(Method::GET, "/health").header("X-Request-ID", "trace-123"), None).await;
    assert_eq!(echoed.header("x-request-id"), Some("trace-123"));
}

#[tokio::test]
async fn malformed_and_oversized_bodies_get_clear_errors() {
    let t = TestApp::spawn().await;
    let builder =
        t.raw(Method::POST, "/organizations").bearer_auth(&t.api_key).header("content-type", "application/json");
    let malformed = t.send(builder.body("{\"name\": "), None).await;
    assert_eq!(malformed.status, 400);
    assert_eq!(malformed.body["code"], "invalid_json");
    assert!(malformed.body["message"].as_str().unwrap().contains("not valid JSON"));

    let not_object = t.send(t.raw(Method::POST, "/organizations").bearer_auth(&t.api_key).body("[1,2]"), None).await;
    assert_eq!(not_object.status, 422);

    let huge = json!({"name": "x".repeat(2 * 1024 * 1024)});
    let too_big = t.post("/organizations", huge).await;
    assert_eq!(too_big.status, 413);
    assert_eq!(too_big.body["code"], "request_too_large");
    assert!(t.get("/organizations").await.body["data"].as_array().unwrap().is_empty());

    // Empty bodies read as {} (the SDKs post empty bodies to action endpoints).
    let org = t.organization("Acme").await;
    let user = t.user("ada@example.com").await;
    let m = t.post("/user_management/organization_memberships", json!({"user_id": user, "organization_id": org})).await;
    let empty = t
        .send(
            t.raw(Method::PUT, &format!("/user_management/organization_memberships/{}/deactivate", m.str("id")))
                .bearer_auth(&t.api_key)
                .header("content-type", "application/json"),
            None,
        )
        .await;
    assert_eq!(empty.status, 200, "{}", empty.text);
}
