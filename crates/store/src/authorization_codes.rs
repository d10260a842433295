//! Authorization codes: what the hosted pages hand back to the app's redirect URI, exchanged once
//! for a session by the `authorization_code` grant. Stored as SHA-256.

use crate::db::{Conn, execute, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::{SessionId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuthorizationCode {
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    /// The PKCE S256 challenge, when the app sent one to `/authorize`.
    pub code_challenge: Option<String>,
    pub user_id: String,
    pub organization_id: Option<String>,
    pub invitation_id: Option<String>,
    pub auth_method: String,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The session the exchange issued; a replayed code revokes it.
    pub session_id: Option<String>,
    /// For a code from the organization switcher: the session its exchange continues (in the
    /// chosen organization) instead of starting a new one.
    pub continues_session_id: Option<String>,
    /// When the sign-in behind the code passed a second factor.
    pub mfa_verified_at: Option<i64>,
}

const COLUMNS: &str = "id, client_id, redirect_uri, code_challenge, user_id, organization_id, invitation_id, \
    auth_method, ip_address, user_agent, created_at, expires_at, used_at, session_id, continues_session_id, mfa_verified_at";

pub async fn insert(conn: Conn<'_>, code: &AuthorizationCode, code_sha256: &str) -> Result<()> {
    execute(
        conn,
        "INSERT INTO authorization_codes (id, code_sha256, client_id, redirect_uri, code_challenge, user_id, \
         organization_id, invitation_id, auth_method, ip_address, user_agent, created_at, expires_at, used_at, \
         session_id, continues_session_id, mfa_verified_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL, $14, $15)",
        &values![
            &code.id,
            code_sha256,
            &code.client_id,
            &code.redirect_uri,
            &code.code_challenge,
            &code.user_id,
            &code.organization_id,
            &code.invitation_id,
            &code.auth_method,
            &code.ip_address,
            &code.user_agent,
            code.created_at,
            code.expires_at,
            &code.continues_session_id,
            code.mfa_verified_at
        ],
    )
    .await?;
    Ok(())
}

/// The code with this digest, used or not, expired or not: the caller decides what each means.
pub async fn find(conn: Conn<'_>, code_sha256: &str) -> Result<Option<AuthorizationCode>> {
    let sql = format!("SELECT {COLUMNS} FROM authorization_codes WHERE code_sha256 = $1");
    fetch_optional(conn, &sql, &values![code_sha256]).await
}

/// Marks an unused code used. Returns false when another exchange got there first.
pub async fn mark_used(conn: Conn<'_>, id: &str, at: Timestamp) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE authorization_codes SET used_at = $2 WHERE id = $1 AND used_at IS NULL",
        &values![id, at],
    )
    .await?;
    Ok(changed == 1)
}

pub async fn set_session(conn: Conn<'_>, id: &str, session: &SessionId) -> Result<()> {
    execute(conn, "UPDATE authorization_codes SET session_id = $2 WHERE id = $1", &values![id, session.as_str()])
        .await?;
    Ok(())
}

/// Deletes codes that expired before `cutoff` (kept a while after expiry so replays are still
/// recognised as replays).
pub async fn purge_before(conn: Conn<'_>, cutoff: Timestamp) -> Result<u64> {
    execute(conn, "DELETE FROM authorization_codes WHERE expires_at < $1", &values![cutoff]).await
}
