//! Users of the environment.

use crate::email::Email;
use crate::id::UserId;
use crate::metadata::Metadata;
use crate::timestamp::Timestamp;
use serde::Serialize;

/// A user as the API returns it (WorkOS `user` object). Nullable keys are always present.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "user")]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub email_verified: bool,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub name: Option<String>,
    pub profile_picture_url: Option<String>,
    pub last_sign_in_at: Option<Timestamp>,
    pub locale: Option<String>,
    pub external_id: Option<String>,
    pub metadata: Metadata,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The display name WorkOS derives from first and last name.
pub fn display_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let joined = [first, last].into_iter().flatten().collect::<Vec<_>>().join(" ");
    if joined.is_empty() { None } else { Some(joined) }
}

/// Splits a full `name` into first and last name at the first space, for callers that send
/// only `name`.
pub fn split_name(name: &str) -> (Option<String>, Option<String>) {
    match name.trim().split_once(' ') {
        Some((first, last)) => (Some(first.to_owned()), Some(last.trim().to_owned())),
        None if name.trim().is_empty() => (None, None),
        None => (Some(name.trim().to_owned()), None),
    }
}

/// The kind of password hash a user's password is stored as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordHashType {
    Argon2,
    Bcrypt,
}

impl PasswordHashType {
    /// Reads the `password_hash_type` values Portico imports.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "argon2" => Some(PasswordHashType::Argon2),
            "bcrypt" => Some(PasswordHashType::Bcrypt),
            _ => None,
        }
    }
}

/// An external identity linked to a user (social or SSO login), as `identities` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identity {
    pub idp_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub provider: String,
}

/// Checks `locale` as a BCP-47-shaped tag such as `en`, `en-US` or `zh-Hant-TW`.
pub fn is_valid_locale(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let Some(language) = parts.next() else { return false };
    (2..=3).contains(&language.len())
        && language.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (2..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(display_name(Some("Ada"), Some("Lovelace")).as_deref(), Some("Ada Lovelace"));
        assert_eq!(display_name(None, Some("Lovelace")).as_deref(), Some("Lovelace"));
        assert_eq!(display_name(None, None), None);
        assert_eq!(split_name("Ada King Lovelace"), (Some("Ada".into()), Some("King Lovelace".into())));
        assert_eq!(split_name("Ada"), (Some("Ada".into()), None));
    }

    #[test]
    fn locales() {
        for ok in ["en", "en-US", "pt-BR", "zh-Hant-TW"] {
            assert!(is_valid_locale(ok), "{ok}");
        }
        for bad in ["", "e", "english", "en_US", "en-"] {
            assert!(!is_valid_locale(bad), "{bad}");
        }
    }
}
