//! Organization memberships and the roles each holds, in order (the first is the primary role).

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::{Result, corrupt};
use crate::page::{self, Page, PageRequest, Value, in_list, values};
use portico_domain::membership::{Membership, MembershipStatus, RoleRef};
use portico_domain::{MembershipId, OrganizationId, RoleId, Timestamp, UserId};
use std::collections::HashMap;

const SELECT: &str = "SELECT m.id, m.user_id, m.organization_id, o.name AS organization_name, m.status, \
    m.created_at, m.updated_at FROM organization_memberships m JOIN organizations o ON o.id = m.organization_id";

#[derive(sqlx::FromRow)]
struct MembershipRow {
    id: String,
    user_id: String,
    organization_id: String,
    organization_name: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct RoleSlugRow {
    membership_id: String,
    slug: String,
}

async fn with_roles(conn: Conn<'_>, rows: Vec<MembershipRow>) -> Result<Vec<Membership>> {
    let mut slugs_by_membership: HashMap<String, Vec<String>> = HashMap::new();
    if !rows.is_empty() {
        let mut values = Vec::new();
        let list = in_list(&mut values, rows.iter().map(|r| r.id.clone()));
        let sql = format!(
            "SELECT mr.membership_id, r.slug FROM membership_roles mr JOIN roles r ON r.id = mr.role_id \
             WHERE mr.membership_id IN ({list}) ORDER BY mr.membership_id, mr.position"
        );
        let slugs: Vec<RoleSlugRow> = fetch_all(conn, &sql, &values).await?;
        for row in slugs {
            slugs_by_membership.entry(row.membership_id).or_default().push(row.slug);
        }
    }
    rows.into_iter()
        .map(|row| {
            let role_slugs = slugs_by_membership.remove(&row.id).unwrap_or_default();
            Ok(Membership {
                status: MembershipStatus::parse(&row.status)
                    .ok_or_else(|| corrupt(format!("membership status {}", row.status)))?,
                role: RoleRef { slug: role_slugs.first().cloned().unwrap_or_default() },
                role_slugs,
                id: MembershipId::from_trusted(row.id),
                user_id: UserId::from_trusted(row.user_id),
                organization_id: OrganizationId::from_trusted(row.organization_id),
                organization_name: row.organization_name,
                directory_managed: false,
                custom_attributes: serde_json::Map::new(),
                created_at: Timestamp::from_unix_ms(row.created_at),
                updated_at: Timestamp::from_unix_ms(row.updated_at),
            })
        })
        .collect()
}

pub async fn insert(
    mut conn: Conn<'_>,
    id: &MembershipId,
    user: &UserId,
    organization: &OrganizationId,
    status: MembershipStatus,
    at: Timestamp,
) -> Result<()> {
    execute(
        conn.reborrow(),
        "INSERT INTO organization_memberships (id, user_id, organization_id, status, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
        &values![id.as_str(), user.as_str(), organization.as_str(), status.as_str(), at],
    )
    .await?;
    Ok(())
}

/// Replaces the roles a membership holds; the first becomes its primary role.
pub async fn set_roles(mut conn: Conn<'_>, id: &MembershipId, roles: &[RoleId]) -> Result<()> {
    execute(conn.reborrow(), "DELETE FROM membership_roles WHERE membership_id = $1", &values![id.as_str()]).await?;
    insert_roles(conn, id, roles).await
}

/// Gives a membership that holds no roles yet its roles, in order.
pub async fn insert_roles(mut conn: Conn<'_>, id: &MembershipId, roles: &[RoleId]) -> Result<()> {
    for (position, role) in roles.iter().enumerate() {
        execute(
            conn.reborrow(),
            "INSERT INTO membership_roles (membership_id, role_id, position) VALUES ($1, $2, $3)",
            &values![id.as_str(), role.as_str(), position as i64],
        )
        .await?;
    }
    crate::authorization::bump_version(conn).await
}

pub async fn set_status(mut conn: Conn<'_>, id: &MembershipId, status: MembershipStatus, at: Timestamp) -> Result<()> {
    execute(
        conn.reborrow(),
        "UPDATE organization_memberships SET status = $2, updated_at = $3 WHERE id = $1",
        &values![id.as_str(), status.as_str(), at],
    )
    .await?;
    crate::authorization::bump_version(conn).await
}

pub async fn touch(conn: Conn<'_>, id: &MembershipId, at: Timestamp) -> Result<()> {
    execute(conn, "UPDATE organization_memberships SET updated_at = $2 WHERE id = $1", &values![id.as_str(), at])
        .await?;
    Ok(())
}

async fn get_where(mut conn: Conn<'_>, condition: &str, values: &[Value]) -> Result<Option<Membership>> {
    let sql = format!("{SELECT} WHERE {condition}");
    let row: Option<MembershipRow> = fetch_optional(conn.reborrow(), &sql, values).await?;
    let Some(row) = row else { return Ok(None) };
    Ok(with_roles(conn, vec![row]).await?.pop())
}

pub async fn get(conn: Conn<'_>, id: &MembershipId) -> Result<Option<Membership>> {
    get_where(conn, "m.id = $1", &values![id.as_str()]).await
}

/// The little a write needs to know about an existing membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipState {
    pub id: MembershipId,
    pub status: MembershipStatus,
    pub created_at: Timestamp,
}

/// The membership of a user in an organization, if any, without loading its roles.
pub async fn find_state(
    conn: Conn<'_>,
    user: &UserId,
    organization: &OrganizationId,
) -> Result<Option<MembershipState>> {
    #[derive(sqlx::FromRow)]
    struct StateRow {
        id: String,
        status: String,
        created_at: i64,
    }
    let row: Option<StateRow> = fetch_optional(
        conn,
        "SELECT id, status, created_at FROM organization_memberships WHERE user_id = $1 AND organization_id = $2",
        &values![user.as_str(), organization.as_str()],
    )
    .await?;
    row.map(|row| {
        Ok(MembershipState {
            status: MembershipStatus::parse(&row.status)
                .ok_or_else(|| corrupt(format!("membership status {}", row.status)))?,
            id: MembershipId::from_trusted(row.id),
            created_at: Timestamp::from_unix_ms(row.created_at),
        })
    })
    .transpose()
}

pub async fn delete(mut conn: Conn<'_>, id: &MembershipId) -> Result<bool> {
    let deleted = execute(conn.reborrow(), "DELETE FROM organization_memberships WHERE id = $1", &values![id.as_str()])
        .await?
        > 0;
    crate::authorization::bump_version(conn).await?;
    Ok(deleted)
}

/// Every membership of a user or of an organization, for the events their deletion writes.
pub async fn all_for(
    conn: Conn<'_>,
    user: Option<&UserId>,
    organization: Option<&OrganizationId>,
) -> Result<Vec<Membership>> {
    let filter =
        MembershipFilter { user_id: user.cloned(), organization_id: organization.cloned(), statuses: Vec::new() };
    let (mut sql, values) = filtered(&filter);
    sql.push_str(" ORDER BY m.id");
    let mut conn = conn;
    let rows: Vec<MembershipRow> = fetch_all(conn.reborrow(), &sql, &values).await?;
    with_roles(conn, rows).await
}

#[derive(Debug, Default, Clone)]
pub struct MembershipFilter {
    pub organization_id: Option<OrganizationId>,
    pub user_id: Option<UserId>,
    /// Empty means every status.
    pub statuses: Vec<MembershipStatus>,
}

fn filtered(filter: &MembershipFilter) -> (String, Vec<Value>) {
    let mut sql = format!("{SELECT} WHERE 1 = 1");
    let mut values = Vec::new();
    if let Some(org) = &filter.organization_id {
        values.push(Value::from(org.as_str()));
        sql.push_str(&format!(" AND m.organization_id = ${}", values.len()));
    }
    if let Some(user) = &filter.user_id {
        values.push(Value::from(user.as_str()));
        sql.push_str(&format!(" AND m.user_id = ${}", values.len()));
    }
    if !filter.statuses.is_empty() {
        let list = in_list(&mut values, filter.statuses.iter().map(|s| s.as_str().to_owned()));
        sql.push_str(&format!(" AND m.status IN ({list})"));
    }
    (sql, values)
}

pub async fn list(mut conn: Conn<'_>, filter: &MembershipFilter, request: &PageRequest) -> Result<Page<Membership>> {
    let (mut sql, mut values) = filtered(filter);
    page::apply(&mut sql, &mut values, "m.id", request);
    let rows: Vec<MembershipRow> = fetch_all(conn.reborrow(), &sql, &values).await?;
    let memberships = with_roles(conn, rows).await?;
    Ok(page::finish(memberships, request, |m| m.id.to_string()))
}

/// The permission slugs a membership's roles grant, sorted and without repeats.
pub async fn permission_slugs(conn: Conn<'_>, id: &MembershipId) -> Result<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct SlugRow {
        slug: String,
    }
    let rows: Vec<SlugRow> = fetch_all(
        conn,
        "SELECT DISTINCT p.slug FROM membership_roles mr \
         JOIN role_permissions rp ON rp.role_id = mr.role_id \
         JOIN permissions p ON p.id = rp.permission_id \
         WHERE mr.membership_id = $1 ORDER BY p.slug",
        &values![id.as_str()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| r.slug).collect())
}

/// What an access token says about a user in an organization: their role slugs (primary first)
/// and the permissions those roles grant. `None` unless the membership is active. Two queries,
/// as every token refresh runs them.
pub async fn access_grants(
    mut conn: Conn<'_>,
    user: &UserId,
    organization: &OrganizationId,
) -> Result<Option<(Vec<String>, Vec<String>)>> {
    #[derive(sqlx::FromRow)]
    struct SlugRow {
        slug: String,
    }
    let roles: Vec<SlugRow> = fetch_all(
        conn.reborrow(),
        "SELECT r.slug FROM organization_memberships m \
         JOIN membership_roles mr ON mr.membership_id = m.id JOIN roles r ON r.id = mr.role_id \
         WHERE m.user_id = $1 AND m.organization_id = $2 AND m.status = 'active' ORDER BY mr.position",
        &values![user.as_str(), organization.as_str()],
    )
    .await?;
    if roles.is_empty() {
        return Ok(None);
    }
    let permissions: Vec<SlugRow> = fetch_all(
        conn,
        "SELECT DISTINCT p.slug FROM organization_memberships m \
         JOIN membership_roles mr ON mr.membership_id = m.id \
         JOIN role_permissions rp ON rp.role_id = mr.role_id JOIN permissions p ON p.id = rp.permission_id \
         WHERE m.user_id = $1 AND m.organization_id = $2 AND m.status = 'active' ORDER BY p.slug",
        &values![user.as_str(), organization.as_str()],
    )
    .await?;
    Ok(Some((roles.into_iter().map(|r| r.slug).collect(), permissions.into_iter().map(|p| p.slug).collect())))
}

/// A user's active memberships with their organization names, for organization selection.
pub async fn active_for_user(conn: Conn<'_>, user: &UserId) -> Result<Vec<(OrganizationId, String)>> {
    #[derive(sqlx::FromRow)]
    struct OrgRow {
        organization_id: String,
        organization_name: String,
    }
    let rows: Vec<OrgRow> = fetch_all(
        conn,
        "SELECT m.organization_id, o.name AS organization_name FROM organization_memberships m \
         JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 AND m.status = 'active' ORDER BY o.name, m.id",
        &values![user.as_str()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| (OrganizationId::from_trusted(r.organization_id), r.organization_name)).collect())
}
