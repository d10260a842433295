//! `POST /user_management/authenticate`: the grants that turn proof of identity into a session.
//!
//! Implemented grants: `password`, `refresh_token` (with rotation and organization switch) and
//! organization selection. Confidential grants need the API key as `client_secret`.

use crate::error::{AuthError, Error, Result};
use crate::sessions::{self, Issued, Origin};
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::session::AuthMethod;
use portico_domain::user::User;
use portico_domain::{ClientId, Email, OrganizationId};
use serde::Deserialize;
use std::sync::OnceLock;

pub const GRANT_PASSWORD: &str = "password";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_ORGANIZATION_SELECTION: &str = "urn:workos:oauth:grant-type:organization-selection";

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
        GRANT_PASSWORD => {
            need_secret()?;
            password(app, required(&request.email, "email")?, required(&request.password, "password")?, origin).await
        }
        GRANT_REFRESH_TOKEN => {
            let token = required(&request.refresh_token, "refresh_token")?;
            sessions::refresh(app, token, request.organization_id.as_deref().filter(|o| !o.is_empty())).await
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

async fn password(app: &App, email: &str, password: &str, origin: Origin) -> Result<Issued> {
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
    let outcome = serde_json::json!({
        "type": "password",
        "status": if matches { "succeeded" } else { "failed" },
        "user_id": user.as_ref().map(|u| u.id.to_string()),
        "email": email.as_ref().map(Email::as_str),
        "ip_address": origin.ip_address,
        "user_agent": origin.user_agent,
    });
    let mut tx = app.db.begin().await?;
    let name = if matches { names::AUTHENTICATION_PASSWORD_SUCCEEDED } else { names::AUTHENTICATION_PASSWORD_FAILED };
    events::record(app, tx.conn(), name, &outcome, None).await?;
    tx.commit().await?;
    match user {
        Some(user) if matches => complete(app, user, AuthMethod::Password, origin).await,
        _ => Err(AuthError::InvalidCredentials.into()),
    }
}

/// Finishes a sign-in: straight into the only organization, into none, or through a choice.
async fn complete(app: &App, user: User, method: AuthMethod, origin: Origin) -> Result<Issued> {
    let mut reader = app.db.read().await?;
    let organizations = portico_store::memberships::active_for_user(reader.conn(), &user.id).await?;
    drop(reader);
    match organizations.len() {
        0 => sessions::start(app, user, None, method, &origin).await,
        1 => {
            let organization = organizations.into_iter().next().map(|(id, _)| id);
            sessions::start(app, user, organization, method, &origin).await
        }
        _ => {
            let token = portico_crypto::secret::random_token().map_err(|e| Error::Internal(e.to_string()))?;
            let now = app.now();
            let pending = portico_store::pending_authentications::PendingAuthentication {
                id: app.ids.next_ulid(now).to_string(),
                user_id: user.id.clone(),
                auth_method: method.session_name().to_owned(),
                ip_address: origin.ip_address,
                user_agent: origin.user_agent,
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
            Err(AuthError::OrganizationSelectionRequired {
                pending_authentication_token: token,
                user: Box::new(user),
                organizations: organizations.into_iter().map(|(id, name)| (id.to_string(), name)).collect(),
            }
            .into())
        }
    }
}

async fn organization_selection(app: &App, token: &str, organization: &str) -> Result<Issued> {
    let organization_id = OrganizationId::parse(organization).ok_or_else(|| {
        AuthError::OrganizationMembershipNotFound(format!("The user is not a member of organization '{organization}'."))
    })?;
    let now = app.now();
    let mut tx = app.db.begin().await?;
    let pending =
        portico_store::pending_authentications::take(tx.conn(), &portico_crypto::secret::sha256_hex(token), now)
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
    sessions::start(app, user, Some(organization_id), method, &origin).await
}
