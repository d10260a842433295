//! Roles and the permissions they grant.

use crate::db::{Conn, execute, fetch_all, fetch_count, fetch_optional};
use crate::error::Result;
use crate::page::{Value, in_list, values};
use portico_domain::role::{ORGANIZATION_RESOURCE_TYPE, Role, RoleType};
use portico_domain::{OrganizationId, PermissionId, RoleId, Timestamp};
use std::collections::HashMap;

const COLUMNS: &str = "id, slug, name, description, organization_id, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct RoleRow {
    id: String,
    slug: String,
    name: String,
    description: Option<String>,
    organization_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl From<RoleRow> for Role {
    fn from(row: RoleRow) -> Self {
        Role {
            id: RoleId::from_trusted(row.id),
            name: row.name,
            slug: row.slug,
            description: row.description,
            role_type: if row.organization_id.is_some() {
                RoleType::OrganizationRole
            } else {
                RoleType::EnvironmentRole
            },
            resource_type_slug: ORGANIZATION_RESOURCE_TYPE.to_owned(),
            organization_id: row.organization_id.map(OrganizationId::from_trusted),
            permissions: Vec::new(),
            created_at: Timestamp::from_unix_ms(row.created_at),
            updated_at: Timestamp::from_unix_ms(row.updated_at),
        }
    }
}

#[derive(sqlx::FromRow)]
struct GrantRow {
    role_id: String,
    slug: String,
}

/// Fills in each role's permission slugs with one query.
async fn with_permissions(conn: Conn<'_>, rows: Vec<RoleRow>) -> Result<Vec<Role>> {
    let mut roles: Vec<Role> = rows.into_iter().map(Role::from).collect();
    if roles.is_empty() {
        return Ok(roles);
    }
    let mut values = Vec::new();
    let list = in_list(&mut values, roles.iter().map(|r| r.id.as_str().to_owned()));
    let sql = format!(
        "SELECT rp.role_id, p.slug FROM role_permissions rp JOIN permissions p ON p.id = rp.permission_id \
         WHERE rp.role_id IN ({list}) ORDER BY p.slug"
    );
    let grants: Vec<GrantRow> = fetch_all(conn, &sql, &values).await?;
    let mut by_role: HashMap<String, Vec<String>> = HashMap::new();
    for grant in grants {
        by_role.entry(grant.role_id).or_default().push(grant.slug);
    }
    for role in &mut roles {
        role.permissions = by_role.remove(role.id.as_str()).unwrap_or_default();
    }
    Ok(roles)
}

async fn select(mut conn: Conn<'_>, condition: &str, values: &[Value]) -> Result<Vec<Role>> {
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE {condition}");
    let rows: Vec<RoleRow> = fetch_all(conn.reborrow(), &sql, values).await?;
    with_permissions(conn, rows).await
}

pub async fn insert(conn: Conn<'_>, role: &Role) -> Result<()> {
    let sql = format!("INSERT INTO roles ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    execute(
        conn,
        &sql,
        &values![
            role.id.as_str(),
            &role.slug,
            &role.name,
            &role.description,
            role.organization_id.as_ref().map(|id| id.as_str()),
            role.created_at,
            role.updated_at,
        ],
    )
    .await?;
    Ok(())
}

pub async fn update(conn: Conn<'_>, role: &Role) -> Result<()> {
    execute(
        conn,
        "UPDATE roles SET name = $2, description = $3, updated_at = $4 WHERE id = $1",
        &values![role.id.as_str(), &role.name, &role.description, role.updated_at],
    )
    .await?;
    Ok(())
}

/// Marks a role changed (its permissions changed) without touching its fields.
pub async fn touch(conn: Conn<'_>, id: &RoleId, at: Timestamp) -> Result<()> {
    execute(conn, "UPDATE roles SET updated_at = $2 WHERE id = $1", &values![id.as_str(), at]).await?;
    Ok(())
}

pub async fn get_environment_role(conn: Conn<'_>, slug: &str) -> Result<Option<Role>> {
    Ok(select(conn, "organization_id IS NULL AND slug = $1", &values![slug]).await?.pop())
}

pub async fn get_organization_role(conn: Conn<'_>, organization: &OrganizationId, slug: &str) -> Result<Option<Role>> {
    Ok(select(conn, "organization_id = $1 AND slug = $2", &values![organization.as_str(), slug]).await?.pop())
}

pub async fn list_environment_roles(conn: Conn<'_>) -> Result<Vec<Role>> {
    select(conn, "organization_id IS NULL ORDER BY id", &[]).await
}

/// The roles members of an organization can hold: the environment's and the organization's own.
pub async fn list_for_organization(conn: Conn<'_>, organization: &OrganizationId) -> Result<Vec<Role>> {
    select(
        conn,
        "organization_id IS NULL OR organization_id = $1 ORDER BY organization_id IS NOT NULL, id",
        &values![organization.as_str()],
    )
    .await
}

/// Resolves slugs to role ids as seen from an organization, without loading permissions.
pub async fn ids_for_organization(
    conn: Conn<'_>,
    organization: &OrganizationId,
    slugs: &[String],
) -> Result<Vec<(RoleId, String)>> {
    #[derive(sqlx::FromRow)]
    struct IdRow {
        id: String,
        slug: String,
    }
    let mut values = values![organization.as_str()].to_vec();
    let list = in_list(&mut values, slugs.iter().cloned());
    let sql = format!(
        "SELECT id, slug FROM roles WHERE (organization_id IS NULL OR organization_id = $1) AND slug IN ({list})"
    );
    let rows: Vec<IdRow> = fetch_all(conn, &sql, &values).await?;
    Ok(rows.into_iter().map(|r| (RoleId::from_trusted(r.id), r.slug)).collect())
}

/// Replaces the set of permissions a role grants.
pub async fn set_permissions(mut conn: Conn<'_>, role: &RoleId, permissions: &[PermissionId]) -> Result<()> {
    execute(conn.reborrow(), "DELETE FROM role_permissions WHERE role_id = $1", &values![role.as_str()]).await?;
    for permission in permissions {
        insert_permission(conn.reborrow(), role, permission).await?;
    }
    crate::authorization::bump_version(conn).await
}

pub async fn add_permission(mut conn: Conn<'_>, role: &RoleId, permission: &PermissionId) -> Result<()> {
    insert_permission(conn.reborrow(), role, permission).await?;
    crate::authorization::bump_version(conn).await
}

async fn insert_permission(conn: Conn<'_>, role: &RoleId, permission: &PermissionId) -> Result<()> {
    execute(
        conn,
        "INSERT INTO role_permissions (role_id, permission_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        &values![role.as_str(), permission.as_str()],
    )
    .await?;
    Ok(())
}

pub async fn remove_permission(mut conn: Conn<'_>, role: &RoleId, permission: &PermissionId) -> Result<bool> {
    let removed = execute(
        conn.reborrow(),
        "DELETE FROM role_permissions WHERE role_id = $1 AND permission_id = $2",
        &values![role.as_str(), permission.as_str()],
    )
    .await?
        > 0;
    crate::authorization::bump_version(conn).await?;
    Ok(removed)
}

/// Roles that grant a permission, so their change can be recorded when it goes.
pub async fn ids_granting(conn: Conn<'_>, permission: &PermissionId) -> Result<Vec<RoleId>> {
    #[derive(sqlx::FromRow)]
    struct IdRow {
        role_id: String,
    }
    let rows: Vec<IdRow> = fetch_all(
        conn,
        "SELECT role_id FROM role_permissions WHERE permission_id = $1 ORDER BY role_id",
        &values![permission.as_str()],
    )
    .await?;
    Ok(rows.into_iter().map(|r| RoleId::from_trusted(r.role_id)).collect())
}

/// How many memberships hold the role.
pub async fn holder_count(conn: Conn<'_>, role: &RoleId) -> Result<i64> {
    fetch_count(conn, "SELECT COUNT(*) FROM membership_roles WHERE role_id = $1", &values![role.as_str()]).await
}

pub async fn delete(mut conn: Conn<'_>, role: &RoleId) -> Result<bool> {
    let deleted = execute(conn.reborrow(), "DELETE FROM roles WHERE id = $1", &values![role.as_str()]).await? > 0;
    crate::authorization::bump_version(conn).await?;
    Ok(deleted)
}

/// Whether a slug is taken in either scope visible from `organization` (or by any organization
/// role, when `organization` is `None` and an environment role is being created).
pub async fn slug_in_use(conn: Conn<'_>, organization: Option<&OrganizationId>, slug: &str) -> Result<bool> {
    let count = match organization {
        Some(org) => {
            fetch_count(
                conn,
                "SELECT COUNT(*) FROM roles WHERE slug = $1 AND (organization_id IS NULL OR organization_id = $2)",
                &values![slug, org.as_str()],
            )
            .await?
        }
        None => fetch_count(conn, "SELECT COUNT(*) FROM roles WHERE slug = $1", &values![slug]).await?,
    };
    Ok(count > 0)
}

pub async fn get_by_id(conn: Conn<'_>, id: &RoleId) -> Result<Option<Role>> {
    let sql = format!("SELECT {COLUMNS} FROM roles WHERE id = $1");
    let row: Option<RoleRow> = fetch_optional(conn, &sql, &values![id.as_str()]).await?;
    Ok(row.map(Role::from))
}
