//! Sessions in a sealed cookie, for server-rendered apps: the access and refresh tokens,
//! encrypted and authenticated (AES-256-GCM) so the browser can neither read nor change them.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::HeaderValue;
use http::header::{COOKIE, HeaderMap};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// The tokens a signed-in browser carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// Seals [`Tokens`] into a cookie and opens them again.
///
/// ```
/// use portico_sdk::{CookieSessions, Tokens};
/// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!").unwrap();
/// let tokens = Tokens { access_token: "a".into(), refresh_token: "r".into() };
/// let header = cookies.set_cookie(&tokens);
/// let value = header.to_str().unwrap().split(';').next().unwrap().split_once('=').unwrap().1;
/// assert_eq!(cookies.unseal(value), Some(tokens));
/// assert_eq!(cookies.unseal("tampered"), None);
/// ```
#[derive(Clone)]
pub struct CookieSessions {
    key: Arc<LessSafeKey>,
    name: String,
    secure: bool,
    max_age: Duration,
}

impl std::fmt::Debug for CookieSessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieSessions").field("name", &self.name).field("secure", &self.secure).finish_non_exhaustive()
    }
}

impl CookieSessions {
    /// Sealed with a key derived from `secret` (at least 32 bytes; keep it in the app's secret
    /// store; changing it signs everyone out). The cookie is `portico_session`, `Secure`,
    /// `HttpOnly`, `SameSite=Lax`, for 30 days; see the setters to change that.
    pub fn new(secret: &[u8]) -> Result<CookieSessions, crate::Error> {
        if secret.len() < 32 {
            return Err(crate::Error::Config(format!(
                "the cookie secret must be at least 32 bytes; this one has {}",
                secret.len()
            )));
        }
        let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
        context.update(b"portico-sdk sealed session cookie v1\0");
        context.update(secret);
        let digest = context.finish();
        let key = UnboundKey::new(&AES_256_GCM, digest.as_ref())
            .map_err(|_| crate::Error::Config("cannot derive the cookie key".into()))?;
        Ok(CookieSessions {
            key: Arc::new(LessSafeKey::new(key)),
            name: "portico_session".to_owned(),
            secure: true,
            max_age: Duration::from_secs(30 * 24 * 3600),
        })
    }

    /// The cookie's name (default `portico_session`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Whether the cookie is `Secure` (default yes; turn off only for plain-HTTP development).
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// How long the browser keeps the cookie (default 30 days; Portico's session limits apply
    /// on refresh regardless).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    pub fn cookie_name(&self) -> &str {
        &self.name
    }

    /// Encrypts the tokens into a cookie value.
    pub fn seal(&self, tokens: &Tokens) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        if aws_lc_rs::rand::fill(&mut nonce).is_err() {
            panic!("the system random number generator failed");
        }
        let mut buffer = serde_json::to_vec(tokens).unwrap_or_default();
        // Sealing with a valid key and a fresh nonce does not fail.
        let sealed = self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(self.name.as_bytes()),
            &mut buffer,
        );
        if sealed.is_err() {
            return String::new();
        }
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buffer);
        URL_SAFE_NO_PAD.encode(out)
    }

    /// Opens a cookie value; `None` when it was not sealed by this key for this cookie name.
    pub fn unseal(&self, value: &str) -> Option<Tokens> {
        let bytes = URL_SAFE_NO_PAD.decode(value).ok()?;
        if bytes.len() <= NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = sealed.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(self.name.as_bytes()), &mut buffer).ok()?;
        serde_json::from_slice(plain).ok()
    }

    /// The tokens in a request's `Cookie` headers, if the session cookie is there and genuine.
    pub fn read(&self, headers: &HeaderMap) -> Option<Tokens> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == self.name)
            .and_then(|(_, value)| self.unseal(value))
    }

    /// A `Set-Cookie` value that stores the tokens.
    pub fn set_cookie(&self, tokens: &Tokens) -> HeaderValue {
        self.header(&self.seal(tokens), self.max_age.as_secs())
    }

    /// A `Set-Cookie` value that removes the session cookie (sign-out).
    pub fn clear_cookie(&self) -> HeaderValue {
        self.header("", 0)
    }

    fn header(&self, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text = format!("{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", self.name);
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}
