//! Roles: named sets of permissions, defined for the whole environment or for one organization.

use crate::id::{OrganizationId, RoleId};
use crate::timestamp::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RoleType {
    EnvironmentRole,
    OrganizationRole,
}

/// A role as the API returns it (WorkOS `role` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "role")]
pub struct Role {
    pub id: RoleId,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub role_type: RoleType,
    pub resource_type_slug: String,
    /// Set for organization roles only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrganizationId>,
    /// Permission slugs, sorted.
    pub permissions: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Roles apply to organizations; Portico has no other resource types yet.
pub const ORGANIZATION_RESOURCE_TYPE: &str = "organization";

/// The roles every environment starts with.
pub const ADMIN_SLUG: &str = "admin";
pub const MEMBER_SLUG: &str = "member";

pub const MAX_NAME_CHARS: usize = 128;
pub const MAX_DESCRIPTION_CHARS: usize = 1024;
