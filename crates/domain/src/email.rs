//! Email addresses, normalised to lower case so that uniqueness and look-ups ignore case.

use crate::validation::FieldError;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain` with a dotted domain, at most 254 characters (RFC 5321).
    pub fn parse(field: &str, text: &str) -> Result<Self, FieldError> {
        let text = text.trim();
        let invalid = || FieldError::new(field, "email_invalid", format!("{field} must be a valid email address"));
        if text.is_empty() {
            return Err(FieldError::new(field, "email_required", format!("{field} is required")));
        }
        if text.len() > 254 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = text.rsplit_once('@').ok_or_else(invalid)?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(invalid());
        }
        crate::organization_domain::check_domain_name(domain).map_err(|_| invalid())?;
        Ok(Email(text.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }

    /// Rebuilds an address read back from storage, where it was written normalised.
    pub fn from_trusted(text: String) -> Self {
        Email(text)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_and_validates() {
        assert_eq!(Email::parse("email", " Ada@Example.COM ").unwrap().as_str(), "ada@example.com");
        for bad in ["", "ada", "ada@", "@example.com", "ada@example", "a da@example.com", "ada@exa_mple.com"] {
            assert!(Email::parse("email", bad).is_err(), "{bad} should be rejected");
        }
        assert_eq!(Email::parse("email", "ada@example.com").unwrap().domain(), "example.com");
    }
}
