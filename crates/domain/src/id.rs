//! WorkOS-style public ids: `prefix_` + a 26-character ULID in Crockford base32.
//!
//! ULIDs sort by creation time, so ordering by id is ordering by creation, which is what cursor
//! pagination relies on.

use std::fmt;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A 128-bit ULID: 48 bits of milliseconds since the Unix epoch, 80 bits of randomness.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ulid(pub u128);

impl Ulid {
    pub fn from_parts(unix_ms: u64, random: u128) -> Self {
        let time = u128::from(unix_ms & 0xFFFF_FFFF_FFFF) << 80;
        Ulid(time | (random & ((1u128 << 80) - 1)))
    }

    pub fn unix_ms(self) -> u64 {
        (self.0 >> 80) as u64
    }

    pub fn random_part(self) -> u128 {
        self.0 & ((1u128 << 80) - 1)
    }

    /// Parses the 26-character Crockford base32 form (upper case, as Portico writes it).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 26 || bytes[0] > b'7' {
            return None;
        }
        let mut value: u128 = 0;
        for &b in bytes {
            let digit = CROCKFORD.iter().position(|&c| c == b)? as u128;
            value = (value << 5) | digit;
        }
        Some(Ulid(value))
    }
}

impl fmt::Display for Ulid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0u8; 26];
        let mut value = self.0;
        for slot in out.iter_mut().rev() {
            *slot = CROCKFORD[(value & 0x1F) as usize];
            value >>= 5;
        }
        // Every byte comes from the ASCII alphabet above.
        f.write_str(std::str::from_utf8(&out).map_err(|_| fmt::Error)?)
    }
}

/// Implemented by every typed id, so ids can be minted generically.
pub trait PublicId: Sized {
    const PREFIX: &'static str;
    fn from_ulid(ulid: Ulid) -> Self;
    fn parse(text: &str) -> Option<Self>;
}

/// Reads an id given in a request field, naming the field when it is not an id of that kind.
pub fn check_id<T: PublicId>(field: &str, text: &str) -> Result<T, crate::FieldError> {
    T::parse(text).ok_or_else(|| {
        crate::FieldError::new(
            field,
            &format!("{field}_invalid"),
            format!("{field} must be an id of the form {}_01…", T::PREFIX),
        )
    })
}

/// Defines a typed public id with a fixed prefix. Mixing up two kinds of id fails to compile,
/// and parsing rejects any other prefix.
macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn from_ulid(ulid: Ulid) -> Self {
                $name(format!("{}_{}", $prefix, ulid))
            }

            /// Accepts only `prefix_` + a well-formed ULID.
            pub fn parse(text: &str) -> Option<Self> {
                let rest = text.strip_prefix($prefix)?.strip_prefix('_')?;
                Ulid::parse(rest).map(|_| $name(text.to_owned()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Rebuilds an id read back from storage, where it was written by `from_ulid`.
            pub fn from_trusted(text: String) -> Self {
                $name(text)
            }
        }

        impl PublicId for $name {
            const PREFIX: &'static str = $prefix;

            fn from_ulid(ulid: Ulid) -> Self {
                $name::from_ulid(ulid)
            }

            fn parse(text: &str) -> Option<Self> {
                $name::parse(text)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

define_id!(/// A user.
    UserId, "user");
define_id!(/// An organization.
    OrganizationId, "org");
define_id!(/// A user's membership of an organization.
    MembershipId, "om");
define_id!(/// A domain claimed by an organization.
    OrganizationDomainId, "org_domain");
define_id!(/// A role, environment-wide or organization-specific.
    RoleId, "role");
define_id!(/// A permission.
    PermissionId, "perm");
define_id!(/// An event in the event log.
    EventId, "event");
define_id!(/// A management API key (its public id, never its secret).
    ApiKeyId, "api_key");
define_id!(/// An OAuth client of the environment.
    ClientId, "client");
define_id!(/// A session.
    SessionId, "session");
define_id!(/// A Magic Auth sign-in code sent by email.
    MagicAuthId, "magic_auth");
define_id!(/// An email-verification code sent to a user.
    EmailVerificationId, "email_verification");
define_id!(/// A password-reset link sent to a user.
    PasswordResetId, "password_reset");
define_id!(/// An invitation to join the environment or an organization.
    InvitationId, "invitation");
define_id!(/// A second factor of a user (TOTP).
    AuthFactorId, "auth_factor");
define_id!(/// A challenge to verify a code from a second factor.
    AuthChallengeId, "auth_challenge");
define_id!(/// A user's passkey (WebAuthn credential).
    PasskeyId, "passkey");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulid_round_trips_through_text() {
        let ulid = Ulid::from_parts(1_700_000_000_123, 0xDEAD_BEEF_1234_5678_9ABC);
        let text = ulid.to_string();
        assert_eq!(text.len(), 26);
        assert_eq!(Ulid::parse(&text), Some(ulid));
        assert_eq!(ulid.unix_ms(), 1_700_000_000_123);
    }

    #[test]
    fn ulid_text_sorts_like_time() {
        let a = Ulid::from_parts(1000, u128::MAX).to_string();
        let b = Ulid::from_parts(1001, 0).to_string();
        assert!(a < b);
    }

    #[test]
    fn ids_check_their_prefix() {
        let id = UserId::from_ulid(Ulid::from_parts(1, 2));
        assert!(UserId::parse(id.as_str()).is_some());
        assert!(OrganizationId::parse(id.as_str()).is_none());
        assert!(UserId::parse("user_123").is_none());
        assert!(UserId::parse("user_01E4ZCR3C56J083X43JQXF3JK5").is_some());
        // `org_domain_` ids must not be accepted as `org_` ids.
        let domain = OrganizationDomainId::from_ulid(Ulid::from_parts(1, 2));
        assert!(OrganizationId::parse(domain.as_str()).is_none());
    }
}
