//! Management API keys. Only the SHA-256 of a key's secret is stored.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::{ApiKeyId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub name: String,
    /// The first characters of the secret, enough for a person to tell keys apart.
    pub display_hint: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    name: String,
    display_hint: String,
    created_at: i64,
    revoked_at: Option<i64>,
}

impl From<ApiKeyRow> for ApiKeyRecord {
    fn from(row: ApiKeyRow) -> Self {
        ApiKeyRecord {
            id: ApiKeyId::from_trusted(row.id),
            name: row.name,
            display_hint: row.display_hint,
            created_at: Timestamp::from_unix_ms(row.created_at),
            revoked_at: row.revoked_at.map(Timestamp::from_unix_ms),
        }
    }
}

pub async fn insert(conn: Conn<'_>, key: &ApiKeyRecord, secret_sha256: &str) -> Result<()> {
    execute(
        conn,
        "INSERT INTO api_keys (id, name, secret_sha256, display_hint, created_at) VALUES ($1, $2, $3, $4, $5)",
        &values![key.id.as_str(), &key.name, secret_sha256, &key.display_hint, key.created_at],
    )
    .await?;
    Ok(())
}

/// Finds the live (not revoked) key whose secret hashes to `secret_sha256`.
pub async fn find_active_by_secret(conn: Conn<'_>, secret_sha256: &str) -> Result<Option<ApiKeyRecord>> {
    let row: Option<ApiKeyRow> = fetch_optional(
        conn,
        "SELECT id, name, display_hint, created_at, revoked_at FROM api_keys \
         WHERE secret_sha256 = $1 AND revoked_at IS NULL",
        &values![secret_sha256],
    )
    .await?;
    Ok(row.map(ApiKeyRecord::from))
}

pub async fn list(conn: Conn<'_>) -> Result<Vec<ApiKeyRecord>> {
    let rows: Vec<ApiKeyRow> =
        fetch_all(conn, "SELECT id, name, display_hint, created_at, revoked_at FROM api_keys ORDER BY id", &[]).await?;
    Ok(rows.into_iter().map(ApiKeyRecord::from).collect())
}

/// Revokes a key. Returns `false` when no live key has that id.
pub async fn revoke(conn: Conn<'_>, id: &ApiKeyId, at: Timestamp) -> Result<bool> {
    Ok(execute(
        conn,
        "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        &values![id.as_str(), at],
    )
    .await?
        > 0)
}
