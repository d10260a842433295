//! Permission checks for apps: does organization membership `om_…` hold a permission?
//!
//! A check reads the membership's roles and the authorization version in one statement, and
//! answers from this node's role -> permission map. Every transaction that changes what a role
//! permits also raises the version, so a node whose map is older than the version it just read
//! rebuilds the map first: no node answers from a map older than a change that has been
//! acknowledged, whichever node made it.

use crate::App;
use crate::error::{Error, Result};
use portico_domain::{MembershipId, OrganizationId};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

/// The most permissions one batch check may ask about.
pub const MAX_BATCH: usize = 100;

/// This node's copy of what every role permits, labelled with the authorization version it is at
/// least as new as.
#[derive(Debug, Default)]
pub struct PermissionCache {
    snapshot: RwLock<Arc<Snapshot>>,
}

#[derive(Debug, Default)]
struct Snapshot {
    /// `None` until the first load.
    version: Option<i64>,
    by_role: HashMap<String, HashSet<String>>,
}

impl Snapshot {
    fn permits(&self, roles: &[String], permission: &str) -> bool {
        roles.iter().any(|role| self.by_role.get(role).is_some_and(|slugs| slugs.contains(permission)))
    }
}

impl PermissionCache {
    fn current(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn replace(&self, snapshot: Arc<Snapshot>) {
        match self.snapshot.write() {
            Ok(mut guard) => *guard = snapshot,
            Err(poisoned) => *poisoned.into_inner() = snapshot,
        }
    }
}

/// The body of `POST /authorization/organization_memberships/{id}/check`.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckRequest {
    pub permission_slug: Option<String>,
    /// The resource the permission is asked on. Portico's resources are organizations: the
    /// membership's own organization (the default when no resource is named), or another one.
    pub resource_id: Option<String>,
    pub resource_external_id: Option<String>,
    /// With `resource_external_id`; only `organization`.
    pub resource_type_slug: Option<String>,
}

/// The body of `POST /authorization/organization_memberships/{id}/checks`: many permissions,
/// one resource, one answer each.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BatchCheckRequest {
    pub permission_slugs: Option<Vec<String>>,
    pub resource_id: Option<String>,
    pub resource_external_id: Option<String>,
    pub resource_type_slug: Option<String>,
}

/// One answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CheckAnswer {
    pub permission_slug: String,
    pub authorized: bool,
}

/// The resource a check names, once it is known to exist.
enum Resource {
    /// The membership's own organization: its roles apply.
    OwnOrganization,
    /// Another organization: this membership's roles grant nothing there.
    OtherOrganization,
}

fn check_slug(field: &str, slug: &str) -> Result<()> {
    if slug.trim().is_empty() {
        return Err(Error::invalid(field, "required", format!("{field} must not be empty.")));
    }
    if slug.len() > 256 {
        return Err(Error::invalid(field, "too_long", format!("{field} is longer than 256 characters.")));
    }
    Ok(())
}

/// Answers whether the membership holds `permission_slug` (on its organization, or on the
/// resource the request names). Unknown permissions and inactive memberships answer `false`.
pub async fn check(app: &App, membership_id: &str, request: CheckRequest) -> Result<bool> {
    let slug = request
        .permission_slug
        .as_deref()
        .ok_or_else(|| Error::invalid("permission_slug", "required", "permission_slug is required."))?;
    check_slug("permission_slug", slug)?;
    let answers = evaluate(
        app,
        membership_id,
        &[slug.to_owned()],
        request.resource_id.as_deref(),
        request.resource_external_id.as_deref(),
        request.resource_type_slug.as_deref(),
    )
    .await?;
    Ok(answers.first().is_some_and(|a| a.authorized))
}

/// Answers many permissions for one membership in one call, in the order asked.
pub async fn check_batch(app: &App, membership_id: &str, request: BatchCheckRequest) -> Result<Vec<CheckAnswer>> {
    let slugs = request
        .permission_slugs
        .ok_or_else(|| Error::invalid("permission_slugs", "required", "permission_slugs is required."))?;
    if slugs.is_empty() || slugs.len() > MAX_BATCH {
        return Err(Error::invalid(
            "permission_slugs",
            "invalid_length",
            format!("permission_slugs must list between 1 and {MAX_BATCH} permissions."),
        ));
    }
    for (index, slug) in slugs.iter().enumerate() {
        check_slug(&format!("permission_slugs[{index}]"), slug)?;
    }
    evaluate(
        app,
        membership_id,
        &slugs,
        request.resource_id.as_deref(),
        request.resource_external_id.as_deref(),
        request.resource_type_slug.as_deref(),
    )
    .await
}

async fn evaluate(
    app: &App,
    membership_id: &str,
    slugs: &[String],
    resource_id: Option<&str>,
    resource_external_id: Option<&str>,
    resource_type_slug: Option<&str>,
) -> Result<Vec<CheckAnswer>> {
    let not_found = || Error::not_found("OrganizationMembership", membership_id);
    MembershipId::parse(membership_id).ok_or_else(not_found)?;
    let mut reader = app.db.read().await?;
    let grants =
        portico_store::authorization::membership_grants(reader.conn(), membership_id).await?.ok_or_else(not_found)?;
    let resource = match (resource_id, resource_external_id, resource_type_slug) {
        (None, None, None) => Resource::OwnOrganization,
        (Some(id), None, None) => {
            if id == grants.organization_id {
                Resource::OwnOrganization
            } else {
                let other = OrganizationId::parse(id).ok_or_else(|| Error::not_found("Resource", id))?;
                portico_store::organizations::get(reader.conn(), &other)
                    .await?
                    .ok_or_else(|| Error::not_found("Resource", id))?;
                Resource::OtherOrganization
            }
        }
        (None, Some(external), Some(kind)) => {
            if kind != "organization" {
                return Err(Error::invalid(
                    "resource_type_slug",
                    "unknown_resource_type",
                    format!("Resource type '{kind}' does not exist; Portico's resources are organizations."),
                ));
            }
            let found = portico_store::organizations::get_by_external_id(reader.conn(), external)
                .await?
                .ok_or_else(|| Error::not_found("Resource", external))?;
            if found.id.as_str() == grants.organization_id {
                Resource::OwnOrganization
            } else {
                Resource::OtherOrganization
            }
        }
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(Error::invalid(
                "resource_id",
                "conflicting_resource",
                "Name the resource by resource_id or by resource_external_id and resource_type_slug, not both.",
            ));
        }
        (None, Some(_), None) => {
            return Err(Error::invalid(
                "resource_type_slug",
                "required",
                "resource_type_slug is required with resource_external_id.",
            ));
        }
        (None, None, Some(_)) => {
            return Err(Error::invalid(
                "resource_external_id",
                "required",
                "resource_external_id is required with resource_type_slug.",
            ));
        }
    };
    let mut snapshot = app.permission_cache.current();
    if snapshot.version.is_none_or(|cached| cached < grants.version) {
        let pairs = portico_store::authorization::role_permission_pairs(reader.conn()).await?;
        let mut by_role: HashMap<String, HashSet<String>> = HashMap::new();
        for (role, slug) in pairs {
            by_role.entry(role).or_default().insert(slug);
        }
        // Labelled with the version read before the load: the map is at least that new, so a
        // later change (a higher version) always triggers another load.
        snapshot = Arc::new(Snapshot { version: Some(grants.version), by_role });
        app.permission_cache.replace(snapshot.clone());
    }
    drop(reader);
    let applies = grants.active && matches!(resource, Resource::OwnOrganization);
    Ok(slugs
        .iter()
        .map(|slug| CheckAnswer {
            permission_slug: slug.clone(),
            authorized: applies && snapshot.permits(&grants.role_ids, slug),
        })
        .collect())
}
