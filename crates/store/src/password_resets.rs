//! Password resets: a link with a secret token, sent by email, good for one reset.

use crate::db::{Conn, execute, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasswordReset {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub token_sealed: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

const COLUMNS: &str = "id, user_id, email, token_sealed, created_at, expires_at, used_at";

pub async fn insert(conn: Conn<'_>, reset: &PasswordReset, token_sha256: &str) -> Result<()> {
    execute(
        conn,
        "INSERT INTO password_resets (id, user_id, email, token_sha256, token_sealed, created_at, expires_at, \
         used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL)",
        &values![
            &reset.id,
            &reset.user_id,
            &reset.email,
            token_sha256,
            &reset.token_sealed,
            reset.created_at,
            reset.expires_at
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(conn: Conn<'_>, id: &str) -> Result<Option<PasswordReset>> {
    let sql = format!("SELECT {COLUMNS} FROM password_resets WHERE id = $1");
    fetch_optional(conn, &sql, &values![id]).await
}

pub async fn find_by_token(conn: Conn<'_>, token_sha256: &str) -> Result<Option<PasswordReset>> {
    let sql = format!("SELECT {COLUMNS} FROM password_resets WHERE token_sha256 = $1");
    fetch_optional(conn, &sql, &values![token_sha256]).await
}

/// Marks an unused reset used; false when it was used meanwhile.
pub async fn mark_used(conn: Conn<'_>, id: &str, at: Timestamp) -> Result<bool> {
    let changed =
        execute(conn, "UPDATE password_resets SET used_at = $2 WHERE id = $1 AND used_at IS NULL", &values![id, at])
            .await?;
    Ok(changed == 1)
}

pub async fn purge_before(conn: Conn<'_>, cutoff: Timestamp) -> Result<u64> {
    execute(conn, "DELETE FROM password_resets WHERE expires_at < $1", &values![cutoff]).await
}
