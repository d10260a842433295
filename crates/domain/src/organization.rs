//! Organizations: the customers of the app that integrates Portico.

use crate::id::OrganizationId;
use crate::metadata::Metadata;
use crate::organization_domain::OrganizationDomain;
use crate::timestamp::Timestamp;
use serde::Serialize;

/// An organization as the API returns it (WorkOS `organization` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "organization")]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    /// Deprecated by WorkOS but still read by the Node SDK; always `false`.
    pub allow_profiles_outside_organization: bool,
    pub domains: Vec<OrganizationDomain>,
    /// Omitted when unset: the Node SDK tests it with `=== undefined`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stripe_customer_id: Option<String>,
    pub external_id: Option<String>,
    pub metadata: Metadata,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

pub const MAX_NAME_CHARS: usize = 256;
