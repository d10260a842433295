use portico_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn events_filter_by_name_time_and_organization() {
    let t = TestApp::spawn().await;
    let before = t.app.now();
    let org = t.organization("Acme").await;
    let user = t.user("ada@example.com").await;
    t.post("/user_management/organization_memberships", json!({"user_id": user, "organization_id": org})).await;

    let users = t.get("/events?events=user.created").await;
    assert_eq!(users.status, 200);
    let data = users.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 1);
    assert_eq!(data[0]["object"], "event");
    assert!(data[0]["id"].as_str().unwrap().starts_with("event_"));
    assert_eq!(data[0]["data"]["email"], "ada@example.com");
    assert_eq!(data[0]["context"], json!({}));

    let both = t.get("/events?events[]=user.created&events[]=organization.created").await;
    assert_eq!(both.body["data"].as_array().unwrap().len(), 2);
    let for_org = t.get(&format!("/events?organization_id={org}&order=asc")).await;
    let names: Vec<&str> =
        for_org.body["data"].as_array().unwrap().iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["organization.created", "organization_membership.created"]);

    let start = before.to_string();
    let in_range = t.get(&format!("/events?range_start={start}")).await;
    assert_eq!(in_range.body["data"].as_array().unwrap().len(), 3);
    let future = t.get("/events?range_start=2999-01-01T00:00:00.000Z").await;
    assert!(future.body["data"].as_array().unwrap().is_empty());

    let bad = t.get("/events?events=NotAnEvent&range_start=yesterday").await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn events_page_forward_with_after() {
    let t = TestApp::spawn().await;
    for i in 0..5 {
        t.user(&format!("u{i}@example.com")).await;
    }
    let first = t.get("/events?events=user.created&order=asc&limit=2").await;
    let after = first.body["list_metadata"]["after"].as_str().unwrap().to_owned();
    let second = t.get(&format!("/events?events=user.created&order=asc&limit=2&after={after}")).await;
    assert_eq!(second.body["data"][0]["data"]["email"], "u2@example.com");
}
