//! Slugs name roles and permissions in tokens and API paths (`admin`, `posts:write`).

use crate::validation::FieldError;

pub const MAX_CHARS: usize = 128;

/// Lower-case letters, digits and `-`, `_`, `:`, `.`; starting with a letter or digit.
pub fn check(field: &str, text: &str) -> Result<String, FieldError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(FieldError::new(field, &format!("{field}_required"), format!("{field} is required")));
    }
    let first_ok = text.chars().next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok =
        text.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '_' | ':' | '.'));
    if !first_ok || !rest_ok || text.len() > MAX_CHARS {
        return Err(FieldError::new(
            field,
            &format!("{field}_invalid"),
            format!(
                "{field} must be 1 to {MAX_CHARS} lower-case letters, digits, '-', '_', ':' or '.', starting with a letter or digit"
            ),
        ));
    }
    Ok(text.to_owned())
}

/// Like `check`, for a field that must be present.
pub fn required(field: &str, text: Option<&str>) -> Result<String, FieldError> {
    match text {
        Some(text) => check(field, text),
        None => Err(FieldError::new(field, &format!("{field}_required"), format!("{field} is required"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_role_and_permission_slugs() {
        for ok in ["admin", "billing_admin", "posts:write", "org-1.viewer"] {
            assert!(check("slug", ok).is_ok(), "{ok}");
        }
        for bad in ["", "Admin", "-admin", "posts write", "x/y"] {
            assert!(check("slug", bad).is_err(), "{bad}");
        }
    }
}
