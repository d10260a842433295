//! Roles: environment roles every organization can use, and organization roles that exist in one
//! organization only. A role still held by a member cannot be deleted.

use crate::error::{Error, Result};
use crate::input::{AddRolePermission, CreateRole, SetRolePermissions, UpdateRole};
use crate::organizations::parse_organization_id;
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::role::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, ORGANIZATION_RESOURCE_TYPE, Role, RoleType};
use portico_domain::validation::{Checker, optional_text, required_text};
use portico_domain::{FieldError, OrganizationId, PermissionId, slug};
use portico_store::Conn;

/// Where a role lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Environment,
    /// The organization's id as given in the path; checked when used.
    Organization(String),
}

/// The scope with its organization id checked and existing.
enum Resolved {
    Environment,
    Organization(OrganizationId),
}

impl Resolved {
    fn organization(&self) -> Option<&OrganizationId> {
        match self {
            Resolved::Environment => None,
            Resolved::Organization(id) => Some(id),
        }
    }

    fn event(&self, environment: &'static str, organization: &'static str) -> &'static str {
        match self {
            Resolved::Environment => environment,
            Resolved::Organization(_) => organization,
        }
    }
}

async fn resolve(mut conn: Conn<'_>, scope: &Scope) -> Result<Resolved> {
    match scope {
        Scope::Environment => Ok(Resolved::Environment),
        Scope::Organization(text) => {
            let id = parse_organization_id(text)?;
            if portico_store::organizations::name(conn.reborrow(), &id).await?.is_none() {
                return Err(Error::not_found("Organization", text));
            }
            Ok(Resolved::Organization(id))
        }
    }
}

async fn find(conn: Conn<'_>, scope: &Resolved, slug: &str) -> Result<Role> {
    let role = match scope {
        Resolved::Environment => portico_store::roles::get_environment_role(conn, slug).await?,
        Resolved::Organization(org) => portico_store::roles::get_organization_role(conn, org, slug).await?,
    };
    role.ok_or_else(|| Error::not_found("Role", slug))
}

/// The roles a scope offers: environment roles, or an organization's roles plus the environment's.
pub async fn list(app: &App, scope: &Scope) -> Result<Vec<Role>> {
    let mut reader = app.db.read().await?;
    match resolve(reader.conn(), scope).await? {
        Resolved::Environment => Ok(portico_store::roles::list_environment_roles(reader.conn()).await?),
        Resolved::Organization(org) => Ok(portico_store::roles::list_for_organization(reader.conn(), &org).await?),
    }
}

/// Gets a role. Seen from an organization, the environment's roles are among its roles too, as
/// the organization's role list shows; changing them still goes through the environment paths.
pub async fn get(app: &App, scope: &Scope, slug: &str) -> Result<Role> {
    let mut reader = app.db.read().await?;
    let resolved = resolve(reader.conn(), scope).await?;
    match find(reader.conn(), &resolved, slug).await {
        Err(Error::NotFound { .. }) if resolved.organization().is_some() => {
            find(reader.conn(), &Resolved::Environment, slug).await
        }
        other => other,
    }
}

fn check_resource_type(checker: &mut Checker, value: Option<&str>) {
    if let Some(value) = value
        && value != ORGANIZATION_RESOURCE_TYPE
    {
        checker.fail(
            "resource_type_slug",
            "resource_type_slug_invalid",
            format!("resource_type_slug must be {ORGANIZATION_RESOURCE_TYPE}"),
        );
    }
}

pub async fn create(app: &App, scope: &Scope, input: CreateRole) -> Result<Role> {
    let mut checker = Checker::new();
    let slug = checker.check(slug::required("slug", input.slug.as_deref()));
    let name = checker.check(required_text("name", input.name.as_deref(), MAX_NAME_CHARS));
    let description =
        checker.check(optional_text("description", input.description.as_deref(), MAX_DESCRIPTION_CHARS)).flatten();
    check_resource_type(&mut checker, input.resource_type_slug.as_deref());
    checker.finish()?;
    let (Some(slug), Some(name)) = (slug, name) else {
        return Err(Error::Internal("validated fields missing".into()));
    };
    let mut tx = app.db.begin().await?;
    let resolved = resolve(tx.conn(), scope).await?;
    if portico_store::roles::slug_in_use(tx.conn(), resolved.organization(), &slug).await? {
        return Err(match &resolved {
            Resolved::Environment => {
                Error::conflict("role_slug_conflict", format!("A role with slug '{slug}' already exists."))
            }
            Resolved::Organization(_) => Error::conflict(
                "organization_role_slug_conflict",
                format!("A role with slug '{slug}' already exists in this organization or the environment."),
            ),
        });
    }
    let now = app.now();
    let role = Role {
        id: app.new_id(),
        name,
        slug,
        description,
        role_type: if resolved.organization().is_some() {
            RoleType::OrganizationRole
        } else {
            RoleType::EnvironmentRole
        },
        resource_type_slug: ORGANIZATION_RESOURCE_TYPE.to_owned(),
        organization_id: resolved.organization().cloned(),
        permissions: Vec::new(),
        created_at: now,
        updated_at: now,
    };
    portico_store::roles::insert(tx.conn(), &role).await?;
    let event = resolved.event(names::ROLE_CREATED, names::ORGANIZATION_ROLE_CREATED);
    events::record(app, tx.conn(), event, &role, resolved.organization()).await?;
    tx.commit().await?;
    Ok(role)
}

pub async fn update(app: &App, scope: &Scope, slug: &str, input: UpdateRole) -> Result<Role> {
    let mut checker = Checker::new();
    let name = input.name.as_deref().and_then(|text| checker.check(required_text("name", Some(text), MAX_NAME_CHARS)));
    let description = match &input.description {
        crate::input::Patch::Value(text) => {
            checker.check(optional_text("description", Some(text), MAX_DESCRIPTION_CHARS)).flatten()
        }
        _ => None,
    };
    checker.finish()?;
    let mut tx = app.db.begin().await?;
    let resolved = resolve(tx.conn(), scope).await?;
    let mut role = find(tx.conn(), &resolved, slug).await?;
    if let Some(name) = name {
        role.name = name;
    }
    role.description = match input.description {
        crate::input::Patch::Value(_) => description,
        other => other.apply(role.description.take()),
    };
    role.updated_at = app.now();
    portico_store::roles::update(tx.conn(), &role).await?;
    let event = resolved.event(names::ROLE_UPDATED, names::ORGANIZATION_ROLE_UPDATED);
    events::record(app, tx.conn(), event, &role, resolved.organization()).await?;
    tx.commit().await?;
    Ok(role)
}

/// Deletes a role that no member holds and that is not the default role for new members.
pub async fn delete(app: &App, scope: &Scope, slug: &str) -> Result<()> {
    let mut tx = app.db.begin().await?;
    let resolved = resolve(tx.conn(), scope).await?;
    let role = find(tx.conn(), &resolved, slug).await?;
    let holders = portico_store::roles::holder_count(tx.conn(), &role.id).await?;
    if holders > 0 {
        return Err(Error::conflict(
            "role_in_use",
            format!(
                "The role '{slug}' is held by {holders} organization membership{}; assign them another role before deleting it.",
                if holders == 1 { "" } else { "s" }
            ),
        ));
    }
    if matches!(resolved, Resolved::Environment) && role.slug == app.settings.default_role_slug {
        return Err(Error::conflict(
            "default_role_cannot_be_deleted",
            format!("The role '{slug}' is the default role for new members; configure another default first."),
        ));
    }
    portico_store::roles::delete(tx.conn(), &role.id).await?;
    let event = resolved.event(names::ROLE_DELETED, names::ORGANIZATION_ROLE_DELETED);
    events::record(app, tx.conn(), event, &role, resolved.organization()).await?;
    tx.commit().await?;
    Ok(())
}

/// Looks up permissions by slug, naming any that do not exist.
async fn permission_ids(conn: Conn<'_>, field: &str, slugs: &[String]) -> Result<Vec<PermissionId>> {
    let found = portico_store::permissions::get_by_slugs(conn, slugs).await?;
    let missing: Vec<&str> =
        slugs.iter().filter(|s| !found.iter().any(|p| &&p.slug == s)).map(String::as_str).collect();
    if !missing.is_empty() {
        return Err(Error::Invalid(
            FieldError::new(field, "permission_not_found", format!("no permission with slug {}", missing.join(", ")))
                .into(),
        ));
    }
    Ok(found.into_iter().map(|p| p.id).collect())
}

/// How a role's permission set changes.
enum Change {
    Set(Vec<String>),
    Add(String),
    Remove(String),
}

async fn change_permissions(app: &App, scope: &Scope, slug: &str, change: Change) -> Result<Role> {
    let mut tx = app.db.begin().await?;
    let resolved = resolve(tx.conn(), scope).await?;
    let role = find(tx.conn(), &resolved, slug).await?;
    match &change {
        Change::Set(slugs) => {
            let ids = permission_ids(tx.conn(), "permissions", slugs).await?;
            portico_store::roles::set_permissions(tx.conn(), &role.id, &ids).await?;
        }
        Change::Add(permission) => {
            let ids = permission_ids(tx.conn(), "slug", std::slice::from_ref(permission)).await?;
            for id in &ids {
                portico_store::roles::add_permission(tx.conn(), &role.id, id).await?;
            }
        }
        Change::Remove(permission) => {
            let found = portico_store::permissions::get_by_slug(tx.conn(), permission)
                .await?
                .ok_or_else(|| Error::not_found("Permission", permission))?;
            portico_store::roles::remove_permission(tx.conn(), &role.id, &found.id).await?;
        }
    }
    portico_store::roles::touch(tx.conn(), &role.id, app.now()).await?;
    let updated = find(tx.conn(), &resolved, slug).await?;
    let event = resolved.event(names::ROLE_UPDATED, names::ORGANIZATION_ROLE_UPDATED);
    events::record(app, tx.conn(), event, &updated, resolved.organization()).await?;
    tx.commit().await?;
    Ok(updated)
}

pub async fn set_permissions(app: &App, scope: &Scope, slug: &str, input: SetRolePermissions) -> Result<Role> {
    let Some(list) = input.permissions else {
        return Err(Error::invalid(
            "permissions",
            "permissions_required",
            "permissions is required (a list of permission slugs)",
        ));
    };
    let mut slugs: Vec<String> = Vec::new();
    let mut checker = Checker::new();
    for text in &list {
        if let Some(s) = checker.check(slug::check("permissions", text))
            && !slugs.contains(&s)
        {
            slugs.push(s);
        }
    }
    checker.finish()?;
    change_permissions(app, scope, slug, Change::Set(slugs)).await
}

pub async fn add_permission(app: &App, scope: &Scope, slug: &str, input: AddRolePermission) -> Result<Role> {
    let Some(text) = input.slug else {
        return Err(Error::invalid("slug", "slug_required", "slug (the permission's slug) is required"));
    };
    let permission = slug::check("slug", &text).map_err(|e| Error::Invalid(e.into()))?;
    change_permissions(app, scope, slug, Change::Add(permission)).await
}

pub async fn remove_permission(app: &App, scope: &Scope, slug: &str, permission: &str) -> Result<Role> {
    change_permissions(app, scope, slug, Change::Remove(permission.to_owned())).await
}
