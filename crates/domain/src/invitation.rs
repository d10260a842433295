//! Invitations: an email address asked to join the environment, or an organization with a role.

use crate::email::Email;
use crate::id::{InvitationId, OrganizationId, UserId};
use crate::timestamp::Timestamp;
use serde::Serialize;

pub const DEFAULT_EXPIRES_IN_DAYS: i64 = 7;
pub const MAX_EXPIRES_IN_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    Pending,
    Accepted,
    Expired,
    Revoked,
}

impl InvitationState {
    /// The state as stored, and as seen at `now` (a pending invitation past its expiry is expired).
    pub fn at(stored: &str, expires_at: Timestamp, now: Timestamp) -> Option<Self> {
        Some(match stored {
            "pending" if expires_at <= now => InvitationState::Expired,
            "pending" => InvitationState::Pending,
            "accepted" => InvitationState::Accepted,
            "revoked" => InvitationState::Revoked,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "invitation")]
pub struct Invitation {
    pub id: InvitationId,
    pub email: Email,
    pub state: InvitationState,
    pub accepted_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    pub organization_id: Option<OrganizationId>,
    pub inviter_user_id: Option<UserId>,
    pub accepted_user_id: Option<UserId>,
    pub role_slug: Option<String>,
    pub token: String,
    pub accept_invitation_url: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_turns_expired() {
        let at = Timestamp::from_unix_ms(10);
        assert_eq!(InvitationState::at("pending", at, Timestamp::from_unix_ms(9)), Some(InvitationState::Pending));
        assert_eq!(InvitationState::at("pending", at, at), Some(InvitationState::Expired));
        assert_eq!(InvitationState::at("accepted", at, at), Some(InvitationState::Accepted));
        assert_eq!(InvitationState::at("bogus", at, at), None);
    }
}
