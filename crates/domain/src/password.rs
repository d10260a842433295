//! The password rules of NIST SP 800-63B: a minimum length, a generous maximum, a blocklist of
//! common passwords, and no composition rules.

use crate::validation::FieldError;

pub const MIN_CHARS: usize = 8;
/// NIST asks for at least 64; longer passphrases are welcome, the bound only caps hashing cost.
pub const MAX_CHARS: usize = 256;

const COMMON: &str = include_str!("common-passwords.txt");

/// Checks a new password. `email` is the account's address: a password equal to it or to its
/// local part is as guessable as a common one.
pub fn check_new_password(field: &str, password: &str, email: Option<&str>) -> Result<(), FieldError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(FieldError::new(
            field,
            "password_too_short",
            format!("{field} must be at least {MIN_CHARS} characters"),
        ));
    }
    if chars > MAX_CHARS {
        return Err(FieldError::new(
            field,
            "password_too_long",
            format!("{field} must be at most {MAX_CHARS} characters"),
        ));
    }
    let lowered = password.to_lowercase();
    let is_common = COMMON.lines().any(|line| line == lowered);
    let is_email = email.is_some_and(|e| {
        let e = e.to_lowercase();
        lowered == e || e.split('@').next() == Some(lowered.as_str())
    });
    if is_common || is_email {
        return Err(FieldError::new(
            field,
            "password_too_common",
            format!("{field} is too easy to guess; choose a less common password"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_bounds() {
        assert_eq!(check_new_password("password", "short", None).unwrap_err().code, "password_too_short");
        assert!(check_new_password("password", &"x".repeat(64), None).is_ok());
        assert!(check_new_password("password", &"x".repeat(MAX_CHARS + 1), None).is_err());
    }

    #[test]
    fn blocklist_and_email() {
        assert_eq!(check_new_password("password", "Password1", None).unwrap_err().code, "password_too_common");
        assert!(check_new_password("password", "qwertyuiop", None).is_err());
        assert!(check_new_password("password", "ada.lovelace", Some("ada.lovelace@example.com")).is_err());
        assert!(check_new_password("password", "correct horse battery", Some("ada@example.com")).is_ok());
    }

    #[test]
    fn no_composition_rules() {
        assert!(check_new_password("password", "all lower case words", None).is_ok());
    }
}
