use portico_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn membership_lifecycle_with_roles() {
    let t = TestApp::spawn().await;
    let user = t.user("ada@example.com").await;
    let org = t.organization("Acme").await;
    let billing = t
        .post(&format!("/authorization/organizations/{org}/roles"), json!({"slug": "billing", "name": "Billing"}))
        .await;
    assert_eq!(billing.status, 201, "{}", billing.text);

    let created = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org, "role_slugs": ["admin", "billing"]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let m = &created.body;
    assert_eq!(m["object"], "organization_membership");
    assert_eq!(m["organization_name"], "Acme");
    assert_eq!(m["status"], "active");
    assert_eq!(m["role"], json!({"slug": "admin"}));
    assert_eq!(m["roles"], json!([{"slug": "admin"}, {"slug": "billing"}]));
    assert_eq!(m["user"]["id"], user.as_str());
    assert_eq!(m["directory_managed"], false);
    assert_eq!(m["custom_attributes"], json!({}));
    let id = created.str("id");
    assert!(id.starts_with("om_"));

    let duplicate =
        t.post("/user_management/organization_memberships", json!({"user_id": user, "organization_id": org})).await;
    assert_eq!(duplicate.status, 409);

    let updated =
        t.put(&format!("/user_management/organization_memberships/{id}"), json!({"role_slug": "member"})).await;
    assert_eq!(updated.body["roles"], json!([{"slug": "member"}]));

    let deactivated = t.put(&format!("/user_management/organization_memberships/{id}/deactivate"), json!({})).await;
    assert_eq!(deactivated.body["status"], "inactive");
    assert_eq!(deactivated.body["role"], json!({"slug": "member"}), "roles survive deactivation");
    let active_only =
        t.get(&format!("/user_management/organization_memberships?organization_id={org}&statuses=active")).await;
    assert!(active_only.body["data"].as_array().unwrap().is_empty());
    let inactive =
        t.get(&format!("/user_management/organization_memberships?user_id={user}&statuses=inactive,pending")).await;
    assert_eq!(inactive.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(inactive.body["data"][0]["user"]["email"], "ada@example.com");

    let reactivated = t.put(&format!("/user_management/organization_memberships/{id}/reactivate"), json!({})).await;
    assert_eq!(reactivated.body["status"], "active");

    // Adding an inactive member again reactivates the same membership.
    t.put(&format!("/user_management/organization_memberships/{id}/deactivate"), json!({})).await;
    let readded = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org, "role_slug": "admin"}),
        )
        .await;
    assert_eq!(readded.status, 201);
    assert_eq!(readded.body["id"], id.as_str());
    assert_eq!(readded.body["status"], "active");

    assert_eq!(t.delete(&format!("/user_management/organization_memberships/{id}")).await.status, 204);
    assert_eq!(t.get(&format!("/user_management/organization_memberships/{id}")).await.status, 404);
    let events = t.event_names().await;
    assert_eq!(events.iter().filter(|e| e.starts_with("organization_membership.")).count(), 7, "{events:?}");
    let created_event = t.get("/events?events=organization_membership.created").await;
    assert!(created_event.body["data"][0]["data"].get("user").is_none(), "event payloads are slim");
}

#[tokio::test]
async fn default_role_and_bad_requests() {
    let t = TestApp::spawn().await;
    let user = t.user("ada@example.com").await;
    let org = t.organization("Acme").await;
    let missing = t.post("/user_management/organization_memberships", json!({})).await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.body["errors"].as_array().unwrap().len(), 2);
    let unknown_role = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org, "role_slug": "owner"}),
        )
        .await;
    assert_eq!(unknown_role.status, 422);
    assert_eq!(unknown_role.body["errors"][0]["code"], "role_not_found");
    let both = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org, "role_slug": "admin", "role_slugs": ["admin"]}),
        )
        .await;
    assert_eq!(both.status, 422);
    let unknown_user = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": "user_01HXYZ123456789ABCDEFGHIJ", "organization_id": org}),
        )
        .await;
    assert_eq!(unknown_user.status, 404);
    let no_filter = t.get("/user_management/organization_memberships").await;
    assert_eq!(no_filter.status, 422);

    let plain =
        t.post("/user_management/organization_memberships", json!({"user_id": user, "organization_id": org})).await;
    assert_eq!(plain.status, 201);
    assert_eq!(plain.body["role"], json!({"slug": "member"}), "the default role");
    assert_eq!(t.event_names().await.iter().filter(|e| e.starts_with("organization_membership.")).count(), 1);
}

#[tokio::test]
async fn the_default_role_is_configurable() {
    let settings = portico_app::AppSettings { default_role_slug: "admin".into(), ..Default::default() };
    let t = TestApp::spawn_with(settings, std::sync::Arc::new(portico_app::ports::SystemClock)).await;
    let user = t.user("ada@example.com").await;
    let org = t.organization("Acme").await;
    let created =
        t.post("/user_management/organization_memberships", json!({"user_id": user, "organization_id": org})).await;
    assert_eq!(created.body["role"], json!({"slug": "admin"}));
}

#[tokio::test]
async fn lists_show_active_memberships_unless_asked() {
    let t = TestApp::spawn().await;
    let org = t.organization("Acme").await;
    let a = t.user("a@example.com").await;
    let b = t.user("b@example.com").await;
    t.post("/user_management/organization_memberships", json!({"user_id": a, "organization_id": org})).await;
    let inactive =
        t.post("/user_management/organization_memberships", json!({"user_id": b, "organization_id": org})).await;
    t.put(&format!("/user_management/organization_memberships/{}/deactivate", inactive.str("id")), json!({})).await;
    let default = t.get(&format!("/user_management/organization_memberships?organization_id={org}")).await;
    assert_eq!(default.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(default.body["data"][0]["user_id"], a.as_str());
    let all = t
        .get(&format!("/user_management/organization_memberships?organization_id={org}&statuses=active,inactive"))
        .await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 2);
    let bad = t.get(&format!("/user_management/organization_memberships?organization_id={org}&statuses=gone")).await;
    assert_eq!(bad.status, 422);
}

#[tokio::test]
async fn concurrent_adds_of_the_same_member_create_one_membership() {
    let t = TestApp::spawn().await;
    let user = t.user("ada@example.com").await;
    let org = t.organization("Acme").await;
    let body = json!({"user_id": user, "organization_id": org});
    let attempts = (0..8).map(|_| t.post("/user_management/organization_memberships", body.clone()));
    let statuses: Vec<u16> = portico_testkit::join_all(attempts).await.into_iter().map(|r| r.status).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 409), "{statuses:?}");
    let listed = t.get(&format!("/user_management/organization_memberships?organization_id={org}")).await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(t.event_names().await.iter().filter(|e| *e == "organization_membership.created").count(), 1);
}
