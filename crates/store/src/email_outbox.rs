//! The email outbox: messages written in the same transaction as the change that sends them,
//! delivered by a worker at least once. Bodies are sealed (they carry codes and links).
//!
//! Claiming uses a lease (`locked_until`), so several nodes can run the worker on one database:
//! a message is handed to one worker at a time, and a crashed worker's lease simply runs out.

use crate::db::{Conn, execute, fetch_all};
use crate::error::Result;
use crate::page::values;
use portico_domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutboxEmail {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub body_sealed: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
    pub failed_at: Option<i64>,
    pub created_at: i64,
}

const COLUMNS: &str =
    "id, recipient, subject, body_sealed, attempts, next_attempt_at, last_error, sent_at, failed_at, created_at";

pub async fn insert(conn: Conn<'_>, email: &OutboxEmail) -> Result<()> {
    execute(
        conn,
        "INSERT INTO email_outbox (id, recipient, subject, body_sealed, attempts, next_attempt_at, locked_until, \
         last_error, sent_at, failed_at, created_at) VALUES ($1, $2, $3, $4, 0, $5, NULL, NULL, NULL, NULL, $6)",
        &values![
            &email.id,
            &email.recipient,
            &email.subject,
            &email.body_sealed,
            email.next_attempt_at,
            email.created_at
        ],
    )
    .await?;
    Ok(())
}

/// Leases up to `limit` due messages until `lease_until` and counts the attempt.
pub async fn claim_due(conn: Conn<'_>, now: Timestamp, lease_until: Timestamp, limit: i64) -> Result<Vec<OutboxEmail>> {
    // The outer conditions repeat the inner ones: on PostgreSQL a concurrent claimer that waited
    // on the row lock re-checks them against the updated row and skips a message just leased.
    let due = "sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= $1 \
               AND (locked_until IS NULL OR locked_until <= $1)";
    let inner_lock = match conn {
        Conn::Sqlite(_) => "",
        Conn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE email_outbox SET locked_until = $2, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM email_outbox WHERE {due} ORDER BY next_attempt_at LIMIT $3{inner_lock}) AND {due} \
         RETURNING {COLUMNS}"
    );
    fetch_all(conn, &sql, &values![now, lease_until, limit]).await
}

pub async fn mark_sent(conn: Conn<'_>, id: &str, at: Timestamp) -> Result<()> {
    execute(conn, "UPDATE email_outbox SET sent_at = $2, locked_until = NULL WHERE id = $1", &values![id, at]).await?;
    Ok(())
}

/// Records a failed attempt: retry at `retry_at`, or give up when it is `None`.
pub async fn mark_failed(
    conn: Conn<'_>,
    id: &str,
    error: &str,
    retry_at: Option<Timestamp>,
    at: Timestamp,
) -> Result<()> {
    execute(
        conn,
        "UPDATE email_outbox SET last_error = $2, locked_until = NULL, \
         next_attempt_at = COALESCE($3, next_attempt_at), failed_at = CASE WHEN $3 IS NULL THEN $4 ELSE NULL END \
         WHERE id = $1",
        &values![id, error, retry_at, at],
    )
    .await?;
    Ok(())
}

/// The newest messages, for the dev mailbox.
pub async fn recent(conn: Conn<'_>, limit: i64) -> Result<Vec<OutboxEmail>> {
    let sql = format!("SELECT {COLUMNS} FROM email_outbox ORDER BY id DESC LIMIT $1");
    fetch_all(conn, &sql, &values![limit]).await
}

pub async fn purge_sent_before(conn: Conn<'_>, cutoff: Timestamp) -> Result<u64> {
    execute(
        conn,
        "DELETE FROM email_outbox WHERE created_at < $1 AND (sent_at IS NOT NULL OR failed_at IS NOT NULL)",
        &values![cutoff],
    )
    .await
}
