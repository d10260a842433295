//! Invitations: an email address asked to join the environment, or an organization with a role.
//! Accepting one (on the hosted pages, or with `invitation_token` on a grant) makes the
//! membership; the invitation is used up only when a session is actually issued.

use crate::codes;
use crate::error::{AuthError, Error, Result};
use crate::mail::{self, Content};
use crate::organizations::parse_organization_id;
use crate::users::parse_user_id;
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::invitation::{DEFAULT_EXPIRES_IN_DAYS, Invitation, InvitationState, MAX_EXPIRES_IN_DAYS};
use portico_domain::user::User;
use portico_domain::validation::Checker;
use portico_domain::{Email, InvitationId, OrganizationId, Timestamp, UserId};
use portico_store::invitations::InvitationRow;
use portico_store::{Page, PageRequest};
use serde::Deserialize;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SendInvitation {
    pub email: Option<String>,
    pub organization_id: Option<String>,
    /// 1 to 30; 7 when absent.
    pub expires_in_days: Option<i64>,
    pub inviter_user_id: Option<String>,
    pub role_slug: Option<String>,
    /// The language of the email (`en`, `fr`, …).
    pub locale: Option<String>,
}

/// Where the invitation email sends the person: Portico's hosted invitation page.
pub fn accept_url(app: &App, token: &str) -> String {
    format!("{}/invitation?invitation_token={token}", app.public_url())
}

fn to_object(app: &App, row: &InvitationRow) -> Result<Invitation> {
    let token = codes::open_text(app, &row.token_sealed, &row.id)?;
    let expires_at = Timestamp::from_unix_ms(row.expires_at);
    Ok(Invitation {
        id: InvitationId::from_trusted(row.id.clone()),
        email: Email::parse("email", &row.email).map_err(|_| Error::Internal("stored email is invalid".into()))?,
        state: InvitationState::at(&row.state, expires_at, app.now())
            .ok_or_else(|| Error::Internal(format!("invitation state {}", row.state)))?,
        accepted_at: row.accepted_at.map(Timestamp::from_unix_ms),
        revoked_at: row.revoked_at.map(Timestamp::from_unix_ms),
        expires_at,
        organization_id: row.organization_id.clone().map(OrganizationId::from_trusted),
        inviter_user_id: row.inviter_user_id.clone().map(UserId::from_trusted),
        accepted_user_id: row.accepted_user_id.clone().map(UserId::from_trusted),
        role_slug: row.role_slug.clone(),
        accept_invitation_url: accept_url(app, &token),
        token,
        created_at: Timestamp::from_unix_ms(row.created_at),
        updated_at: Timestamp::from_unix_ms(row.updated_at),
    })
}

pub async fn send(app: &App, input: SendInvitation) -> Result<Invitation> {
    let mut checker = Checker::new();
    let email = match input.email.as_deref() {
        Some(text) => checker.check(Email::parse("email", text)),
        None => {
            checker.fail("email", "email_required", "email is required");
            None
        }
    };
    let days = input.expires_in_days.unwrap_or(DEFAULT_EXPIRES_IN_DAYS);
    if !(1..=MAX_EXPIRES_IN_DAYS).contains(&days) {
        checker.fail(
            "expires_in_days",
            "expires_in_days_invalid",
            format!("expires_in_days must be between 1 and {MAX_EXPIRES_IN_DAYS}"),
        );
    }
    if input.role_slug.is_some() && input.organization_id.is_none() {
        checker.fail(
            "role_slug",
            "organization_id_required",
            "role_slug needs organization_id: roles belong to an organization membership",
        );
    }
    checker.finish()?;
    let email = email.ok_or_else(|| Error::Internal("validated fields missing".into()))?;
    let mut reader = app.db.read().await?;
    let organization = match &input.organization_id {
        Some(text) => {
            let id = parse_organization_id(text)?;
            let name = portico_store::organizations::name(reader.conn(), &id)
                .await?
                .ok_or_else(|| Error::not_found("Organization", text))?;
            Some((id, name))
        }
        None => None,
    };
    let inviter = match &input.inviter_user_id {
        Some(text) => Some(
            portico_store::users::get(reader.conn(), &parse_user_id(text)?)
                .await?
                .ok_or_else(|| Error::not_found("User", text))?,
        ),
        None => None,
    };
    if let (Some(slug), Some((org, _))) = (&input.role_slug, &organization) {
        crate::memberships::check_role_exists(reader.conn(), org, slug).await?;
    }
    if let Some((org, _)) = &organization {
        crate::policies::check_joining(reader.conn(), org, email.as_str(), "email").await?;
    }
    if let (Some((org, _)), Some(user)) =
        (&organization, portico_store::users::get_by_email(reader.conn(), &email).await?)
    {
        let member = portico_store::memberships::find_state(reader.conn(), &user.id, org).await?;
        if member.is_some_and(|m| m.status == portico_domain::membership::MembershipStatus::Active) {
            return Err(Error::BadRequest {
                code: "user_already_organization_member",
                message: format!("{} is already a member of the organization.", email.as_str()),
                errors: vec![],
            });
        }
    }
    let org_key = organization.as_ref().map(|(id, _)| id.to_string());
    if portico_store::invitations::find_pending(reader.conn(), email.as_str(), org_key.as_deref(), app.now())
        .await?
        .is_some()
    {
        return Err(Error::BadRequest {
            code: "duplicate_invitation",
            message: format!("{} already has a pending invitation.", email.as_str()),
            errors: vec![],
        });
    }
    drop(reader);
    let token = codes::new_token()?;
    let now = app.now();
    let id = app.new_id::<InvitationId>().to_string();
    let row = InvitationRow {
        token_sealed: codes::seal_text(app, &token, &id)?,
        id,
        email: email.as_str().to_owned(),
        organization_id: org_key.clone(),
        inviter_user_id: inviter.as_ref().map(|u| u.id.to_string()),
        role_slug: input.role_slug.clone(),
        state: "pending".into(),
        accepted_at: None,
        revoked_at: None,
        accepted_user_id: None,
        expires_at: now.plus_ms(days * DAY_MS).unix_ms(),
        created_at: now.unix_ms(),
        updated_at: now.unix_ms(),
    };
    let url = accept_url(app, &token);
    let lang = input.locale.as_deref().unwrap_or("en");
    let inviter_name = inviter.as_ref().map(|u| u.name.clone().unwrap_or_else(|| u.email.as_str().to_owned()));
    let mut tx = app.db.begin().await?;
    portico_store::invitations::insert(tx.conn(), &row, &portico_crypto::secret::sha256_hex(&token)).await?;
    let content = Content::Invitation {
        url: &url,
        organization: organization.as_ref().map(|(_, name)| name.as_str()),
        inviter: inviter_name.as_deref(),
    };
    mail::enqueue(app, tx.conn(), email.as_str(), lang, &content).await?;
    let invitation = to_object(app, &row)?;
    events::record(
        app,
        tx.conn(),
        names::INVITATION_CREATED,
        &public_event(&invitation),
        org_key.map(OrganizationId::from_trusted).as_ref(),
    )
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// The invitation as events carry it: without its token.
fn public_event(invitation: &Invitation) -> serde_json::Value {
    let mut value = serde_json::to_value(invitation).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("token");
        object.remove("accept_invitation_url");
    }
    value
}

pub async fn get(app: &App, id: &str) -> Result<Invitation> {
    let mut reader = app.db.read().await?;
    let row =
        portico_store::invitations::get(reader.conn(), id).await?.ok_or_else(|| Error::not_found("Invitation", id))?;
    drop(reader);
    to_object(app, &row)
}

pub async fn find_by_token(app: &App, token: &str) -> Result<Invitation> {
    let mut reader = app.db.read().await?;
    let row = portico_store::invitations::find_by_token(reader.conn(), &portico_crypto::secret::sha256_hex(token))
        .await?
        .ok_or_else(|| Error::not_found("Invitation", "by token"))?;
    drop(reader);
    to_object(app, &row)
}

pub async fn list(
    app: &App,
    organization_id: Option<&str>,
    email: Option<&str>,
    page: &PageRequest,
) -> Result<Page<Invitation>> {
    let email = email.map(|e| Email::parse("email", e).map_err(|e| Error::Invalid(e.into()))).transpose()?;
    let mut reader = app.db.read().await?;
    let rows =
        portico_store::invitations::list(reader.conn(), organization_id, email.as_ref().map(Email::as_str), page)
            .await?;
    drop(reader);
    let data = rows.data.iter().map(|row| to_object(app, row)).collect::<Result<Vec<_>>>()?;
    Ok(Page { data, before: rows.before, after: rows.after })
}

fn not_pending(invitation: &Invitation) -> Error {
    let state = match invitation.state {
        InvitationState::Accepted => "accepted",
        InvitationState::Expired => "expired",
        InvitationState::Revoked => "revoked",
        InvitationState::Pending => "pending",
    };
    Error::BadRequest {
        code: "invitation_invalid",
        message: format!("The invitation is {state}; only a pending invitation can be used."),
        errors: vec![],
    }
}

pub async fn revoke(app: &App, id: &str) -> Result<Invitation> {
    let invitation = get(app, id).await?;
    if invitation.state != InvitationState::Pending {
        return Err(not_pending(&invitation));
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    if !portico_store::invitations::finish(tx.conn(), id, "revoked", None, now).await? {
        return Err(not_pending(&invitation));
    }
    let invitation =
        Invitation { state: InvitationState::Revoked, revoked_at: Some(now), updated_at: now, ..invitation };
    events::record(
        app,
        tx.conn(),
        names::INVITATION_REVOKED,
        &public_event(&invitation),
        invitation.organization_id.as_ref(),
    )
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// Sends the invitation again with a new token (the old link stops working) and a fresh expiry.
pub async fn resend(app: &App, id: &str, locale: Option<&str>) -> Result<Invitation> {
    let invitation = get(app, id).await?;
    if matches!(invitation.state, InvitationState::Accepted | InvitationState::Revoked) {
        return Err(not_pending(&invitation));
    }
    let mut reader = app.db.read().await?;
    let organization = match &invitation.organization_id {
        Some(org) => portico_store::organizations::name(reader.conn(), org).await?,
        None => None,
    };
    drop(reader);
    let token = codes::new_token()?;
    let now = app.now();
    let lifetime = (invitation.expires_at.unix_ms() - invitation.created_at.unix_ms()).max(DAY_MS);
    let expires_at = now.plus_ms(lifetime);
    let url = accept_url(app, &token);
    let mut tx = app.db.begin().await?;
    portico_store::invitations::renew(
        tx.conn(),
        id,
        &portico_crypto::secret::sha256_hex(&token),
        &codes::seal_text(app, &token, id)?,
        expires_at,
        now,
    )
    .await?;
    let content = Content::Invitation { url: &url, organization: organization.as_deref(), inviter: None };
    mail::enqueue(app, tx.conn(), invitation.email.as_str(), locale.unwrap_or("en"), &content).await?;
    let invitation = Invitation {
        token,
        accept_invitation_url: url,
        expires_at,
        state: InvitationState::Pending,
        updated_at: now,
        ..invitation
    };
    events::record(
        app,
        tx.conn(),
        names::INVITATION_RESENT,
        &public_event(&invitation),
        invitation.organization_id.as_ref(),
    )
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// A pending invitation by its token, for the hosted pages and grants.
pub(crate) async fn pending_by_token(app: &App, token: &str) -> Result<Invitation> {
    let invitation = find_by_token(app, token)
        .await
        .map_err(|_| AuthError::InvitationInvalid("The invitation is not valid.".into()))?;
    if invitation.state != InvitationState::Pending {
        return Err(AuthError::InvitationInvalid(format!(
            "The invitation is {}.",
            match invitation.state {
                InvitationState::Accepted => "already accepted",
                InvitationState::Expired => "expired",
                _ => "revoked",
            }
        ))
        .into());
    }
    Ok(invitation)
}

/// Makes `user` a member as the invitation says and marks it accepted. The invitation must be
/// pending and addressed to the user's email.
pub(crate) async fn accept_for(app: &App, invitation_id: &str, user: &User) -> Result<Invitation> {
    let invitation = get(app, invitation_id).await?;
    if invitation.state != InvitationState::Pending {
        return Err(AuthError::InvitationInvalid("The invitation is no longer pending.".into()).into());
    }
    if invitation.email != user.email {
        return Err(AuthError::InvitationInvalid("The invitation was sent to another email address.".into()).into());
    }
    if let Some(org) = &invitation.organization_id {
        let input = crate::input::CreateMembership {
            organization_id: Some(org.to_string()),
            user_id: Some(user.id.to_string()),
            role_slug: invitation.role_slug.clone(),
            role_slugs: None,
        };
        match crate::memberships::create(app, input).await {
            Ok(_) => {}
            // Already a member (accepted twice, or added meanwhile): the invitation is still done.
            Err(Error::Conflict { code: "organization_membership_already_exists", .. }) => {}
            Err(other) => return Err(other),
        }
    }
    let now = app.now();
    let mut tx = app.db.begin().await?;
    portico_store::invitations::finish(tx.conn(), invitation_id, "accepted", Some(user.id.as_str()), now).await?;
    let invitation = Invitation {
        state: InvitationState::Accepted,
        accepted_at: Some(now),
        accepted_user_id: Some(user.id.clone()),
        updated_at: now,
        ..invitation
    };
    events::record(
        app,
        tx.conn(),
        names::INVITATION_ACCEPTED,
        &public_event(&invitation),
        invitation.organization_id.as_ref(),
    )
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// `POST /user_management/invitations/{id}/accept`: for the user the invitation names, who must
/// already have an account.
pub async fn accept(app: &App, id: &str) -> Result<Invitation> {
    let invitation = get(app, id).await?;
    if invitation.state != InvitationState::Pending {
        return Err(not_pending(&invitation));
    }
    let mut reader = app.db.read().await?;
    let user = portico_store::users::get_by_email(reader.conn(), &invitation.email).await?.ok_or_else(|| {
        Error::BadRequest {
            code: "invitation_invalid",
            message: format!(
                "No user has the address {}; they accept by signing up through the invitation link.",
                invitation.email.as_str()
            ),
            errors: vec![],
        }
    })?;
    drop(reader);
    accept_for(app, id, &user).await
}
