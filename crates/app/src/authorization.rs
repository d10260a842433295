//! Permission checks for apps: does organization membership `om_…` hold a permission?
//!
//! Each node caches what memberships hold and what roles permit, labelled with the database's
//! authorization version, which every transaction that changes either raises. Before answering,
//! a check learns the current version from a read that *began after the check arrived*; when
//! the cache is older, it is rebuilt first. So no node answers from a cache older than a change
//! that has been acknowledged, whichever node made it. Concurrent checks share one version read
//! (see [`VersionProbe`]), so under load a check rarely touches the database.

use crate::App;
use crate::error::{Error, Result};
use portico_domain::{MembershipId, OrganizationId};
use portico_store::authorization::MembershipGrants;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// The most permissions one batch check may ask about.
pub const MAX_BATCH: usize = 100;

/// How many times a version read lets other tasks run before it starts, to gather the checks
/// arriving meanwhile (a few microseconds; they then share the read).
const GATHER_YIELDS: usize = 32;

/// Memberships kept per node; past this the map starts again (it refills on demand).
const MAX_CACHED_MEMBERSHIPS: usize = 100_000;

/// This node's cache.
#[derive(Debug, Default)]
pub struct PermissionCache {
    snapshot: RwLock<Arc<Snapshot>>,
    probe: VersionProbe,
}

/// What roles permit and what memberships hold, as of at least `version`.
#[derive(Debug, Default)]
struct Snapshot {
    /// `None` until the first load.
    version: Option<i64>,
    by_role: HashMap<String, HashSet<String>>,
    /// Filled as memberships are checked; every entry was read at `version` or later.
    memberships: Mutex<HashMap<String, Arc<MembershipGrants>>>,
}

impl Snapshot {
    fn permits(&self, roles: &[String], permission: &str) -> bool {
        roles.iter().any(|role| self.by_role.get(role).is_some_and(|slugs| slugs.contains(permission)))
    }

    fn membership(&self, id: &str) -> Option<Arc<MembershipGrants>> {
        lock(&self.memberships).get(id).cloned()
    }

    fn remember(&self, id: &str, grants: Arc<MembershipGrants>) {
        let mut memberships = lock(&self.memberships);
        if memberships.len() >= MAX_CACHED_MEMBERSHIPS {
            memberships.clear();
        }
        memberships.insert(id.to_owned(), grants);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads of the authorization version, shared by concurrent checks.
///
/// A check needs a version read that started after it arrived (a read that started earlier may
/// miss a change acknowledged in between). Reads run one at a time; `started` counts them. A
/// check notes `started` when it arrives, waits its turn, and reuses the last completed read if
/// that read's number is higher (it started after the check arrived); otherwise it reads, after
/// letting the checks in flight catch up. Under load, one read serves every check that arrived
/// while the previous read ran.
#[derive(Debug, Default)]
pub struct VersionProbe {
    turn: tokio::sync::Mutex<()>,
    started: AtomicU64,
    /// (number of the last completed read, the version it saw)
    last: Mutex<(u64, i64)>,
}

impl VersionProbe {
    async fn fresh_version(&self, app: &App) -> Result<i64> {
        let arrived = self.started.load(Ordering::SeqCst);
        let _turn = self.turn.lock().await;
        let (number, version) = *lock(&self.last);
        if number > arrived {
            return Ok(version);
        }
        // Let the checks already in flight on this node reach the queue first: they will share
        // this read, as their arrival precedes its start (the count below).
        for _ in 0..GATHER_YIELDS {
            tokio::task::yield_now().await;
        }
        let number = self.started.fetch_add(1, Ordering::SeqCst) + 1;
        metrics::counter!("portico_authorization_version_reads_total").increment(1);
        let mut reader = app.db.read().await?;
        let version = portico_store::authorization::version(reader.conn()).await?;
        drop(reader);
        *lock(&self.last) = (number, version);
        Ok(version)
    }
}

impl PermissionCache {
    fn current(&self) -> Arc<Snapshot> {
        self.snapshot.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Installs `snapshot` unless a newer one got there first.
    fn replace(&self, snapshot: Arc<Snapshot>) {
        let mut guard = self.snapshot.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if guard.version <= snapshot.version {
            *guard = snapshot;
        }
    }

    /// A snapshot at least as new as `version`, rebuilding the role map when needed. The new
    /// snapshot is labelled with `version`, read before the load: the map is at least that new,
    /// so any later change (a higher version) triggers another load.
    async fn at_least(&self, app: &App, version: i64) -> Result<Arc<Snapshot>> {
        let snapshot = self.current();
        if snapshot.version.is_some_and(|cached| cached >= version) {
            return Ok(snapshot);
        }
        metrics::counter!("portico_authorization_cache_rebuilds_total").increment(1);
        let mut reader = app.db.read().await?;
        let pairs = portico_store::authorization::role_permission_pairs(reader.conn()).await?;
        drop(reader);
        let mut by_role: HashMap<String, HashSet<String>> = HashMap::new();
        for (role, slug) in pairs {
            by_role.entry(role).or_default().insert(slug);
        }
        let fresh = Arc::new(Snapshot { version: Some(version), by_role, memberships: Mutex::default() });
        self.replace(fresh.clone());
        Ok(fresh)
    }

    /// The membership's grants and a snapshot to judge them with, both current as of a version
    /// read that began after this call.
    async fn grants(&self, app: &App, membership_id: &str) -> Result<Option<(Arc<MembershipGrants>, Arc<Snapshot>)>> {
        let version = self.probe.fresh_version(app).await?;
        let snapshot = self.at_least(app, version).await?;
        if let Some(grants) = snapshot.membership(membership_id) {
            return Ok(Some((grants, snapshot)));
        }
        metrics::counter!("portico_authorization_membership_reads_total").increment(1);
        let mut reader = app.db.read().await?;
        let found = portico_store::authorization::membership_grants(reader.conn(), membership_id).await?;
        drop(reader);
        let Some(grants) = found else { return Ok(None) };
        let grants = Arc::new(grants);
        // Read at its own version, at least the snapshot's: newer means the roles may be too.
        let snapshot = self.at_least(app, grants.version).await?;
        if snapshot.version == Some(grants.version) {
            snapshot.remember(membership_id, grants.clone());
        }
        Ok(Some((grants, snapshot)))
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
    let (grants, snapshot) = app.permission_cache.grants(app, membership_id).await?.ok_or_else(not_found)?;
    let resource = match (resource_id, resource_external_id, resource_type_slug) {
        (None, None, None) => Resource::OwnOrganization,
        (Some(id), None, None) => {
            if id == grants.organization_id {
                Resource::OwnOrganization
            } else {
                let other = OrganizationId::parse(id).ok_or_else(|| Error::not_found("Resource", id))?;
                let mut reader = app.db.read().await?;
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
            let mut reader = app.db.read().await?;
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
    let applies = grants.active && matches!(resource, Resource::OwnOrganization);
    Ok(slugs
        .iter()
        .map(|slug| CheckAnswer {
            permission_slug: slug.clone(),
            authorized: applies && snapshot.permits(&grants.role_ids, slug),
        })
        .collect())
}
