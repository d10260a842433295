//! Six-digit codes sent by email: Magic Auth sign-in codes and email-verification codes. The code
//! is sealed (the API shows it back on `GET`); attempts are counted so a code cannot be guessed.

use crate::db::{Conn, execute, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::{Timestamp, UserId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    MagicAuth,
    EmailVerification,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::MagicAuth => "magic_auth",
            Purpose::EmailVerification => "email_verification",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OneTimeCode {
    pub id: String,
    pub user_id: String,
    pub email: String,
    pub code_sealed: String,
    pub attempts: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

const COLUMNS: &str = "id, user_id, email, code_sealed, attempts, created_at, updated_at, expires_at, used_at";

pub async fn insert(conn: Conn<'_>, purpose: Purpose, code: &OneTimeCode) -> Result<()> {
    execute(
        conn,
        "INSERT INTO one_time_codes (id, purpose, user_id, email, code_sealed, attempts, created_at, updated_at, \
         expires_at, used_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $6, $7, NULL)",
        &values![
            &code.id,
            purpose.as_str(),
            &code.user_id,
            &code.email,
            &code.code_sealed,
            code.created_at,
            code.expires_at
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(conn: Conn<'_>, purpose: Purpose, id: &str) -> Result<Option<OneTimeCode>> {
    let sql = format!("SELECT {COLUMNS} FROM one_time_codes WHERE id = $1 AND purpose = $2");
    fetch_optional(conn, &sql, &values![id, purpose.as_str()]).await
}

/// The user's newest code for `purpose`: only the latest one sent counts.
pub async fn latest_for_user(conn: Conn<'_>, purpose: Purpose, user: &UserId) -> Result<Option<OneTimeCode>> {
    let sql =
        format!("SELECT {COLUMNS} FROM one_time_codes WHERE user_id = $1 AND purpose = $2 ORDER BY id DESC LIMIT 1");
    fetch_optional(conn, &sql, &values![user.as_str(), purpose.as_str()]).await
}

/// Counts a wrong guess; returns the attempts made so far.
pub async fn count_attempt(conn: Conn<'_>, id: &str, at: Timestamp) -> Result<()> {
    execute(conn, "UPDATE one_time_codes SET attempts = attempts + 1, updated_at = $2 WHERE id = $1", &values![id, at])
        .await?;
    Ok(())
}

/// Marks an unused code used; false when it was used meanwhile.
pub async fn mark_used(conn: Conn<'_>, id: &str, at: Timestamp) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE one_time_codes SET used_at = $2, updated_at = $2 WHERE id = $1 AND used_at IS NULL",
        &values![id, at],
    )
    .await?;
    Ok(changed == 1)
}

pub async fn purge_before(conn: Conn<'_>, cutoff: Timestamp) -> Result<u64> {
    execute(conn, "DELETE FROM one_time_codes WHERE expires_at < $1", &values![cutoff]).await
}
