use portico_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn create_with_domains_then_update_replaces_them() {
    let t = TestApp::spawn().await;
    let created = t
        .post(
            "/organizations",
            json!({"name": "Acme", "external_id": "acme-1", "metadata": {"tier": "diamond"},
                   "domain_data": [{"domain": "acme.com", "state": "verified"}, {"domain": "acme.io", "state": "pending"}]}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let org = &created.body;
    assert_eq!(org["object"], "organization");
    assert_eq!(org["allow_profiles_outside_organization"], false);
    assert!(org.get("stripe_customer_id").is_none(), "omitted when unset");
    let domains = org["domains"].as_array().unwrap();
    assert_eq!(domains.len(), 2);
    assert_eq!(domains[0]["state"], "verified");
    assert_eq!(domains[0]["verification_strategy"], "manual");
    assert_eq!(domains[1]["state"], "pending");
    assert_eq!(domains[1]["verification_strategy"], "dns");
    assert!(domains[1]["verification_token"].as_str().unwrap().len() >= 32);
    assert!(domains[1]["verification_prefix"].as_str().unwrap().starts_with("portico-domain-verification-"));
    let id = created.str("id");

    assert_eq!(t.get("/organizations/external_id/acme-1").await.body["id"], id.as_str());
    let by_domain = t.get("/organizations?domains=acme.io,unknown.com").await;
    assert_eq!(by_domain.body["data"].as_array().unwrap().len(), 1);

    let updated = t
        .put(
            &format!("/organizations/{id}"),
            json!({"name": "Acme Corp", "stripe_customer_id": "cus_123", "domain_data": [{"domain": "acme.com", "state": "verified"}, {"domain": "acme.dev"}]}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.body["name"], "Acme Corp");
    assert_eq!(updated.body["stripe_customer_id"], "cus_123");
    let names: Vec<&str> =
        updated.body["domains"].as_array().unwrap().iter().map(|d| d["domain"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["acme.com", "acme.dev"]);
    assert_eq!(updated.body["metadata"], json!({"tier": "diamond"}));

    assert_eq!(t.delete(&format!("/organizations/{id}")).await.status, 204);
    assert_eq!(t.get(&format!("/organizations/{id}")).await.status, 404);
    let events = t.event_names().await;
    assert!(events.contains(&"organization.created".to_owned()));
    assert!(events.contains(&"organization_domain.deleted".to_owned()));
    assert_eq!(events.last().unwrap(), "organization.deleted");
}

#[tokio::test]
async fn a_domain_of_another_organization_refuses_the_whole_request() {
    let t = TestApp::spawn().await;
    let first = t
        .post("/organizations", json!({"name": "One", "domain_data": [{"domain": "shared.com", "state": "verified"}]}))
        .await;
    assert_eq!(first.status, 201);
    let second = t
        .post(
            "/organizations",
            json!({"name": "Two", "domain_data": [{"domain": "two.com"}, {"domain": "shared.com"}]}),
        )
        .await;
    assert_eq!(second.status, 409, "{}", second.text);
    assert_eq!(second.body["code"], "organization_domain_already_exists");
    let all = t.get("/organizations").await;
    assert_eq!(all.body["data"].as_array().unwrap().len(), 1, "the refused organization left nothing behind");
    assert!(t.get("/organizations?domains=two.com").await.body["data"].as_array().unwrap().is_empty());
    assert_eq!(t.event_names().await, vec!["organization_domain.created", "organization.created"]);

    let dup_external = t.post("/organizations", json!({"name": "A", "external_id": "e"})).await;
    assert_eq!(dup_external.status, 201);
    let again = t.post("/organizations", json!({"name": "B", "external_id": "e"})).await;
    assert_eq!(again.status, 409);
}

#[tokio::test]
async fn organization_input_is_validated() {
    let t = TestApp::spawn().await;
    let response = t
        .post("/organizations", json!({"name": "  ", "domain_data": [{"domain": "not a domain"}, {"domain": "ok.com", "state": "weird"}], "metadata": []}))
        .await;
    assert_eq!(response.status, 422);
    let fields: Vec<&str> =
        response.body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["name", "domain_data[0].domain", "domain_data[1].state", "metadata"]);
    assert_eq!(t.get("/organizations/org_01HXYZ123456789ABCDEFGHIJ").await.status, 404);
    assert_eq!(t.get("/organizations/not-an-id").await.status, 404);
}
