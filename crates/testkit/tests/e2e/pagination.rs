use portico_testkit::TestApp;
use serde_json::Value;

fn emails(page: &Value) -> Vec<String> {
    page["data"].as_array().unwrap().iter().map(|u| u["email"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn cursors_walk_every_user_once_in_both_orders() {
    let t = TestApp::spawn().await;
    for i in 0..25 {
        t.user(&format!("user{i:02}@example.com")).await;
    }
    for (order, expected_first) in [("desc", "user24@example.com"), ("asc", "user00@example.com")] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                Some(cursor) => format!("/user_management/users?limit=10&order={order}&after={cursor}"),
                None => format!("/user_management/users?limit=10&order={order}"),
            };
            let page = t.get(&path).await;
            assert_eq!(page.status, 200);
            seen.extend(emails(&page.body));
            match page.body["list_metadata"]["after"].as_str() {
                Some(cursor) => after = Some(cursor.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 25, "{order}");
        assert_eq!(seen[0], expected_first);
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), 25);
    }

    // `before` walks back to the previous page.
    let first = t.get("/user_management/users?limit=10").await;
    assert!(first.body["list_metadata"]["before"].is_null());
    let after = first.body["list_metadata"]["after"].as_str().unwrap().to_owned();
    let second = t.get(&format!("/user_management/users?limit=10&after={after}")).await;
    let before = second.body["list_metadata"]["before"].as_str().unwrap().to_owned();
    let back = t.get(&format!("/user_management/users?limit=10&before={before}")).await;
    assert_eq!(emails(&back.body), emails(&first.body));
}

#[tokio::test]
async fn bad_paging_parameters_are_named() {
    let t = TestApp::spawn().await;
    let response = t.get("/user_management/users?limit=500&order=sideways").await;
    assert_eq!(response.status, 422);
    let fields: Vec<&str> =
        response.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["limit", "order"]);
    assert_eq!(t.get("/user_management/users?limit=0").await.status, 422);
    assert_eq!(t.get("/user_management/users?limit=abc").await.status, 422);
    assert_eq!(t.get("/user_management/users?after=x%27%20OR%201%3D1").await.status, 422);
}
