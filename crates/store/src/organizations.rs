//! Organizations, loaded with their domains.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::{Result, corrupt};
use crate::organization_domains;
use crate::page::{self, Page, PageRequest, Value, in_list, values};
use portico_domain::metadata::Metadata;
use portico_domain::organization::Organization;
use portico_domain::{OrganizationId, Timestamp};
use std::collections::HashMap;

const COLUMNS: &str = "id, name, external_id, stripe_customer_id, metadata, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct OrganizationRow {
    id: String,
    name: String,
    external_id: Option<String>,
    stripe_customer_id: Option<String>,
    metadata: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<OrganizationRow> for Organization {
    type Error = crate::StoreError;

    fn try_from(row: OrganizationRow) -> Result<Self> {
        let metadata: Metadata = serde_json::from_str(&row.metadata).map_err(corrupt)?;
        Ok(Organization {
            id: OrganizationId::from_trusted(row.id),
            name: row.name,
            allow_profiles_outside_organization: false,
            domains: Vec::new(),
            stripe_customer_id: row.stripe_customer_id,
            external_id: row.external_id,
            metadata,
            created_at: Timestamp::from_unix_ms(row.created_at),
            updated_at: Timestamp::from_unix_ms(row.updated_at),
        })
    }
}

/// Inserts the organization row; its domains are inserted through `organization_domains`.
pub async fn insert(conn: Conn<'_>, org: &Organization) -> Result<()> {
    let sql = format!("INSERT INTO organizations ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    execute(
        conn,
        &sql,
        &values![
            org.id.as_str(),
            &org.name,
            &org.external_id,
            &org.stripe_customer_id,
            serde_json::to_string(&org.metadata).map_err(corrupt)?,
            org.created_at,
            org.updated_at,
        ],
    )
    .await?;
    Ok(())
}

pub async fn update(conn: Conn<'_>, org: &Organization) -> Result<()> {
    execute(
        conn,
        "UPDATE organizations SET name = $2, external_id = $3, stripe_customer_id = $4, metadata = $5, \
         updated_at = $6 WHERE id = $1",
        &values![
            org.id.as_str(),
            &org.name,
            &org.external_id,
            &org.stripe_customer_id,
            serde_json::to_string(&org.metadata).map_err(corrupt)?,
            org.updated_at,
        ],
    )
    .await?;
    Ok(())
}

async fn with_domains(mut conn: Conn<'_>, mut orgs: Vec<Organization>) -> Result<Vec<Organization>> {
    if orgs.is_empty() {
        return Ok(orgs);
    }
    let domains = organization_domains::list_for_organizations(conn.reborrow(), orgs.iter().map(|o| &o.id)).await?;
    let mut by_org: HashMap<OrganizationId, Vec<_>> = HashMap::new();
    for domain in domains {
        by_org.entry(domain.organization_id.clone()).or_default().push(domain);
    }
    for org in &mut orgs {
        org.domains = by_org.remove(&org.id).unwrap_or_default();
    }
    Ok(orgs)
}

async fn get_where(mut conn: Conn<'_>, column: &str, value: Value) -> Result<Option<Organization>> {
    let sql = format!("SELECT {COLUMNS} FROM organizations WHERE {column} = $1");
    let row: Option<OrganizationRow> = fetch_optional(conn.reborrow(), &sql, &[value]).await?;
    let Some(org) = row.map(Organization::try_from).transpose()? else { return Ok(None) };
    Ok(with_domains(conn, vec![org]).await?.pop())
}

pub async fn get(conn: Conn<'_>, id: &OrganizationId) -> Result<Option<Organization>> {
    get_where(conn, "id", id.as_str().into()).await
}

pub async fn get_by_external_id(conn: Conn<'_>, external_id: &str) -> Result<Option<Organization>> {
    get_where(conn, "external_id", external_id.into()).await
}

/// Just the name, for responses that embed it.
pub async fn name(conn: Conn<'_>, id: &OrganizationId) -> Result<Option<String>> {
    #[derive(sqlx::FromRow)]
    struct NameRow {
        name: String,
    }
    let row: Option<NameRow> =
        fetch_optional(conn, "SELECT name FROM organizations WHERE id = $1", &values![id.as_str()]).await?;
    Ok(row.map(|r| r.name))
}

pub async fn delete(mut conn: Conn<'_>, id: &OrganizationId) -> Result<bool> {
    let deleted = execute(conn.reborrow(), "DELETE FROM organizations WHERE id = $1", &values![id.as_str()]).await? > 0;
    // Its memberships and roles went with it.
    crate::authorization::bump_version(conn).await?;
    Ok(deleted)
}

#[derive(Debug, Default, Clone)]
pub struct OrganizationFilter {
    /// Organizations holding any of these domains.
    pub domains: Vec<String>,
    /// A case-insensitive substring of the name.
    pub search: Option<String>,
}

pub async fn list(
    mut conn: Conn<'_>,
    filter: &OrganizationFilter,
    request: &PageRequest,
) -> Result<Page<Organization>> {
    let mut sql = format!("SELECT {COLUMNS} FROM organizations WHERE 1 = 1");
    let mut values = Vec::new();
    if !filter.domains.is_empty() {
        let list = in_list(&mut values, filter.domains.iter().cloned());
        sql.push_str(&format!(
            " AND id IN (SELECT organization_id FROM organization_domains WHERE domain IN ({list}))"
        ));
    }
    if let Some(search) = &filter.search {
        let escaped = search.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        values.push(Value::Text(format!("%{escaped}%")));
        sql.push_str(&format!(" AND LOWER(name) LIKE ${} ESCAPE '\\'", values.len()));
    }
    page::apply(&mut sql, &mut values, "id", request);
    let rows: Vec<OrganizationRow> = fetch_all(conn.reborrow(), &sql, &values).await?;
    let orgs = rows.into_iter().map(Organization::try_from).collect::<Result<Vec<_>>>()?;
    let page = page::finish(orgs, request, |o| o.id.to_string());
    let data = with_domains(conn, page.data).await?;
    Ok(Page { data, before: page.before, after: page.after })
}
