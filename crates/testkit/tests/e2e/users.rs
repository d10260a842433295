use portico_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn create_get_update_delete_a_user() {
    let t = TestApp::spawn().await;
    let created = t
        .post(
            "/user_management/users",
            json!({"email": "Ada@Example.com", "password": "correct horse battery", "first_name": "Ada",
                   "last_name": "Lovelace", "external_id": "ext-1", "metadata": {"tier": "gold"}, "ip_address": "192.0.2.1"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let user = &created.body;
    assert_eq!(user["object"], "user");
    assert_eq!(user["email"], "ada@example.com");
    assert_eq!(user["name"], "Ada Lovelace");
    assert_eq!(user["email_verified"], false);
    for key in ["profile_picture_url", "last_sign_in_at", "locale"] {
        assert!(user.get(key).is_some_and(|v| v.is_null()), "{key} must be present and null");
    }
    let created_at = user["created_at"].as_str().unwrap();
    assert_eq!(created_at.len(), 24, "millisecond timestamps: {created_at}");
    assert!(created_at.ends_with('Z'));
    let id = created.str("id");
    assert!(id.starts_with("user_") && id.len() == 31);
    assert!(created.body.get("password_hash").is_none());

    let fetched = t.get(&format!("/user_management/users/{id}")).await;
    assert_eq!(fetched.status, 200);
    assert_eq!(fetched.body, created.body);
    let by_external = t.get("/user_management/users/external_id/ext-1").await;
    assert_eq!(by_external.body["id"], id.as_str());

    let updated = t
        .put(
            &format!("/user_management/users/{id}"),
            json!({"first_name": "Augusta", "last_name": null, "metadata": {"tier": null, "plan": "pro"}, "locale": "en-GB", "email_verified": true}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.body["first_name"], "Augusta");
    assert!(updated.body["last_name"].is_null());
    assert_eq!(updated.body["name"], "Augusta");
    assert_eq!(updated.body["metadata"], json!({"plan": "pro"}));
    assert_eq!(updated.body["locale"], "en-GB");
    assert_eq!(updated.body["email_verified"], true);
    assert_eq!(updated.body["external_id"], "ext-1", "fields left out keep their value");

    let identities = t.get(&format!("/user_management/users/{id}/identities")).await;
    assert_eq!(identities.status, 200);
    assert_eq!(identities.body, json!([]));

    assert_eq!(t.delete(&format!("/user_management/users/{id}")).await.status, 204);
    assert_eq!(t.get(&format!("/user_management/users/{id}")).await.status, 404);
    assert_eq!(t.delete(&format!("/user_management/users/{id}")).await.status, 404);
    assert_eq!(t.event_names().await, vec!["user.created", "user.updated", "user.deleted"]);
}

#[tokio::test]
async fn imported_password_hashes_are_checked() {
    let t = TestApp::spawn().await;
    let bcrypt_hash = bcrypt::hash("hunter2hunter2", 4).unwrap();
    let ok = t
        .post(
            "/user_management/users",
            json!({"email": "imported@example.com", "password_hash": bcrypt_hash, "password_hash_type": "bcrypt"}),
        )
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    let stored = portico_store::users::password_hash(
        t.app.db.read().await.unwrap().conn(),
        &portico_domain::UserId::parse(&ok.str("id")).unwrap(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(portico_crypto::password::verify("hunter2hunter2", &stored));

    let argon = t
        .post(
            "/user_management/users",
            json!({"email": "argon@example.com", "password_hash": portico_crypto::password::hash("pw-of-argon2").unwrap(), "password_hash_type": "argon2"}),
        )
        .await;
    assert_eq!(argon.status, 201, "{}", argon.text);

    let bad = t
        .post(
            "/user_management/users",
            json!({"email": "bad@example.com", "password_hash": "$2b$04$nope", "password_hash_type": "bcrypt"}),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"][0]["field"], "password_hash");
    let no_type = t.post("/user_management/users", json!({"email": "bad@example.com", "password_hash": "x"})).await;
    assert_eq!(no_type.body["errors"][0]["field"], "password_hash_type");
    let unknown_type = t
        .post(
            "/user_management/users",
            json!({"email": "bad@example.com", "password_hash": "x", "password_hash_type": "md5"}),
        )
        .await;
    assert_eq!(unknown_type.body["errors"][0]["code"], "password_hash_type_invalid");
    let both = t
        .post("/user_management/users", json!({"email": "bad@example.com", "password": "long enough pass", "password_hash": "x", "password_hash_type": "bcrypt"}))
        .await;
    assert_eq!(both.status, 422);
    assert_eq!(t.get("/user_management/users?email=bad@example.com").await.body["data"], json!([]));
}

#[tokio::test]
async fn duplicate_email_and_external_id_are_refused_as_workos_does() {
    let t = TestApp::spawn().await;
    let first = t.post("/user_management/users", json!({"email": "dup@example.com", "external_id": "x-1"})).await;
    assert_eq!(first.status, 201);
    let again = t.post("/user_management/users", json!({"email": "DUP@example.com"})).await;
    assert_eq!(again.status, 400, "{}", again.text);
    assert_eq!(again.body["code"], "user_creation_error");
    assert_eq!(again.body["errors"][0]["code"], "email_not_available");
    let external = t.post("/user_management/users", json!({"email": "other@example.com", "external_id": "x-1"})).await;
    assert_eq!(external.status, 400);
    assert_eq!(external.body["errors"][0]["code"], "external_id_not_available");

    let other = t.user("second@example.com").await;
    let clash = t.put(&format!("/user_management/users/{other}"), json!({"email": "dup@example.com"})).await;
    assert_eq!(clash.status, 400);
    assert_eq!(clash.body["code"], "user_update_error");
    let users = t.get("/user_management/users?limit=100").await;
    assert_eq!(users.body["data"].as_array().unwrap().len(), 2, "nothing half-written");
}

#[tokio::test]
async fn validation_names_every_bad_field() {
    let t = TestApp::spawn().await;
    let response = t
        .post(
            "/user_management/users",
            json!({"email": "not-an-email", "password": "password1", "metadata": {"k": 5}, "first_name": "x".repeat(300)}),
        )
        .await;
    assert_eq!(response.status, 422);
    assert_eq!(response.body["code"], "invalid_request_parameters");
    let fields: Vec<&str> =
        response.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["email", "password", "first_name", "metadata"]);
    let codes: Vec<&str> =
        response.body["errors"].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap()).collect();
    assert!(codes.contains(&"password_too_common"), "{codes:?}");

    let missing = t.post("/user_management/users", json!({})).await;
    assert_eq!(missing.body["errors"][0]["code"], "email_required");
    let wrong_type = t.post("/user_management/users", json!({"email": "a@example.com", "email_verified": "yes"})).await;
    assert_eq!(wrong_type.status, 422);
    assert_eq!(wrong_type.body["errors"][0]["field"], "email_verified");
    let bad_locale =
        t.put(&format!("/user_management/users/{}", t.user("l@example.com").await), json!({"locale": "english"})).await;
    assert_eq!(bad_locale.body["errors"][0]["field"], "locale");
}

#[tokio::test]
async fn list_users_filters_by_email_and_organization() {
    let t = TestApp::spawn().await;
    let a = t.user("a@example.com").await;
    let _b = t.user("b@example.com").await;
    let org = t.organization("Acme").await;
    let member =
        t.post("/user_management/organization_memberships", json!({"user_id": a, "organization_id": org})).await;
    assert_eq!(member.status, 201);
    let by_email = t.get("/user_management/users?email=A@example.com").await;
    assert_eq!(by_email.body["data"][0]["id"], a.as_str());
    assert_eq!(by_email.body["data"].as_array().unwrap().len(), 1);
    let by_org = t.get(&format!("/user_management/users?organization_id={org}")).await;
    assert_eq!(by_org.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(by_org.body["data"][0]["id"], a.as_str());
    let bad = t.get("/user_management/users?organization_id=nope").await;
    assert_eq!(bad.status, 422);
}
