//! `POST /user_management/authenticate`: the grants that turn proof of identity into a session.
//!
//! Grants: `authorization_code` (from the hosted pages, PKCE), `password`, `refresh_token` (with
//! rotation and organization switch), Magic Auth code, email-verification code and organization
//! selection. Confidential grants need the API key as `client_secret`.

use crate::error::{AuthError, Error, Result};
use crate::sessions::{self, Issued, Origin};
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::policy::{Checkpoint, Decision, StepUp};
use portico_domain::session::AuthMethod;
use portico_domain::user::User;
use portico_domain::{ClientId, Email, OrganizationId, Timestamp};
use serde::Deserialize;
use std::sync::OnceLock;

pub const GRANT_PASSWORD: &str = "password";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_ORGANIZATION_SELECTION: &str = "urn:workos:oauth:grant-type:organization-selection";
pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_MAGIC_AUTH: &str = "urn:workos:oauth:grant-type:magic-auth:code";
pub const GRANT_EMAIL_VERIFICATION: &str = "urn:workos:oauth:grant-type:email-verification:code";
pub const GRANT_MFA_TOTP: &str = "urn:workos:oauth:grant-type:mfa-totp";

const STEP_ORGANIZATION_SELECTION: &str = "organization_selection";
const STEP_EMAIL_VERIFICATION: &str = "email_verification";
/// A second factor is owed (a challenge, or an enrollment and then a challenge).
pub(crate) const STEP_MFA: &str = "mfa";

/// How long a pending authentication (organization selection) stays usable.
const PENDING_TTL_MS: i64 = 10 * 60 * 1000;

/// The body of an authenticate request; the WorkOS SDKs send JSON, some clients a form.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthenticateRequest {
    pub client_id: Option<String>,
    /// The API key, for confidential grants.
    pub client_secret: Option<String>,
    pub grant_type: Option<String>,
    pub email: Option<String>,
    pub password: Option<String>,
    pub refresh_token: Option<String>,
    pub organization_id: Option<String>,
    pub pending_authentication_token: Option<String>,
    /// The authorization code the hosted pages sent to the redirect URI.
    pub code: Option<String>,
    /// The PKCE verifier for the code's challenge.
    pub code_verifier: Option<String>,
    /// An invitation to accept with this sign-in (password and Magic Auth grants).
    pub invitation_token: Option<String>,
    /// The challenge a TOTP code answers (`mfa-totp` grant).
    pub authentication_challenge_id: Option<String>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AuthError::InvalidRequest(format!("{name} is required.")).into())
}

pub async fn authenticate(app: &App, request: AuthenticateRequest, origin: Origin) -> Result<Issued> {
    let client_text = required(&request.client_id, "client_id")?;
    let client_id = ClientId::parse(client_text)
        .ok_or_else(|| AuthError::InvalidClient(format!("Invalid client ID '{client_text}'.")))?;
    let mut reader = app.db.read().await?;
    if portico_store::clients::get(reader.conn(), &client_id).await?.is_none() {
        return Err(AuthError::InvalidClient(format!("Invalid client ID '{client_text}'.")).into());
    }
    drop(reader);
    let confidential = match request.client_secret.as_deref().filter(|s| !s.is_empty()) {
        Some(secret) => {
            crate::api_keys::authenticate(app, secret)
                .await
                .map_err(|_| AuthError::InvalidClient("Invalid client secret.".into()))?;
            true
        }
        None => false,
    };
    let grant = required(&request.grant_type, "grant_type")?;
    let origin = Origin {
        ip_address: request.ip_address.clone().or(origin.ip_address),
        user_agent: request.user_agent.clone().or(origin.user_agent),
    };
    let need_secret = || -> Result<()> {
        if confidential {
            Ok(())
        } else {
            Err(AuthError::InvalidClient(format!("The {grant} grant needs client_secret (an API key).")).into())
        }
    };
    match grant {
        GRANT_AUTHORIZATION_CODE => {
            let code = required(&request.code, "code")?;
            let verifier = request.code_verifier.as_deref().filter(|v| !v.is_empty());
            authorization_code(app, &client_id, code, verifier, confidential, origin).await
        }
        GRANT_MAGIC_AUTH => {
            need_secret()?;
            let email = required(&request.email, "email")?;
            let invitation = request.invitation_token.as_deref().filter(|t| !t.is_empty());
            let invitation = match invitation {
                Some(token) => Some(crate::invitations::pending_by_token(app, token).await?),
                None => None,
            };
            let user = crate::magic_auth::redeem(app, email, required(&request.code, "code")?, &origin).await?;
            complete_with_invitation(app, user, AuthMethod::MagicCode, origin, invitation).await
        }
        GRANT_EMAIL_VERIFICATION => {
            need_secret()?;
            email_verification(
                app,
                required(&request.pending_authentication_token, "pending_authentication_token")?,
                required(&request.code, "code")?,
                origin,
            )
            .await
        }
        GRANT_PASSWORD => {
            need_secret()?;
            let invitation = match request.invitation_token.as_deref().filter(|t| !t.is_empty()) {
                Some(token) => Some(crate::invitations::pending_by_token(app, token).await?),
                None => None,
            };
            let user = verify_password(
                app,
                required(&request.email, "email")?,
                required(&request.password, "password")?,
                &origin,
            )
            .await?;
            complete_with_invitation(app, user, AuthMethod::Password, origin, invitation).await
        }
        GRANT_REFRESH_TOKEN => {
            let token = required(&request.refresh_token, "refresh_token")?;
            sessions::refresh(app, token, request.organization_id.as_deref().filter(|o| !o.is_empty()), &origin).await
        }
        GRANT_MFA_TOTP => {
            need_secret()?;
            mfa_totp(
                app,
                required(&request.pending_authentication_token, "pending_authentication_token")?,
                required(&request.authentication_challenge_id, "authentication_challenge_id")?,
                required(&request.code, "code")?,
                origin,
            )
            .await
        }
        GRANT_ORGANIZATION_SELECTION => {
            need_secret()?;
            organization_selection(
                app,
                required(&request.pending_authentication_token, "pending_authentication_token")?,
                required(&request.organization_id, "organization_id")?,
            )
            .await
        }
        other => Err(AuthError::UnsupportedGrantType(other.to_owned()).into()),
    }
}

/// A hash of a random password, verified against when the account does not exist, so that
/// unknown and known emails take the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let password = portico_crypto::secret::random_token().unwrap_or_else(|_| "portico-dummy-password".into());
        portico_crypto::password::hash(&password).unwrap_or_default()
    })
}

/// Checks an email and password: the user, or `InvalidCredentials` whether the account is
/// missing or the password wrong (both take one Argon2id verification). Rate-limited per
/// address and per client, and recorded as an event either way.
pub(crate) async fn verify_password(app: &App, email: &str, password: &str, origin: &Origin) -> Result<User> {
    // Limits apply before any work, to known and unknown addresses alike.
    let limited_email = email.trim().to_lowercase();
    crate::rate_limits::check(
        app,
        &format!("sign-in:email:{limited_email}"),
        app.settings.sign_in_per_email,
        "sign-in attempts for this email address",
    )
    .await?;
    if let Some(ip) = &origin.ip_address {
        crate::rate_limits::check(
            app,
            &format!("sign-in:ip:{ip}"),
            app.settings.sign_in_per_ip,
            "sign-in attempts from this address",
        )
        .await?;
    }
    let email = Email::parse("email", email).ok();
    let mut reader = app.db.read().await?;
    let user = match &email {
        Some(email) => portico_store::users::get_by_email(reader.conn(), email).await?,
        None => None,
    };
    let stored = match &user {
        Some(user) => portico_store::users::password_hash(reader.conn(), &user.id).await?,
        None => None,
    };
    drop(reader);
    let hash = stored.clone().unwrap_or_else(|| dummy_hash().to_owned());
    let matches = app.passwords.verify(password.to_owned(), hash).await? && stored.is_some();
    let mut outcome = serde_json::json!({
        "type": "password",
        "status": if matches { "succeeded" } else { "failed" },
        "user_id": user.as_ref().map(|u| u.id.to_string()),
        "email": email.as_ref().map(Email::as_str),
        "ip_address": origin.ip_address,
        "user_agent": origin.user_agent,
    });
    if !matches {
        outcome["error"] = events::auth_error_data(&AuthError::InvalidCredentials);
    }
    let mut tx = app.db.begin().await?;
    let name = if matches { names::AUTHENTICATION_PASSWORD_SUCCEEDED } else { names::AUTHENTICATION_PASSWORD_FAILED };
    events::record(app, tx.conn(), name, &outcome, None).await?;
    tx.commit().await?;
    match user {
        Some(user) if matches => Ok(user),
        _ => Err(AuthError::InvalidCredentials.into()),
    }
}

/// Where a sign-in goes once the user proved who they are.
pub(crate) enum Resolution {
    /// The email must be verified first; a code was sent.
    VerifyEmail { email_verification_id: String },
    /// Straight into this organization, or into none.
    Organization(Option<OrganizationId>),
    /// The user must choose among these (id, name).
    Choose(Vec<(OrganizationId, String)>),
}

/// Decides the next step for a proven `user`: email verification when required, then the
/// organization (`preferred` when they are an active member of it).
pub(crate) async fn resolve(app: &App, user: &User, preferred: Option<&OrganizationId>) -> Result<Resolution> {
    if app.settings.require_email_verification && !user.email_verified {
        let mut tx = app.db.begin().await?;
        let id = crate::email_verification::issue(app, tx.conn(), user, None).await?;
        tx.commit().await?;
        return Ok(Resolution::VerifyEmail { email_verification_id: id.to_string() });
    }
    let mut reader = app.db.read().await?;
    let organizations = portico_store::memberships::active_for_user(reader.conn(), &user.id).await?;
    drop(reader);
    if let Some(preferred) = preferred
        && organizations.iter().any(|(id, _)| id == preferred)
    {
        return Ok(Resolution::Organization(Some(preferred.clone())));
    }
    Ok(match organizations.len() {
        0 => Resolution::Organization(None),
        1 => Resolution::Organization(organizations.into_iter().next().map(|(id, _)| id)),
        _ => Resolution::Choose(organizations),
    })
}

/// What a pending authentication carries to its next step.
#[derive(Debug, Clone, Default)]
pub(crate) struct Carried {
    /// The organization already chosen.
    pub organization: Option<OrganizationId>,
    /// When the sign-in passed its second factor.
    pub mfa_verified_at: Option<Timestamp>,
    /// A live session the step continues (an organization switch stepping up).
    pub continues_session_id: Option<String>,
}

pub(crate) async fn new_pending(
    app: &App,
    user: &User,
    method: AuthMethod,
    origin: &Origin,
    step: &str,
    carried: Carried,
) -> Result<String> {
    let token = crate::codes::new_token()?;
    let now = app.now();
    let pending = portico_store::pending_authentications::PendingAuthentication {
        id: app.ids.next_ulid(now).to_string(),
        user_id: user.id.clone(),
        auth_method: method.session_name().to_owned(),
        ip_address: origin.ip_address.clone(),
        user_agent: origin.user_agent.clone(),
        step: step.to_owned(),
        organization_id: carried.organization.map(|o| o.to_string()),
        mfa_verified_at: carried.mfa_verified_at,
        continues_session_id: carried.continues_session_id,
        expires_at: now.plus_ms(PENDING_TTL_MS),
    };
    let mut tx = app.db.begin().await?;
    portico_store::pending_authentications::insert(
        tx.conn(),
        &pending,
        &portico_crypto::secret::sha256_hex(&token),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(token)
}

/// Finishes a sign-in: email verification first when needed, then the user's own second factor,
/// then the organization (`preferred` when already chosen), then its policy.
async fn complete(
    app: &App,
    user: User,
    method: AuthMethod,
    origin: Origin,
    mfa_verified_at: Option<Timestamp>,
    preferred: Option<OrganizationId>,
) -> Result<Issued> {
    crate::policies::auto_join(app, &user).await?;
    let resolution = resolve(app, &user, preferred.as_ref()).await?;
    if let Resolution::VerifyEmail { email_verification_id } = resolution {
        let token = new_pending(
            app,
            &user,
            method,
            &origin,
            STEP_EMAIL_VERIFICATION,
            Carried { organization: preferred, mfa_verified_at, continues_session_id: None },
        )
        .await?;
        return Err(AuthError::EmailVerificationRequired {
            pending_authentication_token: token,
            email: user.email.as_str().to_owned(),
            email_verification_id,
            user: Box::new(user),
        }
        .into());
    }
    // A user who set up a second factor is asked for it whatever the organization requires.
    if mfa_verified_at.is_none() && crate::mfa::has_second_factor(app, &user.id).await? {
        let carried = Carried { organization: preferred, mfa_verified_at: None, continues_session_id: None };
        return Err(mfa_step(app, user, method, &origin, StepUp::MfaChallenge, carried).await);
    }
    match resolution {
        Resolution::Organization(organization) => {
            finish_sign_in(app, user, method, origin, mfa_verified_at, organization).await
        }
        Resolution::Choose(organizations) => {
            let carried = Carried { organization: None, mfa_verified_at, continues_session_id: None };
            let token = new_pending(app, &user, method, &origin, STEP_ORGANIZATION_SELECTION, carried).await?;
            Err(AuthError::OrganizationSelectionRequired {
                pending_authentication_token: token,
                user: Box::new(user),
                organizations: organizations.into_iter().map(|(id, name)| (id.to_string(), name)).collect(),
            }
            .into())
        }
        Resolution::VerifyEmail { .. } => Err(Error::Internal("email verification was handled above".into())),
    }
}

/// The last check before a session starts: the environment's and the organization's policy.
async fn finish_sign_in(
    app: &App,
    user: User,
    method: AuthMethod,
    origin: Origin,
    mfa_verified_at: Option<Timestamp>,
    organization: Option<OrganizationId>,
) -> Result<Issued> {
    let proof = crate::policies::Proof::fresh(app, method, mfa_verified_at.is_some());
    let decision =
        crate::policies::check(app, Checkpoint::SignIn, &user.id, organization.as_ref(), &proof, &origin).await?;
    match decision {
        Decision::StepUp(step @ (StepUp::MfaChallenge | StepUp::MfaEnrollment)) => {
            let carried = Carried { organization, mfa_verified_at: None, continues_session_id: None };
            Err(mfa_step(app, user, method, &origin, step, carried).await)
        }
        Decision::Refuse(_) => Err(crate::policies::refusal(&decision, user.email.as_str())
            .unwrap_or_else(|| Error::Internal("a refusal without a reason".into()))),
        // A sign-in that is finishing now has just authenticated.
        Decision::Allow | Decision::StepUp(StepUp::Reauthenticate) => {
            sessions::start(app, user, organization, method, &origin, mfa_verified_at).await
        }
    }
}

/// The 403 that asks for a second factor, with the pending token the `mfa-totp` grant takes.
pub(crate) async fn mfa_step(
    app: &App,
    user: User,
    method: AuthMethod,
    origin: &Origin,
    step: StepUp,
    carried: Carried,
) -> Error {
    let token = match new_pending(app, &user, method, origin, STEP_MFA, carried).await {
        Ok(token) => token,
        Err(error) => return error,
    };
    match step {
        // `authentication_factors` lists the authenticator apps. A user whose second factors
        // are all passkeys gets an empty list: only the hosted pages can check a passkey, and
        // offering an enrollment instead would let a password alone add a factor in its place.
        StepUp::MfaChallenge => match crate::mfa::verified_factors(app, &user.id).await {
            Ok(factors) => {
                AuthError::MfaChallenge { pending_authentication_token: token, user: Box::new(user), factors }.into()
            }
            Err(error) => error,
        },
        _ => AuthError::MfaEnrollment { pending_authentication_token: token, user: Box::new(user) }.into(),
    }
}

/// The live pending authentication behind `token` for `step`, and its user, without using it up
/// (a wrong code must leave it usable).
async fn peek_pending(
    app: &App,
    token: &str,
    step: &str,
) -> Result<(portico_store::pending_authentications::PendingAuthentication, User)> {
    let digest = portico_crypto::secret::sha256_hex(token);
    let mut reader = app.db.read().await?;
    let pending = portico_store::pending_authentications::peek(reader.conn(), &digest, step, app.now())
        .await?
        .ok_or(AuthError::InvalidPendingAuthenticationToken)?;
    let user = portico_store::users::get(reader.conn(), &pending.user_id)
        .await?
        .ok_or(AuthError::InvalidPendingAuthenticationToken)?;
    Ok((pending, user))
}

/// Uses up the pending authentication once its step is done; a concurrent use gets there first
/// at most once.
async fn take_pending(app: &App, token: &str, step: &str) -> Result<()> {
    let digest = portico_crypto::secret::sha256_hex(token);
    let mut tx = app.db.begin().await?;
    portico_store::pending_authentications::take(tx.conn(), &digest, step, app.now())
        .await?
        .ok_or(AuthError::InvalidPendingAuthenticationToken)?;
    tx.commit().await?;
    Ok(())
}

/// The `mfa-totp` grant: a code from the user's authenticator answering a challenge, which
/// finishes a sign-in (or an organization switch) that stopped for a second factor.
async fn mfa_totp(app: &App, token: &str, challenge: &str, code: &str, origin: Origin) -> Result<Issued> {
    let now = app.now();
    let (pending, user) = peek_pending(app, token, STEP_MFA).await?;
    // A wrong code leaves the pending token usable for the next try.
    crate::mfa::verify_for_user(app, &user.id, challenge, code, &origin).await?;
    take_pending(app, token, STEP_MFA).await?;
    let method = AuthMethod::parse_session_name(&pending.auth_method).unwrap_or(AuthMethod::Password);
    let organization = pending.organization_id.map(OrganizationId::from_trusted);
    if let Some(session) = pending.continues_session_id {
        return sessions::continue_after_step_up(app, &session, user, organization, now).await;
    }
    let origin = Origin {
        ip_address: origin.ip_address.or(pending.ip_address),
        user_agent: origin.user_agent.or(pending.user_agent),
    };
    complete(app, user, method, origin, Some(now), organization).await
}

/// Finishes a sign-in that carries an invitation: the invitation must be for the user's address
/// (which it proves, as the invitation email reached them), joins its organization with its
/// role, and scopes the session there.
async fn complete_with_invitation(
    app: &App,
    user: User,
    method: AuthMethod,
    origin: Origin,
    invitation: Option<portico_domain::invitation::Invitation>,
) -> Result<Issued> {
    let Some(invitation) = invitation else { return complete(app, user, method, origin, None, None).await };
    if invitation.email != user.email {
        return Err(AuthError::InvitationInvalid("The invitation was sent to another email address.".into()).into());
    }
    let user = crate::email_verification::mark_verified(app, user).await?;
    crate::invitations::accept_for(app, invitation.id.as_str(), &user).await?;
    complete(app, user, method, origin, None, invitation.organization_id.clone()).await
}

/// The email-verification grant: the code sent when a sign-in stopped for verification.
async fn email_verification(app: &App, token: &str, code: &str, origin: Origin) -> Result<Issued> {
    let (pending, user) = peek_pending(app, token, STEP_EMAIL_VERIFICATION).await?;
    // A wrong code leaves the pending token usable for the next try.
    let user = crate::email_verification::redeem(app, user, code, origin.ip_address.as_deref()).await?;
    take_pending(app, token, STEP_EMAIL_VERIFICATION).await?;
    let method = AuthMethod::parse_session_name(&pending.auth_method).unwrap_or(AuthMethod::Password);
    let origin = Origin {
        ip_address: pending.ip_address.or(origin.ip_address),
        user_agent: pending.user_agent.or(origin.user_agent),
    };
    let organization = pending.organization_id.map(OrganizationId::from_trusted);
    complete(app, user, method, origin, pending.mfa_verified_at, organization).await
}

/// The `authorization_code` grant: a code from the hosted pages, once, within ten minutes, with
/// the PKCE verifier when the app sent a challenge (public clients must). A code presented a
/// second time revokes the session its first use issued: someone else may hold it.
async fn authorization_code(
    app: &App,
    client: &ClientId,
    code: &str,
    verifier: Option<&str>,
    confidential: bool,
    origin: Origin,
) -> Result<Issued> {
    let invalid = |why: &str| Error::Auth(AuthError::InvalidGrant(why.to_owned()));
    let now = app.now();
    let mut reader = app.db.read().await?;
    let found =
        portico_store::authorization_codes::find(reader.conn(), &portico_crypto::secret::sha256_hex(code)).await?;
    drop(reader);
    let Some(found) = found else { return Err(invalid("The code is invalid.")) };
    if found.used_at.is_some() {
        crate::authorize::revoke_replayed(app, &found).await?;
        return Err(invalid("The code has already been used."));
    }
    if found.client_id != client.as_str() {
        return Err(invalid("The code was issued to another client."));
    }
    if found.expires_at <= now.unix_ms() {
        return Err(invalid("The code has expired."));
    }
    match (&found.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) => {
            if !portico_crypto::secret::pkce_s256_matches(verifier, challenge) {
                return Err(invalid("The code_verifier does not match the code_challenge."));
            }
        }
        (Some(_), None) => return Err(invalid("The code was requested with PKCE: code_verifier is required.")),
        (None, _) if !confidential => {
            return Err(AuthError::InvalidClient(
                "Without PKCE, exchanging a code needs client_secret (an API key).".into(),
            )
            .into());
        }
        (None, _) => {}
    }
    let mut tx = app.db.begin().await?;
    if !portico_store::authorization_codes::mark_used(tx.conn(), &found.id, now).await? {
        drop(tx);
        crate::authorize::revoke_replayed(app, &found).await?;
        return Err(invalid("The code has already been used."));
    }
    tx.commit().await?;
    let mut reader = app.db.read().await?;
    let user = portico_store::users::get(reader.conn(), &portico_domain::UserId::from_trusted(found.user_id.clone()))
        .await?
        .ok_or_else(|| invalid("The code's user no longer exists."))?;
    drop(reader);
    let method = AuthMethod::parse_session_name(&found.auth_method).unwrap_or(AuthMethod::Password);
    let organization = found.organization_id.clone().map(OrganizationId::from_trusted);
    let origin = Origin {
        ip_address: origin.ip_address.or(found.ip_address.clone()),
        user_agent: origin.user_agent.or(found.user_agent.clone()),
    };
    let issued = match found.continues_session_id.as_deref() {
        // From the organization switcher: the same session, now in the chosen organization.
        Some(session) => {
            let mfa = found.mfa_verified_at.map(portico_domain::Timestamp::from_unix_ms);
            sessions::continue_in(app, session, user, organization, mfa).await?
        }
        None => {
            let mfa = found.mfa_verified_at.map(portico_domain::Timestamp::from_unix_ms);
            sessions::start(app, user, organization, method, &origin, mfa).await?
        }
    };
    let mut tx = app.db.begin().await?;
    portico_store::authorization_codes::set_session(tx.conn(), &found.id, &issued.session_id).await?;
    tx.commit().await?;
    Ok(issued)
}

async fn organization_selection(app: &App, token: &str, organization: &str) -> Result<Issued> {
    let organization_id = OrganizationId::parse(organization).ok_or_else(|| {
        AuthError::OrganizationMembershipNotFound(format!("The user is not a member of organization '{organization}'."))
    })?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let pending = portico_store::pending_authentications::take(
        tx.conn(),
        &portico_crypto::secret::sha256_hex(token),
        STEP_ORGANIZATION_SELECTION,
        now,
    )
    .await?
    .ok_or(AuthError::InvalidPendingAuthenticationToken)?;
    let user = portico_store::users::get(tx.conn(), &pending.user_id)
        .await?
        .ok_or(AuthError::InvalidPendingAuthenticationToken)?;
    let is_member = portico_store::memberships::find_state(tx.conn(), &user.id, &organization_id)
        .await?
        .is_some_and(|m| m.status == portico_domain::membership::MembershipStatus::Active);
    if !is_member {
        // Dropping the transaction keeps the pending token usable for another choice.
        return Err(AuthError::OrganizationMembershipNotFound(format!(
            "The user is not an active member of organization '{organization}'."
        ))
        .into());
    }
    tx.commit().await?;
    let method = AuthMethod::parse_session_name(&pending.auth_method).unwrap_or(AuthMethod::Password);
    let origin = Origin { ip_address: pending.ip_address, user_agent: pending.user_agent };
    finish_sign_in(app, user, method, origin, pending.mfa_verified_at, Some(organization_id)).await
}
