//! Permissions: what a role allows (`posts:write`).

use crate::id::PermissionId;
use crate::timestamp::Timestamp;
use serde::Serialize;

/// A permission as the API returns it (WorkOS `permission` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "permission")]
pub struct Permission {
    pub id: PermissionId,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub resource_type_slug: String,
    /// Permissions Portico defines itself; integrators' permissions are never system ones.
    pub system: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}
