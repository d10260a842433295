//! Access-token signing keys: sealed private keys, their certificates, and when each signs and
//! stops being published.

use crate::db::{Conn, execute, fetch_all};
use crate::error::Result;
use crate::page::values;
use portico_domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    /// Base64 of the sealed PKCS#8 private key.
    pub private_sealed: String,
    /// Base64 of the DER certificate.
    pub certificate: String,
    pub created_at: i64,
    pub activates_at: i64,
    pub retires_at: Option<i64>,
}

pub async fn insert(conn: Conn<'_>, key: &SigningKeyRow) -> Result<()> {
    execute(
        conn,
        "INSERT INTO signing_keys (kid, private_sealed, certificate, created_at, activates_at, retires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &values![&key.kid, &key.private_sealed, &key.certificate, key.created_at, key.activates_at, key.retires_at],
    )
    .await?;
    Ok(())
}

/// Keys still published at `now` (not retired), oldest first.
pub async fn published(conn: Conn<'_>, now: Timestamp) -> Result<Vec<SigningKeyRow>> {
    fetch_all(
        conn,
        "SELECT kid, private_sealed, certificate, created_at, activates_at, retires_at FROM signing_keys \
         WHERE retires_at IS NULL OR retires_at > $1 ORDER BY activates_at, kid",
        &values![now],
    )
    .await
}

/// Schedules a key's retirement.
pub async fn retire_at(conn: Conn<'_>, kid: &str, at: Timestamp) -> Result<()> {
    execute(conn, "UPDATE signing_keys SET retires_at = $2 WHERE kid = $1", &values![kid, at]).await?;
    Ok(())
}
