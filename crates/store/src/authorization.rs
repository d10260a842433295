//! What the permission check reads: a membership's roles, what every role permits, and the
//! authorization version: it goes up in every transaction that changes what a membership holds
//! (its roles, its status, its existence) or what a role permits, so nodes can cache both.

use crate::db::{Conn, execute, fetch_all, fetch_count};
use crate::error::Result;
use crate::page::values;
use std::sync::atomic::{AtomicUsize, Ordering};

/// How many rows hold the version's counters (the migration creates ids 0 to 15).
const COUNTERS: usize = 16;
static NEXT_COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The version as a scalar subquery: the sum of the counters (BIGINT on both engines).
const VERSION: &str = "(SELECT CAST(SUM(version) AS BIGINT) FROM authorization_state)";

/// A membership as the check sees it: its organization, whether it is active, the ids of its
/// roles, and the authorization version read in the same statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipGrants {
    pub organization_id: String,
    pub active: bool,
    pub role_ids: Vec<String>,
    pub version: i64,
}

/// The current authorization version.
pub async fn version(conn: Conn<'_>) -> Result<i64> {
    fetch_count(conn, &format!("SELECT {VERSION}"), &values![]).await
}

/// Records that what some membership holds or some role permits changed. Called inside the
/// transaction that changes it, so the new version is visible exactly when the change is.
pub async fn bump_version(conn: Conn<'_>) -> Result<()> {
    // Writers spread over the counters; the sum goes up by one whichever they pick.
    let counter = NEXT_COUNTER.fetch_add(1, Ordering::Relaxed) % COUNTERS;
    execute(conn, "UPDATE authorization_state SET version = version + 1 WHERE id = $1", &values![counter as i64])
        .await?;
    Ok(())
}

/// The membership's roles and the current authorization version, in one statement; `None` when
/// there is no such membership.
pub async fn membership_grants(conn: Conn<'_>, membership_id: &str) -> Result<Option<MembershipGrants>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        organization_id: String,
        status: String,
        role_id: Option<String>,
        version: i64,
    }
    let rows: Vec<Row> = fetch_all(
        conn,
        &format!(
            "SELECT m.organization_id, m.status, mr.role_id, \
         {VERSION} AS version \
         FROM organization_memberships m LEFT JOIN membership_roles mr ON mr.membership_id = m.id \
         WHERE m.id = $1 ORDER BY mr.position"
        ),
        &values![membership_id],
    )
    .await?;
    let Some(first) = rows.first() else { return Ok(None) };
    Ok(Some(MembershipGrants {
        organization_id: first.organization_id.clone(),
        active: first.status == "active",
        version: first.version,
        role_ids: rows.into_iter().filter_map(|r| r.role_id).collect(),
    }))
}

/// Every (role id, permission slug) pair, to rebuild a node's cache.
pub async fn role_permission_pairs(conn: Conn<'_>) -> Result<Vec<(String, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        role_id: String,
        slug: String,
    }
    let rows: Vec<Row> = fetch_all(
        conn,
        "SELECT rp.role_id, p.slug FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id",
        &values![],
    )
    .await?;
    Ok(rows.into_iter().map(|r| (r.role_id, r.slug)).collect())
}
