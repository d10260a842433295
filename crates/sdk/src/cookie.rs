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
///
/// ```no_run
/// # async fn demo(portico: portico_sdk::Portico, tokens: portico_sdk::Tokens) -> Result<(), portico_sdk::Error> {
/// use portico_sdk::{CookieSessions, Tokens};
///
/// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!")?;
/// let fresh = portico.refresh(&tokens.refresh_token).await?;
/// // Refresh tokens are single use: store the new pair at once.
/// let tokens = Tokens { access_token: fresh.access_token, refresh_token: fresh.refresh_token };
/// let set_cookie = cookies.set_cookie(&tokens);
/// # drop(set_cookie); Ok(()) }
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: String,
}

/// Never prints the tokens themselves: they are credentials, and `Debug` output ends up in logs.
impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
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
    ///
    /// ```
    /// use portico_sdk::{CookieSessions, Error};
    ///
    /// let cookies = CookieSessions::new(b"32 or more random bytes from the secret store").unwrap();
    /// assert_eq!(cookies.cookie_name(), "portico_session");
    /// assert!(matches!(CookieSessions::new(b"too short"), Err(Error::Config(_))));
    /// ```
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
    ///
    /// ```
    /// use portico_sdk::{CookieSessions, Tokens};
    ///
    /// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!").unwrap().name("myapp_session");
    /// let tokens = Tokens { access_token: "a".into(), refresh_token: "r".into() };
    /// assert!(cookies.set_cookie(&tokens).to_str().unwrap().starts_with("myapp_session="));
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Whether the cookie is `Secure` (default yes; turn off only for plain-HTTP development).
    ///
    /// ```
    /// use portico_sdk::{CookieSessions, Tokens};
    ///
    /// let app_url = "http://localhost:3000";
    /// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!")
    ///     .unwrap()
    ///     .secure(app_url.starts_with("https://"));
    /// let tokens = Tokens { access_token: "a".into(), refresh_token: "r".into() };
    /// assert!(!cookies.set_cookie(&tokens).to_str().unwrap().contains("Secure"));
    /// ```
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// How long the browser keeps the cookie (default 30 days; Portico's session limits apply
    /// on refresh regardless).
    ///
    /// ```
    /// use portico_sdk::{CookieSessions, Tokens};
    ///
    /// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!")
    ///     .unwrap()
    ///     .max_age(std::time::Duration::from_secs(8 * 3600));
    /// let tokens = Tokens { access_token: "a".into(), refresh_token: "r".into() };
    /// assert!(cookies.set_cookie(&tokens).to_str().unwrap().contains("Max-Age=28800"));
    /// ```
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// The cookie's name, as set with [`CookieSessions::name`].
    ///
    /// ```
    /// let cookies = portico_sdk::CookieSessions::new(b"at least thirty-two bytes of secret!!").unwrap();
    /// assert_eq!(cookies.cookie_name(), "portico_session");
    /// assert_eq!(cookies.name("myapp_session").cookie_name(), "myapp_session");
    /// ```
    pub fn cookie_name(&self) -> &str {
        &self.name
    }

    /// Encrypts the tokens into a cookie value.
    ///
    /// ```
    /// use portico_sdk::{CookieSessions, Tokens};
    ///
    /// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!").unwrap();
    /// let tokens = Tokens { access_token: "eyJ…".into(), refresh_token: "r…".into() };
    /// let sealed = cookies.seal(&tokens);
    /// // A fresh nonce each time: the same tokens never seal to the same value.
    /// assert_ne!(sealed, cookies.seal(&tokens));
    /// assert_eq!(cookies.unseal(&sealed), Some(tokens));
    /// ```
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
    ///
    /// ```
    /// use portico_sdk::{CookieSessions, Tokens};
    ///
    /// let secret = b"at least thirty-two bytes of secret!!";
    /// let cookies = CookieSessions::new(secret).unwrap();
    /// let tokens = Tokens { access_token: "a".into(), refresh_token: "r".into() };
    /// let sealed = cookies.seal(&tokens);
    /// assert_eq!(cookies.unseal(&sealed), Some(tokens));
    /// // Another key, or the same key under another cookie name, cannot open it.
    /// assert_eq!(CookieSessions::new(b"another secret of thirty-two bytes!!").unwrap().unseal(&sealed), None);
    /// assert_eq!(CookieSessions::new(secret).unwrap().name("other").unseal(&sealed), None);
    /// ```
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
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue, header::COOKIE};
    /// use portico_sdk::{CookieSessions, Tokens};
    ///
    /// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!").unwrap();
    /// let tokens = Tokens { access_token: "a".into(), refresh_token: "r".into() };
    /// let mut headers = HeaderMap::new();
    /// let cookie = format!("theme=dark; portico_session={}", cookies.seal(&tokens));
    /// headers.insert(COOKIE, HeaderValue::from_str(&cookie).unwrap());
    /// assert_eq!(cookies.read(&headers), Some(tokens));
    /// assert_eq!(cookies.read(&HeaderMap::new()), None);
    /// ```
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
    ///
    /// ```
    /// use axum::response::{IntoResponse, Redirect};
    /// use http::header::SET_COOKIE;
    /// use portico_sdk::{CookieSessions, Tokens};
    ///
    /// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!").unwrap();
    /// let tokens = Tokens { access_token: "a".into(), refresh_token: "r".into() };
    /// // After the sign-in callback: store the tokens and go to the app.
    /// let response = ([(SET_COOKIE, cookies.set_cookie(&tokens))], Redirect::to("/")).into_response();
    /// let header = response.headers()[SET_COOKIE].to_str().unwrap();
    /// assert!(header.starts_with("portico_session="));
    /// assert!(header.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=2592000; Secure"));
    /// ```
    pub fn set_cookie(&self, tokens: &Tokens) -> HeaderValue {
        self.header(&self.seal(tokens), self.max_age.as_secs())
    }

    /// A `Set-Cookie` value that removes the session cookie (sign-out).
    ///
    /// ```
    /// use axum::response::{IntoResponse, Redirect};
    /// use http::header::SET_COOKIE;
    /// use portico_sdk::{CookieSessions, Portico, Session};
    ///
    /// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!").unwrap();
    /// // Sign-out: forget the tokens here, and end the session at Portico.
    /// let session = Session::example();
    /// let logout = portico.logout_url(&session.session_id, Some("http://localhost:3000/"));
    /// let response = ([(SET_COOKIE, cookies.clear_cookie())], Redirect::to(&logout)).into_response();
    /// assert!(response.headers()[SET_COOKIE].to_str().unwrap().contains("Max-Age=0"));
    /// ```
    pub fn clear_cookie(&self) -> HeaderValue {
        self.header("", 0)
    }

    fn header(&self, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.secure { "; Secure" } else { "" };
        let text = format!("{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", self.name);
        HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
    }
}
