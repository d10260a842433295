//! The storage conformance suite: the same checks on SQLite always, and on PostgreSQL when
//! `TEST_DATABASE_URL` is set, so both engines behave alike.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly on purpose

use portico_domain::id::Ulid;
use portico_domain::user::User;
use portico_domain::{Email, Timestamp, UserId};
use portico_store::db::PoolSettings;
use portico_store::users::UserFilter;
use portico_store::{Db, Order, PageRequest, StoreError};
use std::path::Path;

/// Every database this run can reach, each fresh and migrated.
async fn engines() -> Vec<(Db, Option<tempfile::TempDir>)> {
    let settings = PoolSettings::default();
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Db::open_sqlite(&dir.path().join("c.db"), &settings).await.unwrap();
    sqlite.migrate().await.unwrap();
    let mut all = vec![(sqlite, Some(dir))];
    if let Ok(url) = std::env::var("TEST_DATABASE_URL")
        && !url.is_empty()
    {
        // One schema per test: tests in this binary run in parallel.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let schema = format!("conformance_{}_{n}", std::process::id());
        let pg = Db::open_postgres(&url, Some(&schema), &settings).await.unwrap();
        pg.migrate().await.unwrap();
        all.push((pg, None));
    }
    all
}

fn user(n: u64, email: &str) -> User {
    let at = Timestamp::from_unix_ms(1_700_000_000_000 + n as i64);
    User {
        id: UserId::from_ulid(Ulid::from_parts(1_700_000_000_000 + n, u128::from(n))),
        email: Email::parse("email", email).unwrap(),
        email_verified: false,
        first_name: Some("Ada".into()),
        last_name: None,
        name: Some("Ada".into()),
        profile_picture_url: None,
        last_sign_in_at: None,
        locale: None,
        external_id: Some(format!("ext-{n}")),
        metadata: [("k".to_owned(), "v".to_owned())].into_iter().collect(),
        created_at: at,
        updated_at: at,
    }
}

#[tokio::test]
async fn both_migration_trees_have_the_same_steps() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let names = |engine: &str| {
        let mut names: Vec<String> = std::fs::read_dir(root.join(engine))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    assert_eq!(names("sqlite"), names("postgres"));
    for (db, _dir) in engines().await {
        let (known, applied) = db.migration_status().await.unwrap();
        assert_eq!(known, applied, "{:?}", db.engine());
    }
}

#[tokio::test]
async fn rows_round_trip_and_unique_indexes_are_named_alike() {
    for (db, _dir) in engines().await {
        let original = user(1, "ada@example.com");
        let mut tx = db.begin().await.unwrap();
        portico_store::users::insert(tx.conn(), &original, Some("$argon2id$hash")).await.unwrap();
        tx.commit().await.unwrap();
        let mut reader = db.read().await.unwrap();
        let read = portico_store::users::get(reader.conn(), &original.id).await.unwrap().unwrap();
        assert_eq!(read, original, "{:?}", db.engine());

        let mut tx = db.begin().await.unwrap();
        let clash = portico_store::users::insert(tx.conn(), &user(2, "ada@example.com"), None).await.unwrap_err();
        assert!(
            matches!(clash, StoreError::Unique { ref index } if index == "uq_users_email"),
            "{:?}: {clash:?}",
            db.engine()
        );
        drop(tx);
        let mut tx = db.begin().await.unwrap();
        let mut other = user(3, "other@example.com");
        other.external_id = original.external_id.clone();
        let clash = portico_store::users::insert(tx.conn(), &other, None).await.unwrap_err();
        assert!(
            matches!(clash, StoreError::Unique { ref index } if index == "uq_users_external_id"),
            "{:?}: {clash:?}",
            db.engine()
        );
    }
}

#[tokio::test]
async fn a_dropped_transaction_leaves_nothing_behind() {
    for (db, _dir) in engines().await {
        {
            let mut tx = db.begin().await.unwrap();
            portico_store::users::insert(tx.conn(), &user(1, "gone@example.com"), None).await.unwrap();
            // Dropped without commit, as when a later step of a use case fails.
        }
        let mut reader = db.read().await.unwrap();
        let page =
            portico_store::users::list(reader.conn(), &UserFilter::default(), &PageRequest::default()).await.unwrap();
        assert!(page.data.is_empty(), "{:?}", db.engine());
    }
}

#[tokio::test]
async fn pages_and_cursors_agree_on_both_engines() {
    for (db, _dir) in engines().await {
        let mut tx = db.begin().await.unwrap();
        for n in 0..7 {
            portico_store::users::insert(tx.conn(), &user(n, &format!("u{n}@example.com")), None).await.unwrap();
        }
        tx.commit().await.unwrap();
        let mut reader = db.read().await.unwrap();
        let request = PageRequest { limit: 3, order: Order::Asc, ..Default::default() };
        let first = portico_store::users::list(reader.conn(), &UserFilter::default(), &request).await.unwrap();
        assert_eq!(first.data.len(), 3);
        assert!(first.before.is_none());
        let second = portico_store::users::list(
            reader.conn(),
            &UserFilter::default(),
            &PageRequest { after: first.after.clone(), ..request.clone() },
        )
        .await
        .unwrap();
        assert_eq!(second.data[0].email.as_str(), "u3@example.com");
        let back = portico_store::users::list(
            reader.conn(),
            &UserFilter::default(),
            &PageRequest { before: second.before.clone(), ..request.clone() },
        )
        .await
        .unwrap();
        let emails: Vec<_> = back.data.iter().map(|u| u.email.as_str().to_owned()).collect();
        assert_eq!(emails, vec!["u0@example.com", "u1@example.com", "u2@example.com"], "{:?}", db.engine());
        let last = portico_store::users::list(
            reader.conn(),
            &UserFilter::default(),
            &PageRequest { limit: 10, order: Order::Desc, ..Default::default() },
        )
        .await
        .unwrap();
        assert_eq!(last.data.len(), 7);
        assert!(last.after.is_none());
        assert_eq!(last.data[0].email.as_str(), "u6@example.com");
    }
}

#[tokio::test]
async fn an_outbox_message_is_leased_to_one_worker_at_a_time() {
    use portico_store::email_outbox::{self, OutboxEmail};
    for (db, _dir) in engines().await {
        let now = Timestamp::from_unix_ms(1_800_000_000_000);
        let mut tx = db.begin().await.unwrap();
        for n in 0..20 {
            let email = OutboxEmail {
                id: format!("email_{n:02}"),
                recipient: format!("r{n}@example.com"),
                subject: "s".into(),
                body_sealed: "b".into(),
                attempts: 0,
                next_attempt_at: now.unix_ms(),
                last_error: None,
                sent_at: None,
                failed_at: None,
                created_at: now.unix_ms(),
            };
            email_outbox::insert(tx.conn(), &email).await.unwrap();
        }
        tx.commit().await.unwrap();
        // Two workers (as on two nodes) claim at once: every message goes to exactly one.
        let claim = || async {
            let mut tx = db.begin().await.unwrap();
            let claimed = email_outbox::claim_due(tx.conn(), now, now.plus_ms(60_000), 15).await.unwrap();
            tx.commit().await.unwrap();
            claimed.into_iter().map(|e| e.id).collect::<Vec<_>>()
        };
        let (a, b) = tokio::join!(claim(), claim());
        let mut all: Vec<_> = a.iter().chain(b.iter()).cloned().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), a.len() + b.len(), "{:?}: a message was leased twice", db.engine());
        assert_eq!(all.len(), 20, "{:?}", db.engine());
        // Leased messages are not handed out again until the lease runs out.
        let mut tx = db.begin().await.unwrap();
        assert!(
            email_outbox::claim_due(tx.conn(), now.plus_ms(1_000), now.plus_ms(61_000), 50).await.unwrap().is_empty()
        );
        // A failure with a retry time comes back then; a sent one never does.
        email_outbox::mark_failed(tx.conn(), "email_00", "451 later", Some(now.plus_ms(5_000)), now).await.unwrap();
        email_outbox::mark_sent(tx.conn(), "email_01", now).await.unwrap();
        let retried = email_outbox::claim_due(tx.conn(), now.plus_ms(5_000), now.plus_ms(65_000), 50).await.unwrap();
        assert_eq!(retried.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), vec!["email_00"], "{:?}", db.engine());
        assert_eq!(retried[0].attempts, 2);
        tx.commit().await.unwrap();
    }
}
