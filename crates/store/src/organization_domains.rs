//! Organization domains.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::{Result, corrupt};
use crate::page::{in_list, values};
use portico_domain::organization_domain::{DomainState, OrganizationDomain, VerificationStrategy};
use portico_domain::{OrganizationDomainId, OrganizationId, Timestamp};

const COLUMNS: &str = "id, organization_id, domain, state, verification_strategy, verification_token, \
    verification_prefix, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct DomainRow {
    id: String,
    organization_id: String,
    domain: String,
    state: String,
    verification_strategy: String,
    verification_token: Option<String>,
    verification_prefix: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<DomainRow> for OrganizationDomain {
    type Error = crate::StoreError;

    fn try_from(row: DomainRow) -> Result<Self> {
        Ok(OrganizationDomain {
            id: OrganizationDomainId::from_trusted(row.id),
            organization_id: OrganizationId::from_trusted(row.organization_id),
            domain: row.domain,
            state: DomainState::parse(&row.state).ok_or_else(|| corrupt(format!("domain state {}", row.state)))?,
            verification_strategy: VerificationStrategy::parse(&row.verification_strategy)
                .ok_or_else(|| corrupt(format!("verification strategy {}", row.verification_strategy)))?,
            verification_token: row.verification_token,
            verification_prefix: row.verification_prefix,
            created_at: Timestamp::from_unix_ms(row.created_at),
            updated_at: Timestamp::from_unix_ms(row.updated_at),
        })
    }
}

pub async fn insert(conn: Conn<'_>, domain: &OrganizationDomain) -> Result<()> {
    let sql = format!("INSERT INTO organization_domains ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)");
    execute(
        conn,
        &sql,
        &values![
            domain.id.as_str(),
            domain.organization_id.as_str(),
            &domain.domain,
            domain.state.as_str(),
            domain.verification_strategy.as_str(),
            &domain.verification_token,
            &domain.verification_prefix,
            domain.created_at,
            domain.updated_at,
        ],
    )
    .await?;
    Ok(())
}

pub async fn update_state(conn: Conn<'_>, domain: &OrganizationDomain) -> Result<()> {
    execute(
        conn,
        "UPDATE organization_domains SET state = $2, verification_strategy = $3, updated_at = $4 WHERE id = $1",
        &values![domain.id.as_str(), domain.state.as_str(), domain.verification_strategy.as_str(), domain.updated_at],
    )
    .await?;
    Ok(())
}

pub async fn get(conn: Conn<'_>, id: &OrganizationDomainId) -> Result<Option<OrganizationDomain>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_domains WHERE id = $1");
    let row: Option<DomainRow> = fetch_optional(conn, &sql, &values![id.as_str()]).await?;
    row.map(OrganizationDomain::try_from).transpose()
}

pub async fn find_by_domain(conn: Conn<'_>, domain: &str) -> Result<Option<OrganizationDomain>> {
    let sql = format!("SELECT {COLUMNS} FROM organization_domains WHERE domain = $1");
    let row: Option<DomainRow> = fetch_optional(conn, &sql, &values![domain]).await?;
    row.map(OrganizationDomain::try_from).transpose()
}

/// The domains of several organizations, oldest first.
pub async fn list_for_organizations(
    conn: Conn<'_>,
    organization_ids: impl IntoIterator<Item = &OrganizationId>,
) -> Result<Vec<OrganizationDomain>> {
    let mut values = Vec::new();
    let list = in_list(&mut values, organization_ids.into_iter().map(|id| id.as_str().to_owned()));
    let sql = format!("SELECT {COLUMNS} FROM organization_domains WHERE organization_id IN ({list}) ORDER BY id");
    let rows: Vec<DomainRow> = fetch_all(conn, &sql, &values).await?;
    rows.into_iter().map(OrganizationDomain::try_from).collect()
}

pub async fn delete(conn: Conn<'_>, id: &OrganizationDomainId) -> Result<bool> {
    Ok(execute(conn, "DELETE FROM organization_domains WHERE id = $1", &values![id.as_str()]).await? > 0)
}
