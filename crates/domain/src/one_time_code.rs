//! Codes and links sent by email: Magic Auth, email verification and password reset, in the
//! WorkOS shapes. Codes are six digits, good for ten minutes and a few attempts.

use crate::email::Email;
use crate::id::{EmailVerificationId, MagicAuthId, PasswordResetId, UserId};
use crate::timestamp::Timestamp;
use serde::Serialize;

/// How long an emailed code stays usable.
pub const CODE_TTL_MS: i64 = 10 * 60 * 1000;
/// Wrong guesses allowed on one code before it stops working.
pub const MAX_CODE_ATTEMPTS: i64 = 5;
/// How long a password-reset link stays usable.
pub const PASSWORD_RESET_TTL_MS: i64 = 30 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "magic_auth")]
pub struct MagicAuth {
    pub id: MagicAuthId,
    pub user_id: UserId,
    pub email: Email,
    pub code: String,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "email_verification")]
pub struct EmailVerification {
    pub id: EmailVerificationId,
    pub user_id: UserId,
    pub email: Email,
    pub code: String,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "password_reset")]
pub struct PasswordReset {
    pub id: PasswordResetId,
    pub user_id: UserId,
    pub email: Email,
    pub password_reset_token: String,
    pub password_reset_url: String,
    pub expires_at: Timestamp,
    pub created_at: Timestamp,
}

/// Why a presented code is refused; each has its WorkOS error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeRefusal {
    Invalid,
    Expired,
    PreviouslyUsed,
    TooManyAttempts,
}

impl CodeRefusal {
    pub fn code(self) -> &'static str {
        match self {
            CodeRefusal::Invalid => "invalid_one_time_code",
            CodeRefusal::Expired => "one_time_code_expired",
            CodeRefusal::PreviouslyUsed => "one_time_code_previously_used",
            CodeRefusal::TooManyAttempts => "one_time_code_too_many_attempts",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            CodeRefusal::Invalid => "The code is incorrect.",
            CodeRefusal::Expired => "The code has expired.",
            CodeRefusal::PreviouslyUsed => "The code has already been used.",
            CodeRefusal::TooManyAttempts => "Too many wrong codes were tried; ask for a new code.",
        }
    }
}

/// Judges a presented code against the stored one, before comparing the digits: a used, expired
/// or exhausted code is refused whatever was typed.
pub fn check_code(
    used: bool,
    expires_at: Timestamp,
    attempts: i64,
    now: Timestamp,
    matches: bool,
) -> Result<(), CodeRefusal> {
    if used {
        Err(CodeRefusal::PreviouslyUsed)
    } else if attempts >= MAX_CODE_ATTEMPTS {
        Err(CodeRefusal::TooManyAttempts)
    } else if expires_at <= now {
        Err(CodeRefusal::Expired)
    } else if !matches {
        Err(CodeRefusal::Invalid)
    } else {
        Ok(())
    }
}

/// Whether `text` looks like a code at all (six digits, spaces tolerated).
pub fn normalize_code(text: &str) -> Option<String> {
    let digits: String = text.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    (digits.len() == 6 && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_in_order() {
        let now = Timestamp::from_unix_ms(1_000);
        let later = Timestamp::from_unix_ms(2_000);
        assert_eq!(check_code(true, later, 0, now, true), Err(CodeRefusal::PreviouslyUsed));
        assert_eq!(check_code(false, later, 5, now, true), Err(CodeRefusal::TooManyAttempts));
        assert_eq!(check_code(false, now, 0, now, true), Err(CodeRefusal::Expired));
        assert_eq!(check_code(false, later, 0, now, false), Err(CodeRefusal::Invalid));
        assert_eq!(check_code(false, later, 4, now, true), Ok(()));
    }

    #[test]
    fn codes_are_six_digits() {
        assert_eq!(normalize_code(" 123 456 ").as_deref(), Some("123456"));
        assert_eq!(normalize_code("12345"), None);
        assert_eq!(normalize_code("12345a"), None);
    }
}
