//! Permissions, addressed by slug.

use crate::error::{Error, Result};
use crate::input::{CreatePermission, UpdatePermission};
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::permission::Permission;
use portico_domain::role::{MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS, ORGANIZATION_RESOURCE_TYPE};
use portico_domain::slug;
use portico_domain::validation::{Checker, optional_text, required_text};
use portico_store::{Page, PageRequest};

pub async fn list(app: &App, page: &PageRequest) -> Result<Page<Permission>> {
    let mut reader = app.db.read().await?;
    Ok(portico_store::permissions::list(reader.conn(), page).await?)
}

pub async fn get(app: &App, slug: &str) -> Result<Permission> {
    let mut reader = app.db.read().await?;
    portico_store::permissions::get_by_slug(reader.conn(), slug)
        .await?
        .ok_or_else(|| Error::not_found("Permission", slug))
}

pub async fn create(app: &App, input: CreatePermission) -> Result<Permission> {
    let mut checker = Checker::new();
    let slug = checker.check(slug::required("slug", input.slug.as_deref()));
    let name = checker.check(required_text("name", input.name.as_deref(), MAX_NAME_CHARS));
    let description =
        checker.check(optional_text("description", input.description.as_deref(), MAX_DESCRIPTION_CHARS)).flatten();
    if let Some(value) = input.resource_type_slug.as_deref()
        && value != ORGANIZATION_RESOURCE_TYPE
    {
        checker.fail(
            "resource_type_slug",
            "resource_type_slug_invalid",
            format!("resource_type_slug must be {ORGANIZATION_RESOURCE_TYPE}"),
        );
    }
    checker.finish()?;
    let (Some(slug), Some(name)) = (slug, name) else {
        return Err(Error::Internal("validated fields missing".into()));
    };
    let now = app.now();
    let permission = Permission {
        id: app.new_id(),
        slug,
        name,
        description,
        resource_type_slug: ORGANIZATION_RESOURCE_TYPE.to_owned(),
        system: false,
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    if portico_store::permissions::get_by_slug(tx.conn(), &permission.slug).await?.is_some() {
        return Err(Error::conflict(
            "permission_slug_conflict",
            format!("A permission with slug '{}' already exists.", permission.slug),
        ));
    }
    portico_store::permissions::insert(tx.conn(), &permission).await?;
    events::record(app, tx.conn(), names::PERMISSION_CREATED, &permission, None).await?;
    tx.commit().await?;
    Ok(permission)
}

pub async fn update(app: &App, slug: &str, input: UpdatePermission) -> Result<Permission> {
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
    let mut permission = portico_store::permissions::get_by_slug(tx.conn(), slug)
        .await?
        .ok_or_else(|| Error::not_found("Permission", slug))?;
    if let Some(name) = name {
        permission.name = name;
    }
    permission.description = match input.description {
        crate::input::Patch::Value(_) => description,
        other => other.apply(permission.description.take()),
    };
    permission.updated_at = app.now();
    portico_store::permissions::update(tx.conn(), &permission).await?;
    events::record(app, tx.conn(), names::PERMISSION_UPDATED, &permission, None).await?;
    tx.commit().await?;
    Ok(permission)
}

/// Deletes a permission; roles that granted it stop granting it.
pub async fn delete(app: &App, slug: &str) -> Result<()> {
    let mut tx = app.db.begin().await?;
    let permission = portico_store::permissions::get_by_slug(tx.conn(), slug)
        .await?
        .ok_or_else(|| Error::not_found("Permission", slug))?;
    let roles = portico_store::roles::ids_granting(tx.conn(), &permission.id).await?;
    portico_store::permissions::delete(tx.conn(), &permission.id).await?;
    let now = app.now();
    for role in &roles {
        portico_store::roles::touch(tx.conn(), role, now).await?;
    }
    events::record(app, tx.conn(), names::PERMISSION_DELETED, &permission, None).await?;
    tx.commit().await?;
    Ok(())
}
