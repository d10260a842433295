//! Second factors (TOTP), their challenges, and recovery codes.

use crate::db::{Conn, execute, fetch_all, fetch_count, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::{Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FactorRow {
    pub id: String,
    pub user_id: String,
    pub factor_type: String,
    pub issuer: String,
    pub account: String,
    pub secret_sealed: String,
    pub last_used_step: Option<i64>,
    pub verified_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const FACTOR_COLUMNS: &str =
    "id, user_id, factor_type, issuer, account, secret_sealed, last_used_step, verified_at, created_at, updated_at";

pub async fn insert_factor(conn: Conn<'_>, factor: &FactorRow) -> Result<()> {
    let sql = format!("INSERT INTO auth_factors ({FACTOR_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
    execute(
        conn,
        &sql,
        &values![
            &factor.id,
            &factor.user_id,
            &factor.factor_type,
            &factor.issuer,
            &factor.account,
            &factor.secret_sealed,
            factor.last_used_step,
            factor.verified_at,
            factor.created_at,
            factor.updated_at
        ],
    )
    .await?;
    Ok(())
}

pub async fn get_factor(conn: Conn<'_>, id: &str) -> Result<Option<FactorRow>> {
    let sql = format!("SELECT {FACTOR_COLUMNS} FROM auth_factors WHERE id = $1");
    fetch_optional(conn, &sql, &values![id]).await
}

/// A user's factors, oldest first.
pub async fn list_for_user(conn: Conn<'_>, user: &UserId) -> Result<Vec<FactorRow>> {
    let sql = format!("SELECT {FACTOR_COLUMNS} FROM auth_factors WHERE user_id = $1 ORDER BY id");
    fetch_all(conn, &sql, &values![user.as_str()]).await
}

/// Whether the user has a second factor they proved they can use: a verified TOTP factor or a
/// passkey.
pub async fn has_verified(conn: Conn<'_>, user: &UserId) -> Result<bool> {
    let row: Option<(String,)> = fetch_optional(
        conn,
        "SELECT id FROM auth_factors WHERE user_id = $1 AND verified_at IS NOT NULL \
         UNION ALL SELECT id FROM passkeys WHERE user_id = $1 LIMIT 1",
        &values![user.as_str()],
    )
    .await?;
    Ok(row.is_some())
}

/// Accepts a code's time step for the factor once: false when this step (or a later one) was
/// already used, so a code seen by someone else cannot be replayed within its 30 seconds.
pub async fn use_step(conn: Conn<'_>, id: &str, step: i64, at: Timestamp) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE auth_factors SET last_used_step = $2, verified_at = COALESCE(verified_at, $3), updated_at = $3 \
         WHERE id = $1 AND (last_used_step IS NULL OR last_used_step < $2)",
        &values![id, step, at],
    )
    .await?;
    Ok(changed == 1)
}

pub async fn delete_factor(conn: Conn<'_>, id: &str) -> Result<bool> {
    Ok(execute(conn, "DELETE FROM auth_factors WHERE id = $1", &values![id]).await? == 1)
}

/// Drops enrollments a user started and never finished (the hosted page starts a fresh one).
pub async fn delete_unverified(conn: Conn<'_>, user: &UserId) -> Result<u64> {
    execute(conn, "DELETE FROM auth_factors WHERE user_id = $1 AND verified_at IS NULL", &values![user.as_str()]).await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ChallengeRow {
    pub id: String,
    pub factor_id: String,
    pub attempts: i64,
    pub expires_at: i64,
    pub verified_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const CHALLENGE_COLUMNS: &str = "id, factor_id, attempts, expires_at, verified_at, created_at, updated_at";

pub async fn insert_challenge(conn: Conn<'_>, challenge: &ChallengeRow) -> Result<()> {
    let sql = format!("INSERT INTO auth_challenges ({CHALLENGE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    execute(
        conn,
        &sql,
        &values![
            &challenge.id,
            &challenge.factor_id,
            challenge.attempts,
            challenge.expires_at,
            challenge.verified_at,
            challenge.created_at,
            challenge.updated_at
        ],
    )
    .await?;
    Ok(())
}

pub async fn get_challenge(conn: Conn<'_>, id: &str) -> Result<Option<ChallengeRow>> {
    let sql = format!("SELECT {CHALLENGE_COLUMNS} FROM auth_challenges WHERE id = $1");
    fetch_optional(conn, &sql, &values![id]).await
}

/// Counts a wrong code against the challenge.
pub async fn count_attempt(conn: Conn<'_>, id: &str, at: Timestamp) -> Result<()> {
    execute(
        conn,
        "UPDATE auth_challenges SET attempts = attempts + 1, updated_at = $2 WHERE id = $1",
        &values![id, at],
    )
    .await?;
    Ok(())
}

/// Marks a challenge passed, once.
pub async fn pass_challenge(conn: Conn<'_>, id: &str, at: Timestamp) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE auth_challenges SET verified_at = $2, updated_at = $2 WHERE id = $1 AND verified_at IS NULL",
        &values![id, at],
    )
    .await?;
    Ok(changed == 1)
}

/// Replaces the user's recovery codes with new ones (digests).
pub async fn replace_recovery_codes(
    mut conn: Conn<'_>,
    user: &UserId,
    codes: &[(String, String)],
    at: Timestamp,
) -> Result<()> {
    execute(conn.reborrow(), "DELETE FROM recovery_codes WHERE user_id = $1", &values![user.as_str()]).await?;
    for (id, digest) in codes {
        execute(
            conn.reborrow(),
            "INSERT INTO recovery_codes (id, user_id, code_sha256, used_at, created_at) VALUES ($1, $2, $3, NULL, $4)",
            &values![id, user.as_str(), digest, at],
        )
        .await?;
    }
    Ok(())
}

/// Uses up one unused recovery code of the user; false when none matches.
pub async fn use_recovery_code(conn: Conn<'_>, user: &UserId, digest: &str, at: Timestamp) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE recovery_codes SET used_at = $3 WHERE user_id = $1 AND code_sha256 = $2 AND used_at IS NULL",
        &values![user.as_str(), digest, at],
    )
    .await?;
    Ok(changed == 1)
}

pub async fn remaining_recovery_codes(conn: Conn<'_>, user: &UserId) -> Result<i64> {
    fetch_count(
        conn,
        "SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        &values![user.as_str()],
    )
    .await
}

pub async fn delete_recovery_codes(conn: Conn<'_>, user: &UserId) -> Result<()> {
    execute(conn, "DELETE FROM recovery_codes WHERE user_id = $1", &values![user.as_str()]).await?;
    Ok(())
}
