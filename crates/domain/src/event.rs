//! The event log: every change writes one event, in the transaction that makes the change.

use crate::id::{EventId, OrganizationId};
use crate::timestamp::Timestamp;
use serde::Serialize;

/// An event as `GET /events` returns it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "object", rename = "event")]
pub struct Event {
    pub id: EventId,
    pub event: String,
    pub data: serde_json::Value,
    pub created_at: Timestamp,
    #[serde(skip)]
    pub organization_id: Option<OrganizationId>,
    pub context: serde_json::Value,
}

/// Event names Portico writes.
pub mod names {
    pub const USER_CREATED: &str = "user.created";
    pub const USER_UPDATED: &str = "user.updated";
    pub const USER_DELETED: &str = "user.deleted";
    pub const ORGANIZATION_CREATED: &str = "organization.created";
    pub const ORGANIZATION_UPDATED: &str = "organization.updated";
    pub const ORGANIZATION_DELETED: &str = "organization.deleted";
    pub const ORGANIZATION_DOMAIN_CREATED: &str = "organization_domain.created";
    pub const ORGANIZATION_DOMAIN_UPDATED: &str = "organization_domain.updated";
    pub const ORGANIZATION_DOMAIN_DELETED: &str = "organization_domain.deleted";
    pub const ORGANIZATION_DOMAIN_VERIFIED: &str = "organization_domain.verified";
    pub const ORGANIZATION_DOMAIN_VERIFICATION_FAILED: &str = "organization_domain.verification_failed";
    pub const MEMBERSHIP_CREATED: &str = "organization_membership.created";
    pub const MEMBERSHIP_UPDATED: &str = "organization_membership.updated";
    pub const MEMBERSHIP_DELETED: &str = "organization_membership.deleted";
    pub const ROLE_CREATED: &str = "role.created";
    pub const ROLE_UPDATED: &str = "role.updated";
    pub const ROLE_DELETED: &str = "role.deleted";
    pub const ORGANIZATION_ROLE_CREATED: &str = "organization_role.created";
    pub const ORGANIZATION_ROLE_UPDATED: &str = "organization_role.updated";
    pub const ORGANIZATION_ROLE_DELETED: &str = "organization_role.deleted";
    pub const PERMISSION_CREATED: &str = "permission.created";
    pub const PERMISSION_UPDATED: &str = "permission.updated";
    pub const PERMISSION_DELETED: &str = "permission.deleted";
    pub const SESSION_CREATED: &str = "session.created";
    pub const SESSION_REVOKED: &str = "session.revoked";
    pub const AUTHENTICATION_PASSWORD_SUCCEEDED: &str = "authentication.password_succeeded";
    pub const AUTHENTICATION_PASSWORD_FAILED: &str = "authentication.password_failed";
    pub const AUTHENTICATION_MAGIC_AUTH_SUCCEEDED: &str = "authentication.magic_auth_succeeded";
    pub const AUTHENTICATION_MAGIC_AUTH_FAILED: &str = "authentication.magic_auth_failed";
    pub const AUTHENTICATION_EMAIL_VERIFICATION_SUCCEEDED: &str = "authentication.email_verification_succeeded";
    pub const EMAIL_VERIFICATION_CREATED: &str = "email_verification.created";
    pub const MAGIC_AUTH_CREATED: &str = "magic_auth.created";
    pub const PASSWORD_RESET_CREATED: &str = "password_reset.created";
    pub const PASSWORD_RESET_SUCCEEDED: &str = "password_reset.succeeded";
    pub const INVITATION_CREATED: &str = "invitation.created";
    pub const INVITATION_ACCEPTED: &str = "invitation.accepted";
    pub const INVITATION_REVOKED: &str = "invitation.revoked";
    pub const INVITATION_RESENT: &str = "invitation.resent";
    pub const AUTHENTICATION_MFA_SUCCEEDED: &str = "authentication.mfa_succeeded";
    pub const AUTHENTICATION_MFA_FAILED: &str = "authentication.mfa_failed";
    pub const AUTHENTICATION_PASSKEY_SUCCEEDED: &str = "authentication.passkey_succeeded";
    pub const AUTHENTICATION_PASSKEY_FAILED: &str = "authentication.passkey_failed";
    pub const ORGANIZATION_POLICY_UPDATED: &str = "organization.policy_updated";
}

/// How long events stay readable, at the least (WorkOS keeps 30 days).
pub const MIN_RETENTION_DAYS: u32 = 30;

/// Checks an event name filter: dotted lower-case words.
pub fn is_valid_event_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.contains('.')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
}
