//! Sessions and their refresh tokens.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::{Result, corrupt};
use crate::page::{self, Page, PageRequest, values};
use portico_domain::session::{Session, SessionStatus};
use portico_domain::{OrganizationId, SessionId, Timestamp, UserId};

const COLUMNS: &str = "id, user_id, organization_id, auth_method, ip_address, user_agent, status, created_at, \
    updated_at, last_active_at, expires_at, ended_at, mfa_verified_at";

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    user_id: String,
    organization_id: Option<String>,
    auth_method: String,
    ip_address: Option<String>,
    user_agent: Option<String>,
    status: String,
    created_at: i64,
    updated_at: i64,
    last_active_at: i64,
    expires_at: i64,
    ended_at: Option<i64>,
    mfa_verified_at: Option<i64>,
}

impl TryFrom<SessionRow> for Session {
    type Error = crate::StoreError;

    fn try_from(row: SessionRow) -> Result<Self> {
        Ok(Session {
            id: SessionId::from_trusted(row.id),
            user_id: UserId::from_trusted(row.user_id),
            organization_id: row.organization_id.map(OrganizationId::from_trusted),
            ip_address: row.ip_address,
            user_agent: row.user_agent,
            auth_method: row.auth_method,
            status: match row.status.as_str() {
                "active" => SessionStatus::Active,
                "revoked" => SessionStatus::Revoked,
                other => return Err(corrupt(format!("session status {other}"))),
            },
            expires_at: Timestamp::from_unix_ms(row.expires_at),
            ended_at: row.ended_at.map(Timestamp::from_unix_ms),
            created_at: Timestamp::from_unix_ms(row.created_at),
            updated_at: Timestamp::from_unix_ms(row.updated_at),
            last_active_at: Timestamp::from_unix_ms(row.last_active_at),
            mfa_verified_at: row.mfa_verified_at.map(Timestamp::from_unix_ms),
        })
    }
}

pub async fn insert(conn: Conn<'_>, session: &Session) -> Result<()> {
    let sql =
        format!("INSERT INTO sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7, $7, $8, NULL, $9)");
    execute(
        conn,
        &sql,
        &values![
            session.id.as_str(),
            session.user_id.as_str(),
            session.organization_id.as_ref().map(|o| o.as_str()),
            &session.auth_method,
            &session.ip_address,
            &session.user_agent,
            session.created_at,
            session.expires_at,
            session.mfa_verified_at,
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(conn: Conn<'_>, id: &SessionId) -> Result<Option<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE id = $1");
    let row: Option<SessionRow> = fetch_optional(conn, &sql, &values![id.as_str()]).await?;
    row.map(Session::try_from).transpose()
}

pub async fn list_for_user(conn: Conn<'_>, user: &UserId, request: &PageRequest) -> Result<Page<Session>> {
    let mut sql = format!("SELECT {COLUMNS} FROM sessions WHERE user_id = $1");
    let mut values = values![user.as_str()].to_vec();
    page::apply(&mut sql, &mut values, "id", request);
    let rows: Vec<SessionRow> = fetch_all(conn, &sql, &values).await?;
    let sessions = rows.into_iter().map(Session::try_from).collect::<Result<Vec<_>>>()?;
    Ok(page::finish(sessions, request, |s| s.id.to_string()))
}

/// Records a refresh of an active session: its organization (it may have switched) and its
/// activity. Returns false when the session is no longer active.
pub async fn refreshed(
    conn: Conn<'_>,
    id: &SessionId,
    organization: Option<&OrganizationId>,
    at: Timestamp,
) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE sessions SET organization_id = $2, last_active_at = $3, updated_at = $3 \
         WHERE id = $1 AND status = 'active'",
        &values![id.as_str(), organization.map(|o| o.as_str()), at],
    )
    .await?;
    Ok(changed == 1)
}

/// Ends an active session. Returns whether it was active.
pub async fn revoke(conn: Conn<'_>, id: &SessionId, reason: &str, at: Timestamp) -> Result<bool> {
    Ok(execute(
        conn,
        "UPDATE sessions SET status = 'revoked', revocation_reason = $2, ended_at = $3, updated_at = $3 \
         WHERE id = $1 AND status = 'active'",
        &values![id.as_str(), reason, at],
    )
    .await?
        > 0)
}

/// Active sessions of a user scoped to an organization, for ending them with the membership.
pub async fn active_in_organization(
    conn: Conn<'_>,
    user: &UserId,
    organization: &OrganizationId,
) -> Result<Vec<Session>> {
    let sql =
        format!("SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND organization_id = $2 AND status = 'active'");
    let rows: Vec<SessionRow> = fetch_all(conn, &sql, &values![user.as_str(), organization.as_str()]).await?;
    rows.into_iter().map(Session::try_from).collect()
}

/// Active sessions in an organization, for checking them against a tightened policy.
pub async fn active_in_organization_all(conn: Conn<'_>, organization: &OrganizationId) -> Result<Vec<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE organization_id = $1 AND status = 'active' ORDER BY id");
    let rows: Vec<SessionRow> = fetch_all(conn, &sql, &values![organization.as_str()]).await?;
    rows.into_iter().map(Session::try_from).collect()
}

/// Records that an active session passed a second factor (a step-up on an organization switch).
pub async fn mark_mfa_verified(conn: Conn<'_>, id: &SessionId, at: Timestamp) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE sessions SET mfa_verified_at = $2, updated_at = $2 WHERE id = $1 AND status = 'active'",
        &values![id.as_str(), at],
    )
    .await?;
    Ok(changed == 1)
}

/// Why the user's most recent session ended, when a policy ended it and no session started
/// since: what the next sign-in tells them.
pub async fn last_policy_revocation(conn: Conn<'_>, user: &UserId) -> Result<Option<(String, Option<String>)>> {
    let row: Option<(String, Option<String>)> = fetch_optional(
        conn,
        "SELECT revocation_reason, organization_id FROM sessions WHERE user_id = $1 ORDER BY id DESC LIMIT 1",
        &values![user.as_str()],
    )
    .await?;
    Ok(row.filter(|(reason, _)| reason.starts_with("policy:")))
}

/// Active sessions of a user, for ending them all.
pub async fn active_for_user(conn: Conn<'_>, user: &UserId) -> Result<Vec<Session>> {
    let sql = format!("SELECT {COLUMNS} FROM sessions WHERE user_id = $1 AND status = 'active'");
    let rows: Vec<SessionRow> = fetch_all(conn, &sql, &values![user.as_str()]).await?;
    rows.into_iter().map(Session::try_from).collect()
}

/// A refresh token's record (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RefreshTokenRow {
    pub id: String,
    pub session_id: String,
    pub created_at: i64,
    pub used_at: Option<i64>,
    pub successor_id: Option<String>,
    pub grace_used: bool,
}

pub async fn insert_refresh_token(
    conn: Conn<'_>,
    id: &str,
    session: &SessionId,
    token_sha256: &str,
    at: Timestamp,
) -> Result<()> {
    execute(
        conn,
        "INSERT INTO refresh_tokens (id, session_id, token_sha256, created_at, grace_used) VALUES ($1, $2, $3, $4, $5)",
        &values![id, session.as_str(), token_sha256, at, false],
    )
    .await?;
    Ok(())
}

pub async fn find_refresh_token(conn: Conn<'_>, token_sha256: &str) -> Result<Option<RefreshTokenRow>> {
    fetch_optional(
        conn,
        "SELECT id, session_id, created_at, used_at, successor_id, grace_used FROM refresh_tokens WHERE token_sha256 = $1",
        &values![token_sha256],
    )
    .await
}

pub async fn get_refresh_token(conn: Conn<'_>, id: &str) -> Result<Option<RefreshTokenRow>> {
    fetch_optional(
        conn,
        "SELECT id, session_id, created_at, used_at, successor_id, grace_used FROM refresh_tokens WHERE id = $1",
        &values![id],
    )
    .await
}

/// Retires an unused token in favour of its successor. Returns `false` when another request used
/// it first (the caller then treats this use as a reuse).
pub async fn mark_used(conn: Conn<'_>, id: &str, successor: &str, at: Timestamp) -> Result<bool> {
    Ok(execute(
        conn,
        "UPDATE refresh_tokens SET used_at = $2, successor_id = $3 WHERE id = $1 AND used_at IS NULL",
        &values![id, at, successor],
    )
    .await?
        == 1)
}

/// Retires every unused refresh token of the session in favour of `successor` (a new token
/// issued for the same session), as if each had just been rotated.
pub async fn supersede_refresh_tokens(
    conn: Conn<'_>,
    session: &SessionId,
    successor: &str,
    at: Timestamp,
) -> Result<u64> {
    execute(
        conn,
        "UPDATE refresh_tokens SET used_at = $3, successor_id = $2 \
         WHERE session_id = $1 AND used_at IS NULL AND id <> $2",
        &values![session.as_str(), successor, at],
    )
    .await
}

/// Spends a used token's one grace use. Returns `false` when it was already spent.
pub async fn spend_grace(conn: Conn<'_>, id: &str) -> Result<bool> {
    Ok(execute(
        conn,
        "UPDATE refresh_tokens SET grace_used = $2 WHERE id = $1 AND grace_used = $3",
        &values![id, true, false],
    )
    .await?
        == 1)
}
