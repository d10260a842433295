//! Organization memberships: a user's place in an organization, with their roles.

use crate::id::{MembershipId, OrganizationId, UserId};
use crate::timestamp::Timestamp;
use crate::user::User;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    Active,
    Inactive,
    /// Created by an invitation that has not been accepted yet.
    Pending,
}

impl MembershipStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Active => "active",
            MembershipStatus::Inactive => "inactive",
            MembershipStatus::Pending => "pending",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(MembershipStatus::Active),
            "inactive" => Some(MembershipStatus::Inactive),
            "pending" => Some(MembershipStatus::Pending),
            _ => None,
        }
    }
}

/// The slim role reference memberships carry: `{"slug": "admin"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleRef {
    pub slug: String,
}

/// A membership in its slim form, as event payloads carry it (no `roles`, no `user`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "organization_membership")]
pub struct Membership {
    pub id: MembershipId,
    pub user_id: UserId,
    pub organization_id: OrganizationId,
    pub organization_name: String,
    pub status: MembershipStatus,
    pub directory_managed: bool,
    pub custom_attributes: serde_json::Map<String, serde_json::Value>,
    /// The primary role: the first of `role_slugs`.
    pub role: RoleRef,
    #[serde(skip)]
    pub role_slugs: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A membership as the REST API returns it: the slim form plus every role and the embedded
/// user, which the Python SDK requires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MembershipWithUser {
    #[serde(flatten)]
    pub membership: Membership,
    pub roles: Vec<RoleRef>,
    pub user: User,
}

impl MembershipWithUser {
    pub fn new(membership: Membership, user: User) -> Self {
        let roles = membership.role_slugs.iter().map(|slug| RoleRef { slug: slug.clone() }).collect();
        MembershipWithUser { membership, roles, user }
    }
}
