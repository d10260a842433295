//! Organization memberships: a user joins an organization with one or more roles.

use crate::error::{Error, Result};
use crate::input::{CreateMembership, UpdateMembership};
use crate::organizations::parse_organization_id;
use crate::users::parse_user_id;
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::id::check_id;
use portico_domain::membership::{Membership, MembershipStatus, MembershipWithUser, RoleRef};
use portico_domain::validation::Checker;
use portico_domain::{FieldError, MembershipId, OrganizationId, RoleId, UserId, slug};
use portico_store::memberships::MembershipFilter;
use portico_store::{Conn, Page, PageRequest};

fn parse_membership_id(text: &str) -> Result<MembershipId> {
    MembershipId::parse(text).ok_or_else(|| Error::not_found("Organization Membership", text))
}

/// Reads `role_slug` / `role_slugs`; `None` when neither was given.
fn requested_slugs(
    checker: &mut Checker,
    role_slug: Option<&str>,
    role_slugs: Option<&[String]>,
) -> Option<Vec<String>> {
    match (role_slug, role_slugs) {
        (Some(_), Some(_)) => {
            checker.fail("role_slugs", "role_slugs_conflict", "give either role_slug or role_slugs, not both");
            None
        }
        (Some(one), None) => checker.check(slug::check("role_slug", one)).map(|s| vec![s]),
        (None, Some(many)) => {
            if many.is_empty() {
                checker.fail("role_slugs", "role_slugs_empty", "role_slugs must name at least one role");
                return None;
            }
            let mut slugs: Vec<String> = Vec::new();
            for one in many {
                if let Some(s) = checker.check(slug::check("role_slugs", one))
                    && !slugs.contains(&s)
                {
                    slugs.push(s);
                }
            }
            Some(slugs)
        }
        (None, None) => None,
    }
}

/// Resolves slugs to the roles an organization's members can hold, in the order given.
async fn resolve_roles(
    conn: Conn<'_>,
    organization: &OrganizationId,
    slugs: &[String],
    field: &str,
) -> Result<Vec<RoleId>> {
    let roles = portico_store::roles::ids_for_organization(conn, organization, slugs).await?;
    let mut ids = Vec::new();
    let mut unknown = Vec::new();
    for slug in slugs {
        match roles.iter().find(|(_, s)| s == slug) {
            Some((id, _)) => ids.push(id.clone()),
            None => unknown.push(slug.clone()),
        }
    }
    if unknown.is_empty() {
        Ok(ids)
    } else {
        Err(Error::Invalid(
            FieldError::new(
                field,
                "role_not_found",
                format!("no role with slug {} exists for this organization", unknown.join(", ")),
            )
            .into(),
        ))
    }
}

/// Refuses a role slug that no member of `organization` could hold.
pub(crate) async fn check_role_exists(conn: Conn<'_>, organization: &OrganizationId, slug: &str) -> Result<()> {
    resolve_roles(conn, organization, &[slug.to_owned()], "role_slug").await.map(|_| ())
}

/// Whether `slug` names a role members of the organization can have (its own or the environment's).
pub(crate) async fn role_exists(conn: Conn<'_>, organization: &OrganizationId, slug: &str) -> Result<bool> {
    match check_role_exists(conn, organization, slug).await {
        Ok(()) => Ok(true),
        Err(Error::Invalid(_) | Error::NotFound { .. }) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Loads the membership with its user, for responses.
async fn with_user(mut conn: Conn<'_>, membership: Membership) -> Result<MembershipWithUser> {
    let user = portico_store::users::get(conn.reborrow(), &membership.user_id)
        .await?
        .ok_or_else(|| Error::Internal("membership without user".into()))?;
    Ok(MembershipWithUser::new(membership, user))
}

async fn load(mut conn: Conn<'_>, id: &MembershipId) -> Result<MembershipWithUser> {
    let membership = portico_store::memberships::get(conn.reborrow(), id)
        .await?
        .ok_or_else(|| Error::not_found("Organization Membership", id))?;
    with_user(conn, membership).await
}

pub async fn create(app: &App, input: CreateMembership) -> Result<MembershipWithUser> {
    let mut checker = Checker::new();
    if input.organization_id.is_none() {
        checker.fail("organization_id", "organization_id_required", "organization_id is required");
    }
    if input.user_id.is_none() {
        checker.fail("user_id", "user_id_required", "user_id is required");
    }
    let slugs = requested_slugs(&mut checker, input.role_slug.as_deref(), input.role_slugs.as_deref());
    checker.finish()?;
    let (Some(org_text), Some(user_text)) = (input.organization_id, input.user_id) else {
        return Err(Error::Internal("validated fields missing".into()));
    };
    let org_id = parse_organization_id(&org_text)?;
    let user_id = parse_user_id(&user_text)?;
    let role_field = if input.role_slugs.is_some() { "role_slugs" } else { "role_slug" };
    let slugs = slugs.unwrap_or_else(|| vec![app.settings.default_role_slug.clone()]);

    // What the request refers to is read before the write transaction, so the single SQLite
    // writer is held only for the writes; a user or organization deleted in between makes the
    // insert fail on its foreign key, and nothing is written.
    let mut reader = app.db.read().await?;
    let organization_name = portico_store::organizations::name(reader.conn(), &org_id)
        .await?
        .ok_or_else(|| Error::not_found("Organization", &org_text))?;
    let user = portico_store::users::get(reader.conn(), &user_id)
        .await?
        .ok_or_else(|| Error::not_found("User", &user_text))?;
    let roles = resolve_roles(reader.conn(), &org_id, &slugs, role_field).await?;
    let existing = portico_store::memberships::find_state(reader.conn(), &user_id, &org_id).await?;
    if existing.as_ref().is_none_or(|m| m.status != MembershipStatus::Active) {
        crate::policies::check_joining(reader.conn(), &org_id, user.email.as_str(), "user_id").await?;
    }
    drop(reader);

    let now = app.now();
    let mut tx = app.db.begin().await?;
    let (id, created_at, event) = match existing {
        None => {
            let id = app.new_id::<MembershipId>();
            // The unique index on (user, organization) settles a race with a concurrent request.
            portico_store::memberships::insert(tx.conn(), &id, &user_id, &org_id, MembershipStatus::Active, now)
                .await
                .map_err(|e| insert_failed(e, &org_text, &user_text))?;
            portico_store::memberships::insert_roles(tx.conn(), &id, &roles).await?;
            (id, now, names::MEMBERSHIP_CREATED)
        }
        Some(existing) if existing.status == MembershipStatus::Inactive => {
            // Adding someone who left brings their membership back, with the roles now asked for.
            portico_store::memberships::set_status(tx.conn(), &existing.id, MembershipStatus::Active, now).await?;
            portico_store::memberships::set_roles(tx.conn(), &existing.id, &roles).await?;
            (existing.id, existing.created_at, names::MEMBERSHIP_UPDATED)
        }
        Some(_) => return Err(already_member()),
    };
    let membership = Membership {
        id,
        user_id,
        organization_id: org_id.clone(),
        organization_name,
        status: MembershipStatus::Active,
        directory_managed: false,
        custom_attributes: serde_json::Map::new(),
        role: RoleRef { slug: slugs.first().cloned().unwrap_or_default() },
        role_slugs: slugs,
        created_at,
        updated_at: now,
    };
    events::record(app, tx.conn(), event, &membership, Some(&org_id)).await?;
    tx.commit().await?;
    Ok(MembershipWithUser::new(membership, user))
}

fn already_member() -> Error {
    Error::conflict("organization_membership_already_exists", "The user is already a member of this organization.")
}

/// The insert lost a race: another request made the membership, or deleted the user or the
/// organization, after this one looked.
fn insert_failed(error: portico_store::StoreError, org: &str, user: &str) -> Error {
    match error {
        portico_store::StoreError::Unique { .. } => already_member(),
        portico_store::StoreError::ForeignKey => {
            Error::conflict("conflict", format!("The organization {org} or the user {user} was deleted meanwhile."))
        }
        other => other.into(),
    }
}

pub async fn get(app: &App, id: &str) -> Result<MembershipWithUser> {
    let membership_id = parse_membership_id(id)?;
    let mut reader = app.db.read().await?;
    load(reader.conn(), &membership_id).await
}

/// Filters of `GET /user_management/organization_memberships`, as received.
#[derive(Debug, Default, Clone)]
pub struct MembershipQuery {
    pub organization_id: Option<String>,
    pub user_id: Option<String>,
    /// Empty means active memberships only, as WorkOS lists them.
    pub statuses: Vec<String>,
}

pub async fn list(app: &App, query: &MembershipQuery, page: &PageRequest) -> Result<Page<MembershipWithUser>> {
    let mut checker = Checker::new();
    if query.organization_id.is_none() && query.user_id.is_none() {
        checker.fail(
            "organization_id",
            "organization_id_or_user_id_required",
            "give organization_id or user_id (or both) to list memberships",
        );
    }
    let organization_id = query
        .organization_id
        .as_deref()
        .and_then(|text| checker.check(check_id::<OrganizationId>("organization_id", text)));
    let user_id = query.user_id.as_deref().and_then(|text| checker.check(check_id::<UserId>("user_id", text)));
    let mut statuses = Vec::new();
    for text in &query.statuses {
        match MembershipStatus::parse(text) {
            Some(status) => statuses.push(status),
            None => checker.fail(
                "statuses",
                "statuses_invalid",
                format!("'{text}' is not one of active, inactive, pending"),
            ),
        }
    }
    checker.finish()?;
    if statuses.is_empty() {
        statuses.push(MembershipStatus::Active);
    }
    let filter = MembershipFilter { organization_id, user_id, statuses };
    let mut reader = app.db.read().await?;
    let page_of = portico_store::memberships::list(reader.conn(), &filter, page).await?;
    let users = portico_store::users::get_many(reader.conn(), page_of.data.iter().map(|m| &m.user_id)).await?;
    let mut users: std::collections::HashMap<UserId, _> = users.into_iter().map(|u| (u.id.clone(), u)).collect();
    let mut data = Vec::with_capacity(page_of.data.len());
    for membership in page_of.data {
        let user =
            users.get(&membership.user_id).cloned().ok_or_else(|| Error::Internal("membership without user".into()))?;
        data.push(MembershipWithUser::new(membership, user));
    }
    users.clear();
    Ok(Page { data, before: page_of.before, after: page_of.after })
}

pub async fn update(app: &App, id: &str, input: UpdateMembership) -> Result<MembershipWithUser> {
    let membership_id = parse_membership_id(id)?;
    let mut checker = Checker::new();
    let slugs = requested_slugs(&mut checker, input.role_slug.as_deref(), input.role_slugs.as_deref());
    checker.finish()?;
    let mut tx = app.db.begin().await?;
    let current = load(tx.conn(), &membership_id).await?;
    let Some(slugs) = slugs else {
        return Ok(current);
    };
    let role_field = if input.role_slugs.is_some() { "role_slugs" } else { "role_slug" };
    let org_id = current.membership.organization_id.clone();
    let roles = resolve_roles(tx.conn(), &org_id, &slugs, role_field).await?;
    portico_store::memberships::set_roles(tx.conn(), &membership_id, &roles).await?;
    portico_store::memberships::touch(tx.conn(), &membership_id, app.now()).await?;
    let membership = load(tx.conn(), &membership_id).await?;
    events::record(app, tx.conn(), names::MEMBERSHIP_UPDATED, &membership.membership, Some(&org_id)).await?;
    tx.commit().await?;
    Ok(membership)
}

async fn change_status(app: &App, id: &str, target: MembershipStatus) -> Result<MembershipWithUser> {
    let membership_id = parse_membership_id(id)?;
    let mut tx = app.db.begin().await?;
    let current = load(tx.conn(), &membership_id).await?;
    if current.membership.status == target {
        return Ok(current);
    }
    if current.membership.status == MembershipStatus::Pending && target == MembershipStatus::Inactive {
        return Err(Error::BadRequest {
            code: "cannot_deactivate_pending_organization_membership",
            message: "A pending membership cannot be deactivated; revoke its invitation instead.".into(),
            errors: Vec::new(),
        });
    }
    let org_id = current.membership.organization_id.clone();
    portico_store::memberships::set_status(tx.conn(), &membership_id, target, app.now()).await?;
    if target == MembershipStatus::Inactive {
        let scoped =
            portico_store::sessions::active_in_organization(tx.conn(), &current.membership.user_id, &org_id).await?;
        crate::sessions::end_all(app, tx.conn(), scoped, "membership_deactivated").await?;
    }
    let membership = load(tx.conn(), &membership_id).await?;
    events::record(app, tx.conn(), names::MEMBERSHIP_UPDATED, &membership.membership, Some(&org_id)).await?;
    tx.commit().await?;
    Ok(membership)
}

/// Suspends a membership and keeps its roles. Deactivating an inactive one changes nothing.
pub async fn deactivate(app: &App, id: &str) -> Result<MembershipWithUser> {
    change_status(app, id, MembershipStatus::Inactive).await
}

/// Restores a membership with the roles it had.
pub async fn reactivate(app: &App, id: &str) -> Result<MembershipWithUser> {
    change_status(app, id, MembershipStatus::Active).await
}

pub async fn delete(app: &App, id: &str) -> Result<()> {
    let membership_id = parse_membership_id(id)?;
    let mut tx = app.db.begin().await?;
    let membership = portico_store::memberships::get(tx.conn(), &membership_id)
        .await?
        .ok_or_else(|| Error::not_found("Organization Membership", id))?;
    let scoped =
        portico_store::sessions::active_in_organization(tx.conn(), &membership.user_id, &membership.organization_id)
            .await?;
    crate::sessions::end_all(app, tx.conn(), scoped, "membership_removed").await?;
    portico_store::memberships::delete(tx.conn(), &membership_id).await?;
    events::record(app, tx.conn(), names::MEMBERSHIP_DELETED, &membership, Some(&membership.organization_id)).await?;
    tx.commit().await?;
    Ok(())
}
