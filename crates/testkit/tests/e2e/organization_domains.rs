use portico_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn a_txt_record_with_the_token_verifies_the_domain() {
    let t = TestApp::spawn().await;
    let org = t.organization("Acme").await;
    let created = t.post("/organization_domains", json!({"organization_id": org, "domain": "Acme.COM"})).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["domain"], "acme.com");
    assert_eq!(created.body["state"], "pending");
    let id = created.str("id");
    assert!(id.starts_with("org_domain_"));

    // No record yet: the domain fails, with the reason in the event.
    let failed = t.post(&format!("/organization_domains/{id}/verify"), json!({})).await;
    assert_eq!(failed.status, 200);
    assert_eq!(failed.body["state"], "failed");

    // A record with another value still fails; the right token verifies.
    let record = format!("{}.acme.com", created.str("verification_prefix"));
    t.dns.set_txt(&record, &["something-else"]);
    assert_eq!(t.post(&format!("/organization_domains/{id}/verify"), json!({})).await.body["state"], "failed");
    t.dns.set_txt(&record, &["v=spf1 -all", &created.str("verification_token")]);
    let verified = t.post(&format!("/organization_domains/{id}/verify"), json!({})).await;
    assert_eq!(verified.body["state"], "verified");
    assert_eq!(t.get(&format!("/organization_domains/{id}")).await.body["state"], "verified");

    let events =
        t.get("/events?events=organization_domain.verification_failed,organization_domain.verified&order=asc").await;
    let data = events.body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert!(data[0]["data"]["reason"].as_str().unwrap().contains("no TXT record"));
    assert_eq!(data[0]["data"]["organization_domain"]["id"], id.as_str());
    assert_eq!(data[2]["event"], "organization_domain.verified");

    assert_eq!(t.delete(&format!("/organization_domains/{id}")).await.status, 204);
    assert_eq!(t.get(&format!("/organization_domains/{id}")).await.status, 404);
}

#[tokio::test]
async fn domain_requests_are_checked() {
    let t = TestApp::spawn().await;
    let org = t.organization("Acme").await;
    let missing = t.post("/organization_domains", json!({})).await;
    assert_eq!(missing.status, 422);
    assert_eq!(missing.body["errors"].as_array().unwrap().len(), 2);
    let unknown_org = t
        .post("/organization_domains", json!({"organization_id": "org_01HXYZ123456789ABCDEFGHIJ", "domain": "a.com"}))
        .await;
    assert_eq!(unknown_org.status, 404);
    assert_eq!(t.post("/organization_domains", json!({"organization_id": org, "domain": "a.com"})).await.status, 201);
    let again = t.post("/organization_domains", json!({"organization_id": org, "domain": "a.com"})).await;
    assert_eq!(again.status, 409);
    let other = t.organization("Other").await;
    let taken = t.post("/organization_domains", json!({"organization_id": other, "domain": "a.com"})).await;
    assert_eq!(taken.status, 409);
}
