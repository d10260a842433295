//! Domains an organization claims, verified by a DNS TXT record or marked verified by the app.

use crate::id::{OrganizationDomainId, OrganizationId};
use crate::timestamp::Timestamp;
use crate::validation::FieldError;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainState {
    Pending,
    Verified,
    Failed,
}

impl DomainState {
    pub fn as_str(self) -> &'static str {
        match self {
            DomainState::Pending => "pending",
            DomainState::Verified => "verified",
            DomainState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "pending" => Some(DomainState::Pending),
            "verified" => Some(DomainState::Verified),
            "failed" => Some(DomainState::Failed),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStrategy {
    /// Proven by a TXT record at `{verification_prefix}.{domain}`.
    Dns,
    /// Declared verified by the app through the API.
    Manual,
}

impl VerificationStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStrategy::Dns => "dns",
            VerificationStrategy::Manual => "manual",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "dns" => Some(VerificationStrategy::Dns),
            "manual" => Some(VerificationStrategy::Manual),
            _ => None,
        }
    }
}

/// An organization domain as the API returns it (WorkOS `organization_domain` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "organization_domain")]
pub struct OrganizationDomain {
    pub id: OrganizationDomainId,
    pub organization_id: OrganizationId,
    pub domain: String,
    pub state: DomainState,
    pub verification_strategy: VerificationStrategy,
    pub verification_token: Option<String>,
    pub verification_prefix: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl OrganizationDomain {
    /// The DNS name that must carry the TXT record proving ownership.
    pub fn verification_record_name(&self) -> Option<String> {
        self.verification_prefix.as_ref().map(|prefix| format!("{prefix}.{}", self.domain))
    }

    /// Whether a TXT record set proves ownership: one record must equal the token exactly.
    pub fn is_proven_by(&self, txt_records: &[String]) -> bool {
        let Some(token) = &self.verification_token else { return false };
        txt_records.iter().any(|record| record.trim() == token)
    }
}

/// The text is not a DNS host name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a domain name")]
pub struct NotADomain;

/// A DNS host name: dotted labels of letters, digits and inner hyphens, with a TLD of letters.
pub fn check_domain_name(text: &str) -> Result<String, NotADomain> {
    let text = text.trim().trim_end_matches('.').to_lowercase();
    if text.is_empty() || text.len() > 253 {
        return Err(NotADomain);
    }
    let labels: Vec<&str> = text.split('.').collect();
    if labels.len() < 2 {
        return Err(NotADomain);
    }
    for label in &labels {
        let ok = !label.is_empty()
            && label.len() <= 63
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !label.starts_with('-')
            && !label.ends_with('-');
        if !ok {
            return Err(NotADomain);
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic() || c == '-') && !tld.starts_with("xn--") {
        return Err(NotADomain);
    }
    Ok(text)
}

/// Checks a domain given in a request field.
pub fn parse_domain(field: &str, text: &str) -> Result<String, FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "domain_required", format!("{field} is required")));
    }
    check_domain_name(text).map_err(|NotADomain| {
        FieldError::new(field, "domain_invalid", format!("{field} must be a domain name such as example.com"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_names() {
        assert_eq!(check_domain_name("Foo-Corp.COM.").unwrap(), "foo-corp.com");
        assert!(check_domain_name("xn--bcher-kva.example").is_ok());
        for bad in ["", "localhost", "-a.com", "a-.com", "a..com", "a.c", "exa mple.com", "a.123", "a_b.com"] {
            assert!(check_domain_name(bad).is_err(), "{bad}");
        }
    }
}
