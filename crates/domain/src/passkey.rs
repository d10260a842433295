//! Passkeys: a user's WebAuthn credentials, as the API and the hosted pages show them.

use crate::id::{PasskeyId, UserId};
use crate::timestamp::Timestamp;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "object", rename = "passkey")]
pub struct Passkey {
    pub id: PasskeyId,
    pub user_id: UserId,
    /// Where it was made ("Chrome on macOS"), so people can tell their passkeys apart.
    pub name: String,
    /// Synced to the user's other devices by their password manager or platform.
    pub synced: bool,
    pub last_used_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The most passkeys one user can have: each sign-in lists them for the browser.
pub const MAX_PER_USER: usize = 20;

/// A name for a passkey from the browser that registered it: "Chrome on macOS".
pub fn device_name(user_agent: Option<&str>) -> String {
    let ua = user_agent.unwrap_or_default();
    // Order matters: Edge and Opera say "Chrome", Chrome says "Safari", Android says "Linux".
    let browser =
        [("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari")]
            .iter()
            .find(|(marker, _)| ua.contains(marker))
            .map(|(_, name)| *name);
    let system = [
        ("iPhone", "iPhone"),
        ("iPad", "iPad"),
        ("Android", "Android"),
        ("CrOS", "ChromeOS"),
        ("Mac OS X", "macOS"),
        ("Windows", "Windows"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(marker, _)| ua.contains(marker))
    .map(|(_, name)| *name);
    match (browser, system) {
        (Some(browser), Some(system)) => format!("{browser} on {system}"),
        (Some(one), None) | (None, Some(one)) => one.to_owned(),
        (None, None) => "Passkey".to_owned(),
    }
}

/// `name`, or `name (2)`, `name (3)`… when the user's other passkeys have it already, so that
/// people (and screen readers) can tell them apart.
pub fn distinct_name<'a>(name: &str, taken: impl Iterator<Item = &'a str> + Clone) -> String {
    let free = |candidate: &str| !taken.clone().any(|t| t == candidate);
    if free(name) {
        return name.to_owned();
    }
    (2..).map(|n| format!("{name} ({n})")).find(|candidate| free(candidate)).unwrap_or_else(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::{device_name, distinct_name};

    #[test]
    fn names_are_made_distinct() {
        let taken = ["Chrome on Linux", "Chrome on Linux (2)"];
        assert_eq!(distinct_name("Chrome on Linux", taken.iter().copied()), "Chrome on Linux (3)");
        assert_eq!(distinct_name("Safari on iPhone", taken.iter().copied()), "Safari on iPhone");
    }

    #[test]
    fn names_come_from_the_browser() {
        let chrome_mac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(device_name(Some(chrome_mac)), "Chrome on macOS");
        let safari_iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
        assert_eq!(device_name(Some(safari_iphone)), "Safari on iPhone");
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0";
        assert_eq!(device_name(Some(edge)), "Edge on Windows");
        let android = "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36";
        assert_eq!(device_name(Some(android)), "Chrome on Android");
        assert_eq!(device_name(None), "Passkey");
    }
}
