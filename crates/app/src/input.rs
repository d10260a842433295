//! Request bodies of the management API, as the use cases take them. Unknown keys are ignored
//! (the WorkOS SDKs send extra ones such as `ip_address`); wrong types are rejected by the web
//! layer before these are built, with the field named.

use serde::{Deserialize, Deserializer};

/// A field of an update: left out, explicitly `null` (clear it), or a new value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Patch<T> {
    /// Applies the patch to a nullable field.
    pub fn apply(self, current: Option<T>) -> Option<T> {
        match self {
            Patch::Absent => current,
            Patch::Null => None,
            Patch::Value(value) => Some(value),
        }
    }

    pub fn as_value(&self) -> Option<&T> {
        match self {
            Patch::Value(value) => Some(value),
            _ => None,
        }
    }

    pub fn is_absent(&self) -> bool {
        matches!(self, Patch::Absent)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Patch::Value(value),
            None => Patch::Null,
        })
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateUser {
    pub email: Option<String>,
    pub password: Option<String>,
    /// An existing hash to import, of the type `password_hash_type` names.
    pub password_hash: Option<String>,
    /// `bcrypt` or `argon2`.
    pub password_hash_type: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Split into first and last name when those are not given.
    pub name: Option<String>,
    pub email_verified: Option<bool>,
    pub external_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::HashMap<String, String>>))]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateUser {
    pub email: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub first_name: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub last_name: Patch<String>,
    pub name: Option<String>,
    pub email_verified: Option<bool>,
    pub password: Option<String>,
    pub password_hash: Option<String>,
    pub password_hash_type: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub external_id: Patch<String>,
    /// Keys with `null` values are removed.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::HashMap<String, String>>))]
    pub metadata: Option<serde_json::Value>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub locale: Patch<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DomainData {
    pub domain: Option<String>,
    /// `verified` or `pending` (the default).
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateOrganization {
    pub name: Option<String>,
    pub domain_data: Option<Vec<DomainData>>,
    /// Deprecated by WorkOS: plain domain names, each recorded as `pending`.
    pub domains: Option<Vec<String>>,
    pub external_id: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::HashMap<String, String>>))]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateOrganization {
    pub name: Option<String>,
    /// Replaces the organization's domains.
    pub domain_data: Option<Vec<DomainData>>,
    pub domains: Option<Vec<String>>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub stripe_customer_id: Patch<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub external_id: Patch<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<std::collections::HashMap<String, String>>))]
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateOrganizationDomain {
    pub domain: Option<String>,
    pub organization_id: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateMembership {
    pub organization_id: Option<String>,
    pub user_id: Option<String>,
    /// One role; or give `role_slugs`. Neither means the environment's default role.
    pub role_slug: Option<String>,
    pub role_slugs: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateMembership {
    pub role_slug: Option<String>,
    pub role_slugs: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreatePermission {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Only `organization` is supported.
    pub resource_type_slug: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdatePermission {
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Patch<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateRole {
    pub slug: Option<String>,
    pub name: Option<String>,
    pub description: Option<String>,
    /// Only `organization` is supported.
    pub resource_type_slug: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateRole {
    pub name: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub description: Patch<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SetRolePermissions {
    /// Permission slugs; replaces the role's set.
    pub permissions: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddRolePermission {
    /// The permission's slug.
    pub slug: Option<String>,
}
