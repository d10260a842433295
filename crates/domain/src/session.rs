//! Sessions: a signed-in user on one device, possibly scoped to one organization, with the
//! refresh tokens that keep it going and the access tokens it mints.

use crate::id::{OrganizationId, SessionId, UserId};
use crate::timestamp::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStatus {
    Active,
    Expired,
    Revoked,
}

/// How the user signed in, in the session object's vocabulary, and in the
/// `authentication_method` vocabulary of authenticate responses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    Password,
    MagicCode,
    /// A passkey that verified the user (a PIN or biometric on the device): two factors at once.
    Passkey,
}

impl AuthMethod {
    pub fn session_name(self) -> &'static str {
        match self {
            AuthMethod::Password => "password",
            AuthMethod::MagicCode => "magic_code",
            AuthMethod::Passkey => "passkey",
        }
    }

    pub fn response_name(self) -> &'static str {
        match self {
            AuthMethod::Password => "Password",
            AuthMethod::MagicCode => "MagicAuth",
            AuthMethod::Passkey => "Passkey",
        }
    }

    pub fn parse_session_name(text: &str) -> Option<Self> {
        match text {
            "password" => Some(AuthMethod::Password),
            "magic_code" => Some(AuthMethod::MagicCode),
            "passkey" => Some(AuthMethod::Passkey),
            _ => None,
        }
    }
}

/// A session as the API returns it (WorkOS `session` object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "session")]
pub struct Session {
    pub id: SessionId,
    pub user_id: UserId,
    /// Omitted when the session is not scoped to an organization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<OrganizationId>,
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
    pub auth_method: String,
    pub status: SessionStatus,
    pub expires_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When a refresh last used the session; idle expiry counts from here.
    #[serde(skip)]
    pub last_active_at: Timestamp,
    /// When the session passed a second factor, if it did.
    #[serde(skip)]
    pub mfa_verified_at: Option<Timestamp>,
}

/// Lifetimes that bound every session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// From sign-in, whatever the activity.
    pub absolute_ms: i64,
    /// Since the last refresh.
    pub idle_ms: i64,
}

impl Session {
    /// Whether the session can still mint tokens at `now`.
    pub fn is_live(&self, now: Timestamp, limits: SessionLimits) -> bool {
        self.status == SessionStatus::Active
            && now < self.expires_at
            && now.unix_ms() - self.last_active_at.unix_ms() < limits.idle_ms
    }

    /// The status the API shows: an active session past its time reads as expired.
    pub fn shown_status(&self, now: Timestamp, limits: SessionLimits) -> SessionStatus {
        match self.status {
            SessionStatus::Active if !self.is_live(now, limits) => SessionStatus::Expired,
            other => other,
        }
    }
}

/// The claims of an access token. Organization claims appear only when the session is scoped to
/// an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub sub: String,
    pub sid: String,
    pub jti: String,
    pub iat: i64,
    pub exp: i64,
    /// When the user signed in (seconds since the epoch); the same for every token of a session.
    /// The Python SDK accepts a session token only when this is present.
    pub auth_time: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub org_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub roles: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub permissions: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Ulid;

    fn session(status: SessionStatus) -> Session {
        Session {
            id: SessionId::from_ulid(Ulid::from_parts(1, 1)),
            user_id: UserId::from_ulid(Ulid::from_parts(1, 2)),
            organization_id: None,
            ip_address: None,
            user_agent: None,
            auth_method: "password".into(),
            status,
            expires_at: Timestamp::from_unix_ms(10_000),
            ended_at: None,
            created_at: Timestamp::from_unix_ms(0),
            updated_at: Timestamp::from_unix_ms(0),
            last_active_at: Timestamp::from_unix_ms(1_000),
            mfa_verified_at: None,
        }
    }

    #[test]
    fn absolute_and_idle_lifetimes_end_a_session() {
        let limits = SessionLimits { absolute_ms: 10_000, idle_ms: 3_000 };
        let s = session(SessionStatus::Active);
        assert!(s.is_live(Timestamp::from_unix_ms(3_999), limits));
        assert!(!s.is_live(Timestamp::from_unix_ms(4_000), limits), "idle");
        let busy = Session { last_active_at: Timestamp::from_unix_ms(9_000), ..s.clone() };
        assert!(!busy.is_live(Timestamp::from_unix_ms(10_000), limits), "absolute");
        assert_eq!(busy.shown_status(Timestamp::from_unix_ms(10_000), limits), SessionStatus::Expired);
        assert!(!session(SessionStatus::Revoked).is_live(Timestamp::from_unix_ms(1_001), limits));
    }

    #[test]
    fn organization_claims_are_omitted_when_unscoped() {
        let claims = AccessClaims {
            iss: "https://auth.example.com".into(),
            sub: "user_1".into(),
            sid: "session_1".into(),
            jti: "01".into(),
            iat: 1,
            exp: 2,
            auth_time: 1,
            org_id: None,
            role: None,
            roles: None,
            permissions: None,
        };
        let json = serde_json::to_value(&claims).unwrap();
        assert!(json.get("org_id").is_none() && json.get("permissions").is_none());
    }
}
