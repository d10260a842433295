//! Organizations and the domains they are created or updated with.

use crate::error::{Error, Result};
use crate::input::{CreateOrganization, DomainData, UpdateOrganization};
use crate::{App, events, organization_domains};
use portico_domain::event::names;
use portico_domain::organization::{MAX_NAME_CHARS, Organization};
use portico_domain::organization_domain::{DomainState, OrganizationDomain, VerificationStrategy, parse_domain};
use portico_domain::validation::{Checker, optional_text, required_text};
use portico_domain::{OrganizationId, metadata};
use portico_store::organizations::OrganizationFilter;
use portico_store::{Conn, Page, PageRequest};

pub(crate) fn parse_organization_id(text: &str) -> Result<OrganizationId> {
    OrganizationId::parse(text).ok_or_else(|| Error::not_found("Organization", text))
}

/// A domain as requested on create or update, checked.
struct WantedDomain {
    domain: String,
    state: DomainState,
}

fn check_domains(
    checker: &mut Checker,
    domain_data: Option<&[DomainData]>,
    domains: Option<&[String]>,
) -> Option<Vec<WantedDomain>> {
    if domain_data.is_none() && domains.is_none() {
        return None;
    }
    let mut wanted: Vec<WantedDomain> = Vec::new();
    for (index, item) in domain_data.unwrap_or_default().iter().enumerate() {
        let field = format!("domain_data[{index}].domain");
        let Some(text) = item.domain.as_deref() else {
            checker.fail(&field, "domain_required", format!("{field} is required"));
            continue;
        };
        let state = match item.state.as_deref() {
            None | Some("pending") => DomainState::Pending,
            Some("verified") => DomainState::Verified,
            Some(_) => {
                let field = format!("domain_data[{index}].state");
                checker.fail(&field, "state_invalid", format!("{field} must be verified or pending"));
                continue;
            }
        };
        if let Some(domain) = checker.check(parse_domain(&field, text)) {
            wanted.push(WantedDomain { domain, state });
        }
    }
    for (index, text) in domains.unwrap_or_default().iter().enumerate() {
        if let Some(domain) = checker.check(parse_domain(&format!("domains[{index}]"), text)) {
            wanted.push(WantedDomain { domain, state: DomainState::Pending });
        }
    }
    let mut seen = std::collections::HashSet::new();
    wanted.retain(|w| seen.insert(w.domain.clone()));
    Some(wanted)
}

fn domain_taken(domain: &str) -> Error {
    Error::conflict(
        "organization_domain_already_exists",
        format!("The domain {domain} already belongs to another organization."),
    )
}

/// Adds the wanted domains that the organization does not hold yet, refusing domains another
/// organization holds.
async fn add_domains(
    app: &App,
    mut conn: Conn<'_>,
    organization: &OrganizationId,
    wanted: &[WantedDomain],
) -> Result<Vec<OrganizationDomain>> {
    let mut added = Vec::new();
    for item in wanted {
        match portico_store::organization_domains::find_by_domain(conn.reborrow(), &item.domain).await? {
            Some(existing) if &existing.organization_id == organization => continue,
            Some(_) => return Err(domain_taken(&item.domain)),
            None => {}
        }
        let domain = match item.state {
            DomainState::Verified => {
                organization_domains::new_domain(app, organization, &item.domain, VerificationStrategy::Manual)?
            }
            _ => organization_domains::new_domain(app, organization, &item.domain, VerificationStrategy::Dns)?,
        };
        let domain = OrganizationDomain { state: item.state, ..domain };
        portico_store::organization_domains::insert(conn.reborrow(), &domain).await?;
        added.push(domain);
    }
    Ok(added)
}

pub async fn create(app: &App, input: CreateOrganization) -> Result<Organization> {
    let mut checker = Checker::new();
    let name = checker.check(required_text("name", input.name.as_deref(), MAX_NAME_CHARS));
    let domains = check_domains(&mut checker, input.domain_data.as_deref(), input.domains.as_deref());
    let external_id = checker.check(optional_text("external_id", input.external_id.as_deref(), 128)).flatten();
    let metadata = match &input.metadata {
        Some(value) => checker.check(metadata::check("metadata", value)),
        None => Some(Default::default()),
    };
    checker.finish()?;
    let (Some(name), Some(metadata)) = (name, metadata) else {
        return Err(Error::Internal("validated fields missing".into()));
    };
    let now = app.now();
    let mut org = Organization {
        id: app.new_id(),
        name,
        allow_profiles_outside_organization: false,
        domains: Vec::new(),
        stripe_customer_id: None,
        external_id,
        metadata,
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.db.begin().await?;
    if let Some(external_id) = &org.external_id
        && portico_store::organizations::get_by_external_id(tx.conn(), external_id).await?.is_some()
    {
        return Err(external_id_taken(external_id));
    }
    portico_store::organizations::insert(tx.conn(), &org).await.map_err(map_unique)?;
    org.domains = add_domains(app, tx.conn(), &org.id, domains.as_deref().unwrap_or_default()).await?;
    for domain in &org.domains {
        events::record(app, tx.conn(), names::ORGANIZATION_DOMAIN_CREATED, domain, Some(&org.id)).await?;
    }
    events::record(app, tx.conn(), names::ORGANIZATION_CREATED, &org, Some(&org.id)).await?;
    tx.commit().await?;
    Ok(org)
}

fn external_id_taken(external_id: &str) -> Error {
    Error::conflict(
        "organization_external_id_already_exists",
        format!("An organization with external_id '{external_id}' already exists."),
    )
}

fn map_unique(error: portico_store::StoreError) -> Error {
    match &error {
        portico_store::StoreError::Unique { index } if index == "uq_organizations_external_id" => Error::conflict(
            "organization_external_id_already_exists",
            "An organization with this external_id already exists.",
        ),
        portico_store::StoreError::Unique { index } if index == "uq_organization_domains_domain" => Error::conflict(
            "organization_domain_already_exists",
            "One of the domains already belongs to another organization.",
        ),
        _ => error.into(),
    }
}

pub async fn get(app: &App, id: &str) -> Result<Organization> {
    let org_id = parse_organization_id(id)?;
    let mut reader = app.db.read().await?;
    portico_store::organizations::get(reader.conn(), &org_id).await?.ok_or_else(|| Error::not_found("Organization", id))
}

pub async fn get_by_external_id(app: &App, external_id: &str) -> Result<Organization> {
    let mut reader = app.db.read().await?;
    portico_store::organizations::get_by_external_id(reader.conn(), external_id)
        .await?
        .ok_or_else(|| Error::not_found("Organization", external_id))
}

/// Filters of `GET /organizations`, as received.
#[derive(Debug, Default, Clone)]
pub struct OrganizationQuery {
    pub domains: Vec<String>,
    pub search: Option<String>,
}

pub async fn list(app: &App, query: &OrganizationQuery, page: &PageRequest) -> Result<Page<Organization>> {
    let mut checker = Checker::new();
    let domains: Vec<String> = query.domains.iter().filter_map(|d| checker.check(parse_domain("domains", d))).collect();
    let search = checker.check(optional_text("search", query.search.as_deref(), 256)).flatten();
    checker.finish()?;
    let mut reader = app.db.read().await?;
    Ok(portico_store::organizations::list(reader.conn(), &OrganizationFilter { domains, search }, page).await?)
}

pub async fn update(app: &App, id: &str, input: UpdateOrganization) -> Result<Organization> {
    let org_id = parse_organization_id(id)?;
    let mut checker = Checker::new();
    let name = input.name.as_deref().and_then(|text| checker.check(required_text("name", Some(text), MAX_NAME_CHARS)));
    let domains = check_domains(&mut checker, input.domain_data.as_deref(), input.domains.as_deref());
    let external_id = match &input.external_id {
        crate::input::Patch::Value(text) => checker.check(optional_text("external_id", Some(text), 128)).flatten(),
        _ => None,
    };
    let stripe_customer_id = match &input.stripe_customer_id {
        crate::input::Patch::Value(text) => {
            checker.check(optional_text("stripe_customer_id", Some(text), 128)).flatten()
        }
        _ => None,
    };
    checker.finish()?;

    let mut tx = app.db.begin().await?;
    let mut org = portico_store::organizations::get(tx.conn(), &org_id)
        .await?
        .ok_or_else(|| Error::not_found("Organization", id))?;
    if let Some(name) = name {
        org.name = name;
    }
    match input.external_id {
        crate::input::Patch::Absent => {}
        crate::input::Patch::Null => org.external_id = None,
        crate::input::Patch::Value(_) => {
            if let Some(text) = &external_id
                && Some(text) != org.external_id.as_ref()
                && portico_store::organizations::get_by_external_id(tx.conn(), text).await?.is_some()
            {
                return Err(external_id_taken(text));
            }
            org.external_id = external_id;
        }
    }
    match input.stripe_customer_id {
        crate::input::Patch::Absent => {}
        crate::input::Patch::Null => org.stripe_customer_id = None,
        crate::input::Patch::Value(_) => org.stripe_customer_id = stripe_customer_id,
    }
    if let Some(update) = &input.metadata {
        org.metadata = metadata::merge("metadata", &org.metadata, update).map_err(|e| Error::Invalid(e.into()))?;
    }
    org.updated_at = app.now();
    portico_store::organizations::update(tx.conn(), &org).await.map_err(map_unique)?;

    if let Some(wanted) = domains {
        // `domain_data` replaces the organization's domains: drop those no longer listed, add new ones.
        let keep: std::collections::HashSet<&str> = wanted.iter().map(|w| w.domain.as_str()).collect();
        let (kept, dropped): (Vec<_>, Vec<_>) =
            std::mem::take(&mut org.domains).into_iter().partition(|d| keep.contains(d.domain.as_str()));
        for domain in &dropped {
            portico_store::organization_domains::delete(tx.conn(), &domain.id).await?;
            events::record(app, tx.conn(), names::ORGANIZATION_DOMAIN_DELETED, domain, Some(&org.id)).await?;
        }
        let added = add_domains(app, tx.conn(), &org.id, &wanted).await?;
        for domain in &added {
            events::record(app, tx.conn(), names::ORGANIZATION_DOMAIN_CREATED, domain, Some(&org.id)).await?;
        }
        org.domains = kept.into_iter().chain(added).collect();
        org.domains.sort_by(|a, b| a.id.cmp(&b.id));
    }
    events::record(app, tx.conn(), names::ORGANIZATION_UPDATED, &org, Some(&org.id)).await?;
    tx.commit().await?;
    Ok(org)
}

/// Deletes an organization with its domains, roles and memberships, writing their events.
pub async fn delete(app: &App, id: &str) -> Result<()> {
    let org_id = parse_organization_id(id)?;
    let mut tx = app.db.begin().await?;
    let org = portico_store::organizations::get(tx.conn(), &org_id)
        .await?
        .ok_or_else(|| Error::not_found("Organization", id))?;
    let memberships = portico_store::memberships::all_for(tx.conn(), None, Some(&org_id)).await?;
    for membership in &memberships {
        let scoped = portico_store::sessions::active_in_organization(tx.conn(), &membership.user_id, &org_id).await?;
        crate::sessions::end_all(app, tx.conn(), scoped, "organization_deleted").await?;
    }
    portico_store::organizations::delete(tx.conn(), &org_id).await?;
    for membership in &memberships {
        events::record(app, tx.conn(), names::MEMBERSHIP_DELETED, membership, Some(&org_id)).await?;
    }
    for domain in &org.domains {
        events::record(app, tx.conn(), names::ORGANIZATION_DOMAIN_DELETED, domain, Some(&org_id)).await?;
    }
    events::record(app, tx.conn(), names::ORGANIZATION_DELETED, &org, Some(&org_id)).await?;
    tx.commit().await?;
    Ok(())
}
