//! Permissions.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::Result;
use crate::page::{self, Page, PageRequest, in_list, values};
use portico_domain::permission::Permission;
use portico_domain::role::ORGANIZATION_RESOURCE_TYPE;
use portico_domain::{PermissionId, Timestamp};

const COLUMNS: &str = "id, slug, name, description, system, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct PermissionRow {
    id: String,
    slug: String,
    name: String,
    description: Option<String>,
    system: bool,
    created_at: i64,
    updated_at: i64,
}

impl From<PermissionRow> for Permission {
    fn from(row: PermissionRow) -> Self {
        Permission {
            id: PermissionId::from_trusted(row.id),
            slug: row.slug,
            name: row.name,
            description: row.description,
            resource_type_slug: ORGANIZATION_RESOURCE_TYPE.to_owned(),
            system: row.system,
            created_at: Timestamp::from_unix_ms(row.created_at),
            updated_at: Timestamp::from_unix_ms(row.updated_at),
        }
    }
}

pub async fn insert(conn: Conn<'_>, permission: &Permission) -> Result<()> {
    let sql = format!("INSERT INTO permissions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    execute(
        conn,
        &sql,
        &values![
            permission.id.as_str(),
            &permission.slug,
            &permission.name,
            &permission.description,
            permission.system,
            permission.created_at,
            permission.updated_at,
        ],
    )
    .await?;
    Ok(())
}

pub async fn update(conn: Conn<'_>, permission: &Permission) -> Result<()> {
    execute(
        conn,
        "UPDATE permissions SET name = $2, description = $3, updated_at = $4 WHERE id = $1",
        &values![permission.id.as_str(), &permission.name, &permission.description, permission.updated_at],
    )
    .await?;
    Ok(())
}

pub async fn get_by_slug(conn: Conn<'_>, slug: &str) -> Result<Option<Permission>> {
    let sql = format!("SELECT {COLUMNS} FROM permissions WHERE slug = $1");
    let row: Option<PermissionRow> = fetch_optional(conn, &sql, &values![slug]).await?;
    Ok(row.map(Permission::from))
}

pub async fn get_by_slugs(conn: Conn<'_>, slugs: &[String]) -> Result<Vec<Permission>> {
    let mut values = Vec::new();
    let list = in_list(&mut values, slugs.iter().cloned());
    let sql = format!("SELECT {COLUMNS} FROM permissions WHERE slug IN ({list}) ORDER BY slug");
    let rows: Vec<PermissionRow> = fetch_all(conn, &sql, &values).await?;
    Ok(rows.into_iter().map(Permission::from).collect())
}

pub async fn list(conn: Conn<'_>, request: &PageRequest) -> Result<Page<Permission>> {
    let mut sql = format!("SELECT {COLUMNS} FROM permissions WHERE 1 = 1");
    let mut values = Vec::new();
    page::apply(&mut sql, &mut values, "id", request);
    let rows: Vec<PermissionRow> = fetch_all(conn, &sql, &values).await?;
    let permissions = rows.into_iter().map(Permission::from).collect();
    Ok(page::finish(permissions, request, |p: &Permission| p.id.to_string()))
}

/// Deletes a permission; roles that granted it stop granting it.
pub async fn delete(mut conn: Conn<'_>, id: &PermissionId) -> Result<bool> {
    let deleted = execute(conn.reborrow(), "DELETE FROM permissions WHERE id = $1", &values![id.as_str()]).await? > 0;
    crate::authorization::bump_version(conn).await?;
    Ok(deleted)
}
