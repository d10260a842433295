//! Redirect URIs and allowed origins of OAuth clients. Redirects match exactly (RFC 9700), so
//! what is stored must already be the one exact form.

use crate::validation::FieldError;

fn is_loopback(host: &str) -> bool {
    matches!(host, "localhost" | "127.0.0.1" | "[::1]")
}

/// An absolute `https` URL without fragment or wildcard; plain `http` only on loopback hosts,
/// for local development.
pub fn check_redirect_uri(field: &str, text: &str) -> Result<String, FieldError> {
    let invalid = |why: &str| FieldError::new(field, "redirect_uri_invalid", format!("{field} {text:?} {why}"));
    let parsed = url::Url::parse(text.trim()).map_err(|_| invalid("is not an absolute URL"))?;
    let host = parsed.host_str().ok_or_else(|| invalid("has no host"))?;
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(host) => {}
        "http" => return Err(invalid("must use https (plain http is allowed for localhost only)")),
        _ => return Err(invalid("must be an http(s) URL")),
    }
    if parsed.fragment().is_some() {
        return Err(invalid("must not contain a fragment"));
    }
    if text.contains('*') {
        return Err(invalid("must not contain wildcards; redirect URIs match exactly"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid("must not contain credentials"));
    }
    Ok(text.trim().to_owned())
}

/// A web origin, `scheme://host[:port]`, for CORS.
pub fn check_origin(field: &str, text: &str) -> Result<String, FieldError> {
    let invalid = |why: &str| FieldError::new(field, "origin_invalid", format!("{field} {text:?} {why}"));
    let parsed =
        url::Url::parse(text.trim()).map_err(|_| invalid("is not an origin such as https://app.example.com"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(invalid("must be an http(s) origin"));
    }
    if parsed.path() != "/" || parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("must not have a path, query or fragment"));
    }
    Ok(parsed.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris() {
        assert!(check_redirect_uri("r", "https://app.example.com/callback").is_ok());
        assert!(check_redirect_uri("r", "http://localhost:3000/callback").is_ok());
        assert!(check_redirect_uri("r", "http://127.0.0.1:3000/callback").is_ok());
        for bad in [
            "http://app.example.com/cb",
            "/callback",
            "https://app.example.com/cb#x",
            "https://*.example.com/cb",
            "javascript:alert(1)",
            "https://u:p@example.com/",
        ] {
            assert!(check_redirect_uri("r", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins() {
        assert_eq!(check_origin("o", "https://app.example.com").unwrap(), "https://app.example.com");
        assert_eq!(check_origin("o", "http://localhost:3000/").unwrap(), "http://localhost:3000");
        assert!(check_origin("o", "https://app.example.com/path").is_err());
        assert!(check_origin("o", "ftp://example.com").is_err());
    }
}
