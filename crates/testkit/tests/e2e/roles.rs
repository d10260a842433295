use portico_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn admin_and_member_exist_after_bootstrap() {
    let t = TestApp::spawn().await;
    let roles = t.get("/authorization/roles").await;
    assert_eq!(roles.status, 200);
    assert_eq!(roles.body["object"], "list");
    assert!(roles.body.get("list_metadata").is_none());
    let slugs: Vec<&str> = roles.body["data"].as_array().unwrap().iter().map(|r| r["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, vec!["admin", "member"]);
    let admin = &roles.body["data"][0];
    for key in
        ["id", "name", "slug", "description", "type", "resource_type_slug", "permissions", "created_at", "updated_at"]
    {
        assert!(admin.get(key).is_some(), "role must carry {key}");
    }
    assert_eq!(admin["type"], "EnvironmentRole");
}

#[tokio::test]
async fn permissions_and_environment_roles() {
    let t = TestApp::spawn().await;
    for slug in ["posts:read", "posts:write", "billing:manage"] {
        let created = t.post("/authorization/permissions", json!({"slug": slug, "name": slug})).await;
        assert_eq!(created.status, 201, "{}", created.text);
        assert_eq!(created.body["object"], "permission");
        assert_eq!(created.body["system"], false);
    }
    let duplicate = t.post("/authorization/permissions", json!({"slug": "posts:read", "name": "again"})).await;
    assert_eq!(duplicate.status, 409);
    assert_eq!(duplicate.body["code"], "permission_slug_conflict");
    let listed = t.get("/authorization/permissions?order=asc").await;
    assert_eq!(listed.body["data"].as_array().unwrap().len(), 3);
    let patched = t.patch("/authorization/permissions/posts:read", json!({"description": "Read posts"})).await;
    assert_eq!(patched.body["description"], "Read posts");

    let role = t.post("/authorization/roles", json!({"slug": "editor", "name": "Editor"})).await;
    assert_eq!(role.status, 201);
    assert_eq!(
        t.post("/authorization/roles", json!({"slug": "editor", "name": "Again"})).await.body["code"],
        "role_slug_conflict"
    );
    let set =
        t.put("/authorization/roles/editor/permissions", json!({"permissions": ["posts:write", "posts:read"]})).await;
    assert_eq!(set.body["permissions"], json!(["posts:read", "posts:write"]));
    let added = t.post("/authorization/roles/editor/permissions", json!({"slug": "billing:manage"})).await;
    assert_eq!(added.body["permissions"], json!(["billing:manage", "posts:read", "posts:write"]));
    let removed = t.delete("/authorization/roles/editor/permissions/billing:manage").await;
    assert_eq!(removed.body["permissions"], json!(["posts:read", "posts:write"]));
    let unknown = t.put("/authorization/roles/editor/permissions", json!({"permissions": ["nope:nope"]})).await;
    assert_eq!(unknown.status, 422);
    assert_eq!(
        t.get("/authorization/roles/editor").await.body["permissions"],
        json!(["posts:read", "posts:write"]),
        "unchanged"
    );
    let renamed = t.patch("/authorization/roles/editor", json!({"name": "Writer"})).await;
    assert_eq!(renamed.body["name"], "Writer");

    // Deleting a permission takes it out of every role.
    assert_eq!(t.delete("/authorization/permissions/posts:write").await.status, 204);
    assert_eq!(t.get("/authorization/roles/editor").await.body["permissions"], json!(["posts:read"]));
    assert_eq!(t.get("/authorization/permissions/posts:write").await.status, 404);
}

#[tokio::test]
async fn organization_roles_and_deleting_a_held_role() {
    let t = TestApp::spawn().await;
    let org = t.organization("Acme").await;
    let other = t.organization("Other").await;
    let created = t
        .post(&format!("/authorization/organizations/{org}/roles"), json!({"slug": "auditor", "name": "Auditor"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["type"], "OrganizationRole");
    let clash =
        t.post(&format!("/authorization/organizations/{org}/roles"), json!({"slug": "admin", "name": "Admin"})).await;
    assert_eq!(clash.status, 409);
    assert_eq!(clash.body["code"], "organization_role_slug_conflict");
    assert_eq!(
        t.post(&format!("/authorization/organizations/{other}/roles"), json!({"slug": "auditor", "name": "A"}))
            .await
            .status,
        201
    );

    let list = t.get(&format!("/authorization/organizations/{org}/roles")).await;
    let slugs: Vec<&str> = list.body["data"].as_array().unwrap().iter().map(|r| r["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, vec!["admin", "member", "auditor"]);
    assert_eq!(t.get(&format!("/organizations/{org}/roles")).await.body, list.body);

    let user = t.user("ada@example.com").await;
    // A role of another organization cannot be given here.
    let org_only = t
        .post(
            "/user_management/organization_memberships",
            json!({"user_id": user, "organization_id": org, "role_slug": "auditor"}),
        )
        .await;
    assert_eq!(org_only.status, 201);
    let refused = t.delete(&format!("/authorization/organizations/{org}/roles/auditor")).await;
    assert_eq!(refused.status, 409);
    assert_eq!(refused.body["code"], "role_in_use");
    assert!(refused.body["message"].as_str().unwrap().contains("1 organization membership"));
    assert_eq!(t.get(&format!("/authorization/organizations/{org}/roles/auditor")).await.status, 200);
    let env_refused = t.delete("/authorization/roles/member").await;
    assert_eq!(env_refused.status, 409, "member is the default role");

    t.put(&format!("/user_management/organization_memberships/{}", org_only.str("id")), json!({"role_slug": "admin"}))
        .await;
    assert_eq!(t.delete(&format!("/authorization/organizations/{org}/roles/auditor")).await.status, 204);
    assert_eq!(t.get(&format!("/authorization/organizations/{org}/roles/auditor")).await.status, 404);
    assert_eq!(t.get(&format!("/authorization/organizations/{other}/roles/auditor")).await.status, 200);
    let names = t.event_names().await;
    assert!(names.contains(&"organization_role.created".to_owned()));
    assert!(names.contains(&"organization_role.deleted".to_owned()));
}

#[tokio::test]
async fn role_input_is_validated() {
    let t = TestApp::spawn().await;
    let bad = t.post("/authorization/roles", json!({"slug": "Bad Slug", "resource_type_slug": "document"})).await;
    assert_eq!(bad.status, 422);
    let fields: Vec<&str> =
        bad.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["slug", "name", "resource_type_slug"]);
    assert_eq!(t.get("/authorization/roles/nope").await.status, 404);
    assert_eq!(t.get("/authorization/organizations/org_01HXYZ123456789ABCDEFGHIJ/roles").await.status, 404);
}

#[tokio::test]
async fn environment_roles_are_readable_through_an_organization() {
    let t = TestApp::spawn().await;
    let org = t.organization("Acme").await;
    let member = t.get(&format!("/authorization/organizations/{org}/roles/member")).await;
    assert_eq!(member.status, 200);
    assert_eq!(member.body["type"], "EnvironmentRole");
    let changed = t.patch(&format!("/authorization/organizations/{org}/roles/member"), json!({"name": "x"})).await;
    assert_eq!(changed.status, 404, "environment roles change through /authorization/roles");
}
