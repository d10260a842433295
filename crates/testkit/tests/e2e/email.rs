//! Email delivery through a real SMTP conversation, with retries.

use portico_app::ports::ManualClock;
use portico_domain::Timestamp;
use portico_testkit::TestApp;
use portico_testkit::smtp::SmtpSink;
use serde_json::json;
use std::sync::Arc;

#[tokio::test]
async fn emails_go_out_over_smtp_and_are_retried_after_a_refusal() {
    let sink = SmtpSink::start(1).await;
    let mailer = portico_app::mail::SmtpMailer::new(&sink.url(), "Acme <no-reply@acme.test>").unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp::from_unix_ms(1_800_000_000_000)));
    let t = TestApp::spawn_with_mailer(Default::default(), clock.clone(), Some(Arc::new(mailer))).await;
    let sent = t.post("/user_management/magic_auth", json!({"email": "smtp@example.com"})).await;
    assert_eq!(sent.status, 201, "{}", sent.text);
    let code = sent.str("code");
    // The first delivery is refused (451); the retry waits for its back-off.
    for _ in 0..100 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        clock.advance_ms(1_000);
        t.app.outbox_wakeup.notify_one();
        if !sink.received().is_empty() {
            break;
        }
    }
    let received = sink.received();
    assert_eq!(received.len(), 1, "delivered once");
    let message = &received[0];
    assert_eq!(message.from, "<no-reply@acme.test>");
    assert_eq!(message.to, vec!["<smtp@example.com>".to_owned()]);
    assert!(message.data.contains("multipart/alternative"));
    assert!(message.data.contains("text/plain") && message.data.contains("text/html"));
    assert!(message.data.contains("Message-ID:") && message.data.contains("Date:"));
    let subject = message.data.lines().find(|l| l.starts_with("Subject:")).unwrap();
    assert!(!subject.contains(&code), "{subject}");
    assert!(message.data.contains(&code));
    // The dev mailbox exists only without SMTP.
    assert_eq!(t.raw(reqwest::Method::GET, "/_dev/mail.json").send().await.unwrap().status(), 404);
}
