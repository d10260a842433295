//! Invitations to join the environment, or an organization with a role.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::Result;
use crate::page::{self, Page, PageRequest, values};
use portico_domain::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub organization_id: Option<String>,
    pub inviter_user_id: Option<String>,
    pub role_slug: Option<String>,
    pub token_sealed: String,
    pub state: String,
    pub accepted_at: Option<i64>,
    pub revoked_at: Option<i64>,
    pub accepted_user_id: Option<String>,
    pub expires_at: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, email, organization_id, inviter_user_id, role_slug, token_sealed, state, accepted_at, \
    revoked_at, accepted_user_id, expires_at, created_at, updated_at";

pub async fn insert(conn: Conn<'_>, invitation: &InvitationRow, token_sha256: &str) -> Result<()> {
    execute(
        conn,
        "INSERT INTO invitations (id, email, organization_id, inviter_user_id, role_slug, token_sha256, token_sealed, \
         state, accepted_at, revoked_at, accepted_user_id, expires_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, NULL, $9, $10, $10)",
        &values![
            &invitation.id,
            &invitation.email,
            &invitation.organization_id,
            &invitation.inviter_user_id,
            &invitation.role_slug,
            token_sha256,
            &invitation.token_sealed,
            &invitation.state,
            invitation.expires_at,
            invitation.created_at
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(conn: Conn<'_>, id: &str) -> Result<Option<InvitationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM invitations WHERE id = $1");
    fetch_optional(conn, &sql, &values![id]).await
}

pub async fn find_by_token(conn: Conn<'_>, token_sha256: &str) -> Result<Option<InvitationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM invitations WHERE token_sha256 = $1");
    fetch_optional(conn, &sql, &values![token_sha256]).await
}

/// A pending invitation for `email` to `organization` (or to the environment when `None`).
pub async fn find_pending(
    conn: Conn<'_>,
    email: &str,
    organization: Option<&str>,
    now: Timestamp,
) -> Result<Option<InvitationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM invitations WHERE email = $1 AND state = 'pending' AND expires_at > $2 \
         AND ((organization_id IS NULL AND $3 IS NULL) OR organization_id = $3) ORDER BY id DESC LIMIT 1"
    );
    fetch_optional(conn, &sql, &values![email, now, organization]).await
}

pub async fn list(
    conn: Conn<'_>,
    organization: Option<&str>,
    email: Option<&str>,
    request: &PageRequest,
) -> Result<Page<InvitationRow>> {
    let mut sql = format!("SELECT {COLUMNS} FROM invitations WHERE 1 = 1");
    let mut bound = Vec::new();
    if let Some(organization) = organization {
        bound.push(organization.into());
        sql.push_str(&format!(" AND organization_id = ${}", bound.len()));
    }
    if let Some(email) = email {
        bound.push(email.into());
        sql.push_str(&format!(" AND email = ${}", bound.len()));
    }
    page::apply(&mut sql, &mut bound, "id", request);
    let rows: Vec<InvitationRow> = fetch_all(conn, &sql, &bound).await?;
    Ok(page::finish(rows, request, |r| r.id.clone()))
}

/// Moves a pending invitation to `accepted` or `revoked`; false when it was no longer pending.
pub async fn finish(conn: Conn<'_>, id: &str, state: &str, accepted_user: Option<&str>, at: Timestamp) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE invitations SET state = $2, accepted_user_id = $3, \
         accepted_at = CASE WHEN $2 = 'accepted' THEN $4 ELSE NULL END, \
         revoked_at = CASE WHEN $2 = 'revoked' THEN $4 ELSE NULL END, updated_at = $4 \
         WHERE id = $1 AND state = 'pending'",
        &values![id, state, accepted_user, at],
    )
    .await?;
    Ok(changed == 1)
}

/// Records that the invitation was sent again: a new token and expiry.
pub async fn renew(
    conn: Conn<'_>,
    id: &str,
    token_sha256: &str,
    token_sealed: &str,
    expires_at: Timestamp,
    at: Timestamp,
) -> Result<()> {
    execute(
        conn,
        "UPDATE invitations SET token_sha256 = $2, token_sealed = $3, expires_at = $4, updated_at = $5 WHERE id = $1",
        &values![id, token_sha256, token_sealed, expires_at, at],
    )
    .await?;
    Ok(())
}
