//! Pending authentications: a user proved who they are, and one more step (choosing an
//! organization, verifying an email) is needed before a session starts. Identified by a secret
//! token stored as SHA-256, single use, short-lived.

use crate::db::{Conn, execute, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::{Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAuthentication {
    pub id: String,
    pub user_id: UserId,
    pub auth_method: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    /// The step the token is for: `organization_selection` or `email_verification`.
    pub step: String,
    /// An organization already chosen (an invitation's), kept through the step.
    pub organization_id: Option<String>,
    /// When the sign-in passed its second factor, if it did.
    pub mfa_verified_at: Option<Timestamp>,
    /// A live session the step continues (an organization switch that must step up first).
    pub continues_session_id: Option<String>,
    pub expires_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    id: String,
    user_id: String,
    auth_method: String,
    ip_address: Option<String>,
    user_agent: Option<String>,
    step: String,
    organization_id: Option<String>,
    mfa_verified_at: Option<i64>,
    continues_session_id: Option<String>,
    expires_at: i64,
}

pub async fn insert(conn: Conn<'_>, pending: &PendingAuthentication, token_sha256: &str, at: Timestamp) -> Result<()> {
    execute(
        conn,
        "INSERT INTO pending_authentications (id, token_sha256, user_id, auth_method, ip_address, user_agent, \
         created_at, expires_at, step, organization_id, mfa_verified_at, continues_session_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &values![
            &pending.id,
            token_sha256,
            pending.user_id.as_str(),
            &pending.auth_method,
            &pending.ip_address,
            &pending.user_agent,
            at,
            pending.expires_at,
            &pending.step,
            &pending.organization_id,
            pending.mfa_verified_at,
            &pending.continues_session_id
        ],
    )
    .await?;
    Ok(())
}

/// Reads a live pending authentication for `step` without using it up.
pub async fn peek(
    conn: Conn<'_>,
    token_sha256: &str,
    step: &str,
    now: Timestamp,
) -> Result<Option<PendingAuthentication>> {
    let row: Option<PendingRow> = fetch_optional(
        conn,
        "SELECT id, user_id, auth_method, ip_address, user_agent, step, organization_id, mfa_verified_at, \
         continues_session_id, expires_at \
         FROM pending_authentications WHERE token_sha256 = $1 AND step = $2 AND used_at IS NULL AND expires_at > $3",
        &values![token_sha256, step, now],
    )
    .await?;
    Ok(row.map(PendingRow::into_pending))
}

/// Takes an unused, unexpired pending authentication for `step` by its token's digest, marking it
/// used so it cannot serve twice. `None` when there is no such live token.
pub async fn take(
    mut conn: Conn<'_>,
    token_sha256: &str,
    step: &str,
    now: Timestamp,
) -> Result<Option<PendingAuthentication>> {
    let row: Option<PendingRow> = fetch_optional(
        conn.reborrow(),
        "SELECT id, user_id, auth_method, ip_address, user_agent, step, organization_id, mfa_verified_at, \
         continues_session_id, expires_at \
         FROM pending_authentications WHERE token_sha256 = $1 AND step = $2 AND used_at IS NULL AND expires_at > $3",
        &values![token_sha256, step, now],
    )
    .await?;
    let Some(row) = row else { return Ok(None) };
    let marked = execute(
        conn,
        "UPDATE pending_authentications SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
        &values![&row.id, now],
    )
    .await?;
    if marked == 0 {
        return Ok(None);
    }
    Ok(Some(row.into_pending()))
}

impl PendingRow {
    fn into_pending(self) -> PendingAuthentication {
        let row = self;
        PendingAuthentication {
            id: row.id,
            user_id: UserId::from_trusted(row.user_id),
            auth_method: row.auth_method,
            ip_address: row.ip_address,
            user_agent: row.user_agent,
            step: row.step,
            organization_id: row.organization_id,
            mfa_verified_at: row.mfa_verified_at.map(Timestamp::from_unix_ms),
            continues_session_id: row.continues_session_id,
            expires_at: Timestamp::from_unix_ms(row.expires_at),
        }
    }
}
