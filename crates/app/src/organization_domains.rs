//! Organization domains: claimed as pending, proven by a DNS TXT record, or declared verified.

use crate::error::{Error, Result};
use crate::input::CreateOrganizationDomain;
use crate::organizations::parse_organization_id;
use crate::{App, events};
use portico_domain::event::names;
use portico_domain::organization_domain::{DomainState, OrganizationDomain, VerificationStrategy, parse_domain};
use portico_domain::validation::Checker;
use portico_domain::{OrganizationDomainId, OrganizationId};

fn parse_domain_id(text: &str) -> Result<OrganizationDomainId> {
    OrganizationDomainId::parse(text).ok_or_else(|| Error::not_found("Organization Domain", text))
}

const TOKEN_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

fn random_lowercase(length: usize) -> Result<String> {
    let bytes = portico_crypto::secret::random_bytes::<32>().map_err(|e| Error::Internal(e.to_string()))?;
    Ok(bytes.iter().take(length).map(|b| char::from(TOKEN_CHARS[usize::from(*b) % TOKEN_CHARS.len()])).collect())
}

/// A new domain record. DNS-verified domains get their token and record name here.
pub(crate) fn new_domain(
    app: &App,
    organization: &OrganizationId,
    domain: &str,
    strategy: VerificationStrategy,
) -> Result<OrganizationDomain> {
    let now = app.now();
    let (token, prefix) = match strategy {
        VerificationStrategy::Dns => (
            Some(portico_crypto::secret::random_token().map_err(|e| Error::Internal(e.to_string()))?),
            Some(format!("{}-domain-verification-{}", app.settings.product_slug, random_lowercase(6)?)),
        ),
        VerificationStrategy::Manual => (None, None),
    };
    Ok(OrganizationDomain {
        id: app.new_id(),
        organization_id: organization.clone(),
        domain: domain.to_owned(),
        state: match strategy {
            VerificationStrategy::Dns => DomainState::Pending,
            VerificationStrategy::Manual => DomainState::Verified,
        },
        verification_strategy: strategy,
        verification_token: token,
        verification_prefix: prefix,
        created_at: now,
        updated_at: now,
    })
}

pub async fn create(app: &App, input: CreateOrganizationDomain) -> Result<OrganizationDomain> {
    let mut checker = Checker::new();
    let domain = match input.domain.as_deref() {
        Some(text) => checker.check(parse_domain("domain", text)),
        None => {
            checker.fail("domain", "domain_required", "domain is required");
            None
        }
    };
    if input.organization_id.is_none() {
        checker.fail("organization_id", "organization_id_required", "organization_id is required");
    }
    checker.finish()?;
    let (Some(domain), Some(org_text)) = (domain, input.organization_id) else {
        return Err(Error::Internal("validated fields missing".into()));
    };
    let org_id = parse_organization_id(&org_text)?;
    let mut tx = app.db.begin().await?;
    if portico_store::organizations::name(tx.conn(), &org_id).await?.is_none() {
        return Err(Error::not_found("Organization", org_text));
    }
    if let Some(existing) = portico_store::organization_domains::find_by_domain(tx.conn(), &domain).await? {
        return Err(if existing.organization_id == org_id {
            Error::conflict(
                "organization_domain_already_exists",
                format!("The organization already has the domain {domain}."),
            )
        } else {
            Error::conflict(
                "organization_domain_already_exists",
                format!("The domain {domain} already belongs to another organization."),
            )
        });
    }
    let record = new_domain(app, &org_id, &domain, VerificationStrategy::Dns)?;
    portico_store::organization_domains::insert(tx.conn(), &record).await?;
    events::record(app, tx.conn(), names::ORGANIZATION_DOMAIN_CREATED, &record, Some(&org_id)).await?;
    tx.commit().await?;
    Ok(record)
}

pub async fn get(app: &App, id: &str) -> Result<OrganizationDomain> {
    let domain_id = parse_domain_id(id)?;
    let mut reader = app.db.read().await?;
    portico_store::organization_domains::get(reader.conn(), &domain_id)
        .await?
        .ok_or_else(|| Error::not_found("Organization Domain", id))
}

/// Looks for the TXT record and records the outcome: `verified`, or `failed` with the reason in
/// the `organization_domain.verification_failed` event. Already verified domains stay verified.
pub async fn verify(app: &App, id: &str) -> Result<OrganizationDomain> {
    let domain = get(app, id).await?;
    if domain.state == DomainState::Verified {
        return Ok(domain);
    }
    let Some(record_name) = domain.verification_record_name() else {
        return Err(Error::Internal("a DNS-verified domain has no verification record name".into()));
    };
    // The lookup happens outside the transaction: it can take seconds.
    let outcome = app.dns.txt(&record_name).await;
    let proven = matches!(&outcome, Ok(records) if domain.is_proven_by(records));
    let reason = match &outcome {
        Ok(_) if proven => None,
        Ok(_) => Some(format!("The TXT record at {record_name} does not contain the verification token.")),
        Err(error) => Some(format!("{error}.")),
    };

    let mut tx = app.db.begin().await?;
    let mut current = portico_store::organization_domains::get(tx.conn(), &domain.id)
        .await?
        .ok_or_else(|| Error::not_found("Organization Domain", id))?;
    if current.state == DomainState::Verified {
        return Ok(current);
    }
    current.state = if proven { DomainState::Verified } else { DomainState::Failed };
    current.updated_at = app.now();
    portico_store::organization_domains::update_state(tx.conn(), &current).await?;
    let org = Some(&current.organization_id);
    match reason {
        None => events::record(app, tx.conn(), names::ORGANIZATION_DOMAIN_VERIFIED, &current, org).await?,
        Some(reason) => {
            let data = serde_json::json!({ "reason": reason, "organization_domain": &current });
            events::record(app, tx.conn(), names::ORGANIZATION_DOMAIN_VERIFICATION_FAILED, &data, org).await?;
        }
    }
    tx.commit().await?;
    Ok(current)
}

pub async fn delete(app: &App, id: &str) -> Result<()> {
    let domain_id = parse_domain_id(id)?;
    let mut tx = app.db.begin().await?;
    let domain = portico_store::organization_domains::get(tx.conn(), &domain_id)
        .await?
        .ok_or_else(|| Error::not_found("Organization Domain", id))?;
    portico_store::organization_domains::delete(tx.conn(), &domain_id).await?;
    events::record(app, tx.conn(), names::ORGANIZATION_DOMAIN_DELETED, &domain, Some(&domain.organization_id)).await?;
    tx.commit().await?;
    Ok(())
}
