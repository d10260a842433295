//! Idempotency keys: the first response to a POST is kept, and a retry with the same key gets it
//! back instead of repeating the change.

use crate::db::{Conn, execute, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::{ApiKeyId, Timestamp};

/// What happened when a request tried to claim its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: the request proceeds and must `complete` or `release` it.
    Claimed,
    /// A request with this key already finished; here is what it answered.
    Completed { request_hash: String, status: u16, body: String },
    /// A request with this key is still running (on this node or another).
    InProgress { request_hash: String },
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    request_hash: String,
    status: Option<i64>,
    response_body: Option<String>,
}

pub async fn claim(
    mut conn: Conn<'_>,
    api_key: &ApiKeyId,
    key: &str,
    request_hash: &str,
    at: Timestamp,
) -> Result<Claim> {
    let inserted = execute(
        conn.reborrow(),
        "INSERT INTO idempotency_keys (api_key_id, key, request_hash, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (api_key_id, key) DO NOTHING",
        &values![api_key.as_str(), key, request_hash, at],
    )
    .await?;
    if inserted == 1 {
        return Ok(Claim::Claimed);
    }
    let row: Option<KeyRow> = fetch_optional(
        conn,
        "SELECT request_hash, status, response_body FROM idempotency_keys WHERE api_key_id = $1 AND key = $2",
        &values![api_key.as_str(), key],
    )
    .await?;
    Ok(match row {
        Some(KeyRow { request_hash, status: Some(status), response_body }) => Claim::Completed {
            request_hash,
            status: u16::try_from(status).unwrap_or(500),
            body: response_body.unwrap_or_default(),
        },
        Some(KeyRow { request_hash, .. }) => Claim::InProgress { request_hash },
        // Purged between the two statements: treat as still running; the client retries.
        None => Claim::InProgress { request_hash: request_hash.to_owned() },
    })
}

pub async fn complete(conn: Conn<'_>, api_key: &ApiKeyId, key: &str, status: u16, body: &str) -> Result<()> {
    execute(
        conn,
        "UPDATE idempotency_keys SET status = $3, response_body = $4 WHERE api_key_id = $1 AND key = $2",
        &values![api_key.as_str(), key, i64::from(status), body],
    )
    .await?;
    Ok(())
}

/// Forgets a claim whose request failed on the server side, so a retry can run again.
pub async fn release(conn: Conn<'_>, api_key: &ApiKeyId, key: &str) -> Result<()> {
    execute(conn, "DELETE FROM idempotency_keys WHERE api_key_id = $1 AND key = $2", &values![api_key.as_str(), key])
        .await?;
    Ok(())
}

/// Deletes keys created before `cutoff`. Returns how many went.
pub async fn purge_before(conn: Conn<'_>, cutoff: Timestamp) -> Result<u64> {
    execute(conn, "DELETE FROM idempotency_keys WHERE created_at < $1", &values![cutoff]).await
}
