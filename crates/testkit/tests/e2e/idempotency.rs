use portico_testkit::TestApp;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_retried_post_returns_the_first_answer_and_creates_nothing_twice() {
    let t = TestApp::spawn().await;
    let body = json!({"email": "retry@example.com"});
    let send = |key: &'static str, body: serde_json::Value| {
        let builder =
            t.raw(Method::POST, "/user_management/users").bearer_auth(&t.api_key).header("Idempotency-Key", key);
        t.send(builder, Some(body))
    };
    let first = send("key-1", body.clone()).await;
    assert_eq!(first.status, 201);
    let retry = send("key-1", body.clone()).await;
    assert_eq!(retry.status, 201);
    assert_eq!(retry.body["id"], first.body["id"]);
    assert_eq!(retry.header("idempotent-replayed"), Some("true"));
    assert_eq!(t.get("/user_management/users").await.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(t.event_names().await, vec!["user.created"]);

    // The same key on a different request is refused, not replayed.
    let reused = send("key-1", json!({"email": "other@example.com"})).await;
    assert_eq!(reused.status, 422);
    assert_eq!(reused.body["errors"][0]["code"], "idempotency_key_reused");

    // Client errors are remembered too: the retry gets the same 400.
    let dup = send("key-2", body.clone()).await;
    assert_eq!(dup.status, 400);
    assert_eq!(send("key-2", body.clone()).await.text, dup.text);

    // Without a key, every POST is its own request.
    assert_eq!(t.post("/user_management/users", json!({"email": "no-key@example.com"})).await.status, 201);
}
