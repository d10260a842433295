//! Sessions: starting one when a sign-in completes, refreshing it (rotating its refresh token),
//! listing and revoking. Access tokens are RS256 JWTs that carry the organization, roles and
//! permissions of the session's organization.

use crate::error::{AuthError, Error, Result};
use crate::users::parse_user_id;
use crate::{App, events, keys};
use portico_domain::event::names;
use portico_domain::policy::{Checkpoint, Decision, Refusal, StepUp};
use portico_domain::session::{AccessClaims, AuthMethod, Session, SessionStatus};
use portico_domain::user::User;
use portico_domain::{OrganizationId, SessionId, Timestamp, UserId};
use portico_store::{Conn, Page, PageRequest};

/// What a completed sign-in or refresh hands back to the client.
#[derive(Debug, Clone)]
pub struct Issued {
    pub user: User,
    pub organization_id: Option<OrganizationId>,
    pub access_token: String,
    pub refresh_token: String,
    pub authentication_method: &'static str,
    pub session_id: SessionId,
}

/// Where a request came from, recorded on the session.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// The organization part of an access token: the membership's roles and what they permit.
struct OrgClaims {
    role: String,
    roles: Vec<String>,
    permissions: Vec<String>,
}

/// Reads the claims for `user` in `organization`; `None` when they are not an active member.
async fn org_claims(conn: Conn<'_>, user: &UserId, organization: &OrganizationId) -> Result<Option<OrgClaims>> {
    let grants = portico_store::memberships::access_grants(conn, user, organization).await?;
    Ok(grants.map(|(roles, permissions)| OrgClaims {
        role: roles.first().cloned().unwrap_or_default(),
        roles,
        permissions,
    }))
}

/// Stores a new refresh token for the session; returns its row id and the token, which only the
/// client keeps.
async fn new_refresh_token(app: &App, conn: Conn<'_>, session: &SessionId, now: Timestamp) -> Result<(String, String)> {
    let token = portico_crypto::secret::random_token().map_err(|e| Error::Internal(e.to_string()))?;
    let id = app.ids.next_ulid(now).to_string();
    portico_store::sessions::insert_refresh_token(conn, &id, session, &portico_crypto::secret::sha256_hex(&token), now)
        .await?;
    Ok((id, token))
}

async fn sign(app: &App, session: &Session, org: Option<(&OrganizationId, OrgClaims)>) -> Result<String> {
    let now = app.now();
    let iat = now.unix_ms() / 1000;
    let (org_id, role, roles, permissions) = match org {
        Some((id, claims)) => (Some(id.to_string()), Some(claims.role), Some(claims.roles), Some(claims.permissions)),
        None => (None, None, None, None),
    };
    let claims = AccessClaims {
        iss: app.settings.issuer.clone(),
        sub: session.user_id.to_string(),
        sid: session.id.to_string(),
        jti: app.ids.next_ulid(now).to_string(),
        iat,
        exp: iat + app.settings.access_token_ttl_seconds,
        auth_time: session.created_at.unix_ms() / 1000,
        org_id,
        role,
        roles,
        permissions,
    };
    let key = keys::signing_key(app).await?;
    // Signing takes a fraction of a millisecond of CPU; on the async workers it delays the tasks
    // that drive database transactions (on SQLite, the one writer), which shows in the tail
    // latency of every request.
    app.signer.run(move || key.sign(&claims)).await?.map_err(|e| Error::Internal(e.to_string()))
}

/// Starts a session for a user whose sign-in is complete, scoped to `organization` when given
/// (the caller has checked the membership).
pub(crate) async fn start(
    app: &App,
    mut user: User,
    organization: Option<OrganizationId>,
    method: AuthMethod,
    origin: &Origin,
    mfa_verified_at: Option<Timestamp>,
) -> Result<Issued> {
    let now = app.now();
    let mut reader = app.db.read().await?;
    let claims = match &organization {
        Some(org) => Some(org_claims(reader.conn(), &user.id, org).await?.ok_or_else(|| {
            AuthError::OrganizationMembershipNotFound("The user is not an active member of the organization.".into())
        })?),
        None => None,
    };
    drop(reader);
    let session = Session {
        id: app.new_id(),
        user_id: user.id.clone(),
        organization_id: organization.clone(),
        ip_address: origin.ip_address.clone(),
        user_agent: origin.user_agent.clone(),
        auth_method: method.session_name().to_owned(),
        status: SessionStatus::Active,
        expires_at: now.plus_ms(app.settings.session_limits.absolute_ms),
        ended_at: None,
        created_at: now,
        updated_at: now,
        last_active_at: now,
        mfa_verified_at,
    };
    user.last_sign_in_at = Some(now);
    let mut tx = app.db.begin().await?;
    portico_store::sessions::insert(tx.conn(), &session).await?;
    let (_, refresh_token) = new_refresh_token(app, tx.conn(), &session.id, now).await?;
    portico_store::users::record_sign_in(tx.conn(), &user.id, now).await?;
    events::record(app, tx.conn(), names::SESSION_CREATED, &session, organization.as_ref()).await?;
    tx.commit().await?;
    let access_token = sign(app, &session, organization.as_ref().zip(claims)).await?;
    Ok(Issued {
        user,
        organization_id: organization,
        access_token,
        refresh_token,
        authentication_method: method.response_name(),
        session_id: session.id,
    })
}

/// Continues a live session of `user` in `organization` (the organization switcher's code
/// exchange): the session keeps its id and what it proved, and gets a new refresh token that
/// supersedes the ones the app held.
pub(crate) async fn continue_in(
    app: &App,
    session_id: &str,
    user: User,
    organization: Option<OrganizationId>,
    mfa_verified_at: Option<Timestamp>,
) -> Result<Issued> {
    let ended = || Error::Auth(AuthError::InvalidGrant("The session being switched has ended.".into()));
    let now = app.now();
    let id = SessionId::parse(session_id).ok_or_else(ended)?;
    let mut reader = app.db.read().await?;
    let mut session = portico_store::sessions::get(reader.conn(), &id).await?.ok_or_else(ended)?;
    if session.user_id != user.id || !session.is_live(now, app.settings.session_limits) {
        return Err(ended());
    }
    let claims = match &organization {
        Some(org) => Some(org_claims(reader.conn(), &user.id, org).await?.ok_or_else(|| {
            AuthError::OrganizationMembershipNotFound("The user is not an active member of the organization.".into())
        })?),
        None => None,
    };
    drop(reader);
    let mut tx = app.db.begin().await?;
    if let Some(at) = mfa_verified_at {
        portico_store::sessions::mark_mfa_verified(tx.conn(), &session.id, at).await?;
        session.mfa_verified_at = Some(at);
    }
    let (new_id, refresh_token) = new_refresh_token(app, tx.conn(), &session.id, now).await?;
    portico_store::sessions::supersede_refresh_tokens(tx.conn(), &session.id, &new_id, now).await?;
    if !portico_store::sessions::refreshed(tx.conn(), &session.id, organization.as_ref(), now).await? {
        return Err(ended());
    }
    tx.commit().await?;
    session.organization_id = organization.clone();
    let access_token = sign(app, &session, organization.as_ref().zip(claims)).await?;
    let method = AuthMethod::parse_session_name(&session.auth_method).unwrap_or(AuthMethod::Password);
    Ok(Issued {
        user,
        organization_id: organization,
        access_token,
        refresh_token,
        authentication_method: method.response_name(),
        session_id: session.id,
    })
}

/// Finishes an organization switch that stopped for a second factor: the session passed it
/// at `at` and moves to `organization`, with a new refresh token superseding the app's.
pub(crate) async fn continue_after_step_up(
    app: &App,
    session_id: &str,
    user: User,
    organization: Option<OrganizationId>,
    at: Timestamp,
) -> Result<Issued> {
    continue_in(app, session_id, user, organization, Some(at)).await
}

/// What happened to the presented refresh token inside the transaction.
enum Rotation {
    /// A new token replaced it.
    Rotated { session: Box<Session>, refresh_token: String },
    /// Another request rotated it between our read and our write: look again.
    Raced,
    /// The switch needs a second factor first; nothing was written.
    StepUp { session: Box<Session>, step: StepUp },
}

/// Exchanges a refresh token for a new access token and a new refresh token, optionally moving
/// the session to another organization the user is an active member of.
pub async fn refresh(app: &App, presented: &str, switch_to: Option<&str>, origin: &Origin) -> Result<Issued> {
    let target = match switch_to {
        Some(text) => Some(OrganizationId::parse(text).ok_or_else(|| {
            AuthError::OrganizationMembershipNotFound(format!("The user is not a member of organization '{text}'."))
        })?),
        None => None,
    };
    let digest = portico_crypto::secret::sha256_hex(presented);
    // A concurrent refresh on another connection can win the race for the same token once;
    // the second look then sees it used and applies the grace rules.
    for _ in 0..2 {
        let rotation = rotate(app, &digest, target.as_ref(), origin).await?;
        if let Rotation::StepUp { session, step } = rotation {
            let mut reader = app.db.read().await?;
            let user =
                portico_store::users::get(reader.conn(), &session.user_id).await?.ok_or_else(invalid_refresh_token)?;
            drop(reader);
            let carried = crate::authenticate::Carried {
                organization: session.organization_id.clone(),
                mfa_verified_at: None,
                continues_session_id: Some(session.id.to_string()),
            };
            let method = AuthMethod::parse_session_name(&session.auth_method).unwrap_or(AuthMethod::Password);
            return Err(crate::authenticate::mfa_step(app, user, method, origin, step, carried).await);
        }
        if let Rotation::Rotated { session, refresh_token } = rotation {
            let mut reader = app.db.read().await?;
            let user = portico_store::users::get(reader.conn(), &session.user_id)
                .await?
                .ok_or_else(|| AuthError::InvalidGrant("The session's user no longer exists.".into()))?;
            let claims = match &session.organization_id {
                Some(org) => Some(org_claims(reader.conn(), &user.id, org).await?.ok_or_else(|| {
                    AuthError::InvalidGrant("The session's organization membership has ended.".into())
                })?),
                None => None,
            };
            drop(reader);
            let access_token = sign(app, &session, session.organization_id.as_ref().zip(claims)).await?;
            let method = AuthMethod::parse_session_name(&session.auth_method).unwrap_or(AuthMethod::Password);
            return Ok(Issued {
                user,
                organization_id: session.organization_id.clone(),
                access_token,
                refresh_token,
                authentication_method: method.response_name(),
                session_id: session.id,
            });
        }
    }
    Err(AuthError::InvalidGrant("The refresh token is being used concurrently; retry.".into()).into())
}

fn invalid_refresh_token() -> Error {
    AuthError::InvalidGrant("The refresh token is invalid, expired or revoked.".into()).into()
}

/// Moves the session to `target` when asked, after checking the membership. Returns whether it
/// moved (to another organization).
async fn switch_organization(conn: Conn<'_>, session: &mut Session, target: Option<&OrganizationId>) -> Result<bool> {
    if let Some(target) = target
        && session.organization_id.as_ref() != Some(target)
    {
        if org_claims(conn, &session.user_id, target).await?.is_none() {
            return Err(AuthError::OrganizationMembershipNotFound(format!(
                "The user is not an active member of organization '{target}'."
            ))
            .into());
        }
        session.organization_id = Some(target.clone());
        return Ok(true);
    }
    Ok(false)
}

/// Checks a refresh against the policies of the session's organization: at a switch every rule
/// of the new organization, so a session that satisfied one organization's policy does not
/// unlock another's; otherwise the rules that bind a live session (lifetime, idle, network,
/// the end of an MFA grace). Nothing is written when it refuses: the refresh token stays usable.
/// A switch that needs a second factor first answers the step the caller asks for.
async fn enforce_policy(
    app: &App,
    mut conn: Conn<'_>,
    session: &Session,
    moving: bool,
    origin: &Origin,
) -> Result<Option<StepUp>> {
    let checkpoint = if moving { Checkpoint::Switch } else { Checkpoint::Refresh };
    let proof = crate::policies::Proof::of(session);
    let decision = crate::policies::check_in(
        app,
        conn.reborrow(),
        checkpoint,
        &session.user_id,
        session.organization_id.as_ref(),
        &proof,
        origin,
    )
    .await?;
    let refused = |error: &'static str, message: &str| -> Error {
        AuthError::RefreshRefused { error, message: message.to_owned() }.into()
    };
    match decision {
        Decision::Allow => Ok(None),
        Decision::StepUp(step @ (StepUp::MfaChallenge | StepUp::MfaEnrollment)) if moving => Ok(Some(step)),
        Decision::StepUp(StepUp::MfaChallenge | StepUp::MfaEnrollment) => Err(refused(
            "mfa_enrollment",
            "The organization now requires a second factor: sign in again to verify with one.",
        )),
        Decision::StepUp(StepUp::Reauthenticate) => {
            Err(refused("invalid_grant", "The organization requires signing in again after a while; sign in again."))
        }
        Decision::Refuse(Refusal::IpNotAllowed) => {
            Err(refused("access_denied", "The organization does not allow access from this network."))
        }
        Decision::Refuse(Refusal::MethodNotAllowed { .. }) => {
            let email = match portico_store::users::get(conn, &session.user_id).await? {
                Some(user) => user.email.as_str().to_owned(),
                None => String::new(),
            };
            Err(crate::policies::refusal(&decision, &email).unwrap_or_else(invalid_refresh_token))
        }
        Decision::Refuse(Refusal::SessionLifetimeExceeded | Refusal::SessionIdle) => {
            Err(refused("invalid_grant", "The session has ended under the organization's policy; sign in again."))
        }
    }
}

/// Rotates an unused refresh token. Everything that only reads happens before the write
/// transaction, which then holds three statements: on SQLite every refresh queues for the one
/// writer, so its critical section decides the tail latency. The conditional writes catch
/// whatever changed in between (a concurrent use of the token, a revocation).
async fn rotate(app: &App, digest: &str, target: Option<&OrganizationId>, origin: &Origin) -> Result<Rotation> {
    let now = app.now();
    let mut reader = app.db.read().await?;
    let row =
        portico_store::sessions::find_refresh_token(reader.conn(), digest).await?.ok_or_else(invalid_refresh_token)?;
    if row.used_at.is_some() {
        drop(reader);
        return reuse(app, digest, target, origin).await;
    }
    let session_id = SessionId::from_trusted(row.session_id.clone());
    let mut session =
        portico_store::sessions::get(reader.conn(), &session_id).await?.ok_or_else(invalid_refresh_token)?;
    if !session.is_live(now, app.settings.session_limits) {
        return Err(invalid_refresh_token());
    }
    let moving = switch_organization(reader.conn(), &mut session, target).await?;
    if let Some(step) = enforce_policy(app, reader.conn(), &session, moving, origin).await? {
        return Ok(Rotation::StepUp { session: Box::new(session), step });
    }
    drop(reader);
    let mut tx = app.db.begin().await?;
    let (new_id, token) = new_refresh_token(app, tx.conn(), &session.id, now).await?;
    if !portico_store::sessions::mark_used(tx.conn(), &row.id, &new_id, now).await? {
        return Ok(Rotation::Raced);
    }
    if !portico_store::sessions::refreshed(tx.conn(), &session.id, session.organization_id.as_ref(), now).await? {
        return Err(invalid_refresh_token());
    }
    tx.commit().await?;
    Ok(Rotation::Rotated { session: Box::new(session), refresh_token: token })
}

/// A refresh token presented again: the one retry of the immediately previous token within the
/// grace, or else a stolen token, which ends the session.
async fn reuse(app: &App, digest: &str, target: Option<&OrganizationId>, origin: &Origin) -> Result<Rotation> {
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let row =
        portico_store::sessions::find_refresh_token(tx.conn(), digest).await?.ok_or_else(invalid_refresh_token)?;
    let session_id = SessionId::from_trusted(row.session_id.clone());
    let mut session = portico_store::sessions::get(tx.conn(), &session_id).await?.ok_or_else(invalid_refresh_token)?;
    if !session.is_live(now, app.settings.session_limits) {
        return Err(invalid_refresh_token());
    }
    let Some(used_at) = row.used_at else {
        // Rolled back meanwhile: treat it as fresh on the next look.
        return Ok(Rotation::Raced);
    };
    let successor_unused = match &row.successor_id {
        Some(successor) => {
            portico_store::sessions::get_refresh_token(tx.conn(), successor).await?.is_some_and(|s| s.used_at.is_none())
        }
        None => false,
    };
    let in_grace = now.unix_ms() - used_at <= app.settings.refresh_grace_ms && successor_unused;
    if !(in_grace && portico_store::sessions::spend_grace(tx.conn(), &row.id).await?) {
        // A token used twice outside the grace is a stolen token: end the session.
        portico_store::sessions::revoke(tx.conn(), &session.id, "refresh_token_reused", now).await?;
        session.status = SessionStatus::Revoked;
        session.ended_at = Some(now);
        let org = session.organization_id.clone();
        events::record(app, tx.conn(), names::SESSION_REVOKED, &session, org.as_ref()).await?;
        tx.commit().await?;
        return Err(AuthError::InvalidGrant(
            "The refresh token was already used; the session has been revoked.".into(),
        )
        .into());
    }
    let moving = switch_organization(tx.conn(), &mut session, target).await?;
    if let Some(step) = enforce_policy(app, tx.conn(), &session, moving, origin).await? {
        // Dropping the transaction undoes the spent grace: the token can be retried after the step-up.
        return Ok(Rotation::StepUp { session: Box::new(session), step });
    }
    let token = new_refresh_token(app, tx.conn(), &session.id, now).await?.1;
    if !portico_store::sessions::refreshed(tx.conn(), &session.id, session.organization_id.as_ref(), now).await? {
        return Err(invalid_refresh_token());
    }
    tx.commit().await?;
    Ok(Rotation::Rotated { session: Box::new(session), refresh_token: token })
}

/// Ends sessions with an event each; used when a membership or user goes away.
pub(crate) async fn end_all(app: &App, mut conn: Conn<'_>, sessions: Vec<Session>, reason: &str) -> Result<()> {
    let now = app.now();
    for mut session in sessions {
        if portico_store::sessions::revoke(conn.reborrow(), &session.id, reason, now).await? {
            session.status = SessionStatus::Revoked;
            session.ended_at = Some(now);
            session.updated_at = now;
            let org = session.organization_id.clone();
            events::record(app, conn.reborrow(), names::SESSION_REVOKED, &session, org.as_ref()).await?;
        }
    }
    Ok(())
}

pub async fn list_for_user(app: &App, user_id: &str, page: &PageRequest) -> Result<Page<Session>> {
    let user = parse_user_id(user_id)?;
    let mut reader = app.db.read().await?;
    if portico_store::users::get(reader.conn(), &user).await?.is_none() {
        return Err(Error::not_found("User", user_id));
    }
    let now = app.now();
    let limits = app.settings.session_limits;
    let page = portico_store::sessions::list_for_user(reader.conn(), &user, page).await?;
    Ok(page.map(|mut s| {
        s.status = s.shown_status(now, limits);
        s
    }))
}

/// Revokes a session. Revoking one already ended changes nothing.
pub async fn revoke(app: &App, session_id: &str) -> Result<Session> {
    revoke_with_reason(app, session_id, "revoked").await
}

pub(crate) async fn revoke_with_reason(app: &App, session_id: &str, reason: &str) -> Result<Session> {
    let id = SessionId::parse(session_id).ok_or_else(|| Error::not_found("Session", session_id))?;
    let mut tx = app.db.begin().await?;
    let session =
        portico_store::sessions::get(tx.conn(), &id).await?.ok_or_else(|| Error::not_found("Session", session_id))?;
    end_all(app, tx.conn(), vec![session], reason).await?;
    let ended =
        portico_store::sessions::get(tx.conn(), &id).await?.ok_or_else(|| Error::not_found("Session", session_id))?;
    tx.commit().await?;
    Ok(ended)
}

/// The access-token claims of a token this environment signed, checked against the published
/// keys (used by logout to read `sid`, and by tests).
pub async fn verify_access_token(app: &App, token: &str) -> Result<AccessClaims> {
    let keys = keys::published(app).await?;
    portico_crypto::jwt::verify(token, &keys, app.now().unix_ms() / 1000)
        .map_err(|e| AuthError::InvalidGrant(format!("The access token is not valid: {e}.")).into())
}
