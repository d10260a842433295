//! Sign-in flows: one browser's progress through the hosted pages, from `/authorize` to the
//! redirect back with a code. Held in the database so that any node can serve the next page; the
//! browser holds only a random cookie, stored here as its SHA-256.

use crate::db::{Conn, execute, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::{Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SignInFlow {
    pub id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub code_challenge: Option<String>,
    pub organization_hint: Option<String>,
    pub invitation_id: Option<String>,
    /// The address the person typed, kept between the email and the password pages.
    pub email: Option<String>,
    /// Set once the person proved who they are.
    pub user_id: Option<String>,
    pub auth_method: Option<String>,
    /// The verification code sent when a sign-in needs the email proved first.
    pub email_verification_id: Option<String>,
    /// Set when the organization switcher started the flow: the signed-in session it moves to
    /// another organization (the user is known from the start).
    pub continues_session_id: Option<String>,
    /// When the person passed a second factor in this flow.
    pub mfa_verified_at: Option<i64>,
    /// The organization chosen while a second factor is still owed.
    pub pending_organization_id: Option<String>,
    /// The TOTP factor being enrolled on the enrollment page (kept so a reload shows the same code).
    pub enrolling_factor_id: Option<String>,
    /// What the flow is for: `sign_in` (also the organization switcher) or `passkeys` (the
    /// signed-in user's passkey page).
    pub purpose: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
}

impl SignInFlow {
    pub fn user(&self) -> Option<UserId> {
        self.user_id.clone().map(UserId::from_trusted)
    }
}

const COLUMNS: &str = "id, client_id, redirect_uri, state, code_challenge, organization_hint, \
    invitation_id, email, user_id, auth_method, email_verification_id, continues_session_id, mfa_verified_at, \
    pending_organization_id, enrolling_factor_id, purpose, created_at, updated_at, expires_at";

pub async fn insert(conn: Conn<'_>, flow: &SignInFlow, cookie_sha256: &str) -> Result<()> {
    execute(
        conn,
        "INSERT INTO sign_in_flows (id, cookie_sha256, client_id, redirect_uri, state, code_challenge, \
         organization_hint, invitation_id, email, user_id, auth_method, email_verification_id, continues_session_id, \
         purpose, created_at, updated_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
        &values![
            &flow.id,
            cookie_sha256,
            &flow.client_id,
            &flow.redirect_uri,
            &flow.state,
            &flow.code_challenge,
            &flow.organization_hint,
            &flow.invitation_id,
            &flow.email,
            &flow.user_id,
            &flow.auth_method,
            &flow.email_verification_id,
            &flow.continues_session_id,
            &flow.purpose,
            flow.created_at,
            flow.updated_at,
            flow.expires_at
        ],
    )
    .await?;
    Ok(())
}

/// The live flow behind a browser cookie.
pub async fn find_by_cookie(conn: Conn<'_>, cookie_sha256: &str, now: Timestamp) -> Result<Option<SignInFlow>> {
    let sql = format!("SELECT {COLUMNS} FROM sign_in_flows WHERE cookie_sha256 = $1 AND expires_at > $2");
    fetch_optional(conn, &sql, &values![cookie_sha256, now]).await
}

/// Hands a flow from a one-time link to a browser cookie: the flow found by the link's digest
/// now answers to the cookie's digest only, so the link works once, and lives until
/// `expires_at`. Returns false when the link is unknown, already used, expired, or made for
/// another `purpose`.
pub async fn claim_link(
    conn: Conn<'_>,
    link_sha256: &str,
    cookie_sha256: &str,
    purpose: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE sign_in_flows SET cookie_sha256 = $2, updated_at = $3, expires_at = $4 \
         WHERE cookie_sha256 = $1 AND continues_session_id IS NOT NULL AND purpose = $5 AND expires_at > $3",
        &values![link_sha256, cookie_sha256, now, expires_at, purpose],
    )
    .await?;
    Ok(changed == 1)
}

/// Saves what the person has done so far.
pub async fn save_progress(conn: Conn<'_>, flow: &SignInFlow) -> Result<()> {
    execute(
        conn,
        "UPDATE sign_in_flows SET email = $2, user_id = $3, auth_method = $4, email_verification_id = $5, \
         invitation_id = $6, updated_at = $7, mfa_verified_at = $8, pending_organization_id = $9, \
         enrolling_factor_id = $10 WHERE id = $1",
        &values![
            &flow.id,
            &flow.email,
            &flow.user_id,
            &flow.auth_method,
            &flow.email_verification_id,
            &flow.invitation_id,
            flow.updated_at,
            flow.mfa_verified_at,
            &flow.pending_organization_id,
            &flow.enrolling_factor_id
        ],
    )
    .await?;
    Ok(())
}

/// Ends a flow (it produced its code, or the browser started another).
pub async fn delete(conn: Conn<'_>, id: &str) -> Result<()> {
    execute(conn, "DELETE FROM sign_in_flows WHERE id = $1", &values![id]).await?;
    Ok(())
}

pub async fn purge_expired(conn: Conn<'_>, now: Timestamp) -> Result<u64> {
    execute(conn, "DELETE FROM sign_in_flows WHERE expires_at <= $1", &values![now]).await
}
