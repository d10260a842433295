//! [`Portico`]: the handle an app keeps. It verifies access tokens against the environment's
//! JWKS (fetched once, then again only for a key it has not seen, at most once per
//! `jwks_refetch_interval`), and speaks the sign-in side of the API: authorization URLs, the code
//! exchange, refresh, organization switching and sign-out.

use crate::error::{Error, read_json};
use crate::management::{Management, User};
use crate::session::Session;
use crate::token::{self, KeySet, Rules, TokenError};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::json;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

/// A Portico environment as the app sees it. Cheap to clone; share one per process.
///
/// ```no_run
/// # async fn demo() -> Result<(), portico_sdk::Error> {
/// let portico = portico_sdk::Portico::builder("https://auth.example.com", "client_01H…")
///     .api_key(std::env::var("PORTICO_API_KEY").unwrap_or_default())
///     .build()?;
/// let session = portico.verify("eyJhbGciOiJSUzI1NiIs…").await?;
/// println!("{} in {:?}", session.user_id, session.organization_id);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Portico {
    inner: Arc<Inner>,
}

struct Inner {
    base_url: String,
    client_id: String,
    api_key: Option<String>,
    http: reqwest::Client,
    rules: Rules,
    keys: RwLock<Arc<KeySet>>,
    /// When the JWKS was last fetched; held while fetching so one request fetches for all.
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    refetch_interval: Duration,
}

/// Settings for [`Portico`], from [`Portico::builder`].
///
/// ```
/// let portico = portico_sdk::Portico::builder("http://localhost:8080", "client_01H…")
///     .issuer("http://localhost:8080")
///     .leeway(std::time::Duration::from_secs(5))
///     .build()
///     .unwrap();
/// # drop(portico);
/// ```
pub struct PorticoBuilder {
    base_url: String,
    client_id: String,
    api_key: Option<String>,
    issuer: Option<String>,
    leeway: Duration,
    refetch_interval: Duration,
    timeout: Duration,
}

impl PorticoBuilder {
    /// The API key (`sk_…`): needed for the management client, for code exchanges without PKCE
    /// and for organization-switch links. Keep it on the server.
    ///
    /// ```
    /// use portico_sdk::Portico;
    ///
    /// let portico = Portico::builder("http://localhost:8080", "client_01H…").api_key("sk_test_…").build().unwrap();
    /// assert!(portico.management().is_ok());
    /// // An empty key (say, an unset environment variable read with `unwrap_or_default`) counts as none.
    /// let without = Portico::builder("http://localhost:8080", "client_01H…").api_key("").build().unwrap();
    /// assert!(without.management().is_err());
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.api_key = (!key.is_empty()).then_some(key);
        self
    }

    /// Require the tokens' `iss` to be exactly this (Portico's public URL).
    ///
    /// ```
    /// let portico = portico_sdk::Portico::builder("http://portico.internal:8080", "client_01H…")
    ///     // Reached over the internal network, but tokens name the public URL.
    ///     .issuer("https://auth.example.com")
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(portico.base_url(), "http://portico.internal:8080");
    /// ```
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default none).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let portico = portico_sdk::Portico::builder("http://localhost:8080", "client_01H…")
    ///     .leeway(Duration::from_secs(30))
    ///     .build()
    ///     .unwrap();
    /// # drop(portico);
    /// ```
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The least time between two JWKS fetches for unknown keys (default 60 s), so a flood of
    /// tokens with made-up `kid`s cannot turn into a flood of requests to Portico.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let portico = portico_sdk::Portico::builder("http://localhost:8080", "client_01H…")
    ///     .jwks_refetch_interval(Duration::from_secs(5 * 60))
    ///     .build()
    ///     .unwrap();
    /// # drop(portico);
    /// ```
    pub fn jwks_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// Time-out for each HTTP call to Portico (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let portico = portico_sdk::Portico::builder("http://localhost:8080", "client_01H…")
    ///     .timeout(Duration::from_secs(3))
    ///     .build()
    ///     .unwrap();
    /// # drop(portico);
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings and builds the handle. No network call is made until a token needs
    /// a key.
    ///
    /// ```
    /// use portico_sdk::{Error, Portico};
    ///
    /// let portico = Portico::builder("https://auth.example.com/", "client_01H…").build().unwrap();
    /// assert_eq!(portico.base_url(), "https://auth.example.com");
    /// assert!(matches!(Portico::builder("auth.example.com", "client_01H…").build(), Err(Error::Config(_))));
    /// assert!(matches!(Portico::builder("https://auth.example.com", "sk_test_…").build(), Err(Error::Config(_))));
    /// ```
    pub fn build(self) -> Result<Portico, Error> {
        let base_url = self.base_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base_url)
            .map_err(|e| Error::Config(format!("the Portico URL '{base_url}' is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Config(format!("the Portico URL '{base_url}' must start with http:// or https://")));
        }
        if !self.client_id.starts_with("client_") {
            return Err(Error::Config(format!("'{}' is not a client id (client_…)", self.client_id)));
        }
        let http = reqwest::Client::builder()
            .timeout(self.timeout)
            .user_agent(concat!("portico-sdk-rust/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Portico {
            inner: Arc::new(Inner {
                base_url,
                client_id: self.client_id,
                api_key: self.api_key,
                http,
                rules: Rules { issuer: self.issuer, leeway: self.leeway },
                keys: RwLock::new(Arc::new(KeySet::default())),
                last_fetch: tokio::sync::Mutex::new(None),
                refetch_interval: self.refetch_interval,
            }),
        })
    }
}

/// What a sign-in, refresh or switch hands back.
///
/// ```no_run
/// # async fn demo(portico: portico_sdk::Portico, code: &str, verifier: &str) -> Result<(), portico_sdk::Error> {
/// let signed_in = portico.authenticate_with_code(code, Some(verifier)).await?;
/// println!("{} signed in ({:?})", signed_in.user.display_name(), signed_in.authentication_method);
/// assert_eq!(signed_in.session.user_id, signed_in.user.id);
/// let tokens = portico_sdk::Tokens { access_token: signed_in.access_token, refresh_token: signed_in.refresh_token };
/// # drop(tokens); Ok(()) }
/// ```
#[derive(Clone)]
pub struct Authenticated {
    pub user: User,
    pub organization_id: Option<String>,
    /// Short-lived (minutes): send it, or keep it in the sealed cookie.
    pub access_token: String,
    /// Single use: each refresh returns a new one.
    pub refresh_token: String,
    pub authentication_method: Option<String>,
    /// The access token, verified and read.
    pub session: Session,
}

/// Shows who signed in, never the tokens (credentials end up in logs through `Debug`).
impl std::fmt::Debug for Authenticated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticated")
            .field("user", &self.user.id)
            .field("organization_id", &self.organization_id)
            .field("authentication_method", &self.authentication_method)
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Portico {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Portico")
            .field("base_url", &self.inner.base_url)
            .field("client_id", &self.inner.client_id)
            .field("api_key", &self.inner.api_key.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for PorticoBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PorticoBuilder")
            .field("base_url", &self.base_url)
            .field("client_id", &self.client_id)
            .field("api_key", &self.api_key.as_ref().map(|_| "…"))
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct AuthenticateResponse {
    user: User,
    organization_id: Option<String>,
    access_token: String,
    refresh_token: String,
    authentication_method: Option<String>,
}

/// Where `/user_management/authorize` should send the browser back, and with what.
///
/// ```
/// let pkce = portico_sdk::Pkce::generate();
/// let params = portico_sdk::AuthorizationParams::new("http://localhost:3000/callback", "a-random-state")
///     .pkce(&pkce)
///     .screen_hint("sign-up");
/// # drop(params);
/// ```
#[derive(Debug, Clone, Default)]
pub struct AuthorizationParams {
    redirect_uri: String,
    state: String,
    code_challenge: Option<String>,
    organization_id: Option<String>,
    login_hint: Option<String>,
    screen_hint: Option<String>,
}

impl AuthorizationParams {
    /// `redirect_uri` must be one of the client's redirect URIs, exactly; `state` comes back
    /// verbatim and should be random per sign-in (check it in the callback).
    ///
    /// ```
    /// use portico_sdk::{AuthorizationParams, Portico, random_token};
    ///
    /// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// let state = random_token();
    /// let url = portico.authorization_url(&AuthorizationParams::new("http://localhost:3000/callback", &state));
    /// assert!(url.contains("redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback"));
    /// assert!(url.contains(&format!("state={state}")));
    /// ```
    pub fn new(redirect_uri: impl Into<String>, state: impl Into<String>) -> Self {
        AuthorizationParams { redirect_uri: redirect_uri.into(), state: state.into(), ..Default::default() }
    }

    /// Binds the code to this PKCE verifier (send the verifier to [`Portico::authenticate_with_code`]).
    ///
    /// ```
    /// use portico_sdk::{AuthorizationParams, Pkce, Portico};
    ///
    /// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// let pkce = Pkce::generate();
    /// let params = AuthorizationParams::new("http://localhost:3000/callback", "s").pkce(&pkce);
    /// let url = portico.authorization_url(&params);
    /// assert!(url.contains(&format!("code_challenge={}&code_challenge_method=S256", pkce.challenge)));
    /// // Keep `pkce.verifier` until the callback; it never goes into the URL.
    /// assert!(!url.contains(&pkce.verifier));
    /// ```
    pub fn pkce(mut self, pkce: &Pkce) -> Self {
        self.code_challenge = Some(pkce.challenge.clone());
        self
    }

    /// Sign in straight into this organization when the user is a member.
    ///
    /// ```
    /// use portico_sdk::{AuthorizationParams, Portico};
    ///
    /// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// let params = AuthorizationParams::new("http://localhost:3000/callback", "s").organization("org_01EXAMPLE");
    /// assert!(portico.authorization_url(&params).contains("organization_id=org_01EXAMPLE"));
    /// ```
    pub fn organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization_id = Some(organization_id.into());
        self
    }

    /// Pre-fills the email field.
    ///
    /// ```
    /// use portico_sdk::{AuthorizationParams, Portico};
    ///
    /// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// let params = AuthorizationParams::new("http://localhost:3000/callback", "s").login_hint("ada@example.com");
    /// assert!(portico.authorization_url(&params).contains("login_hint=ada%40example.com"));
    /// ```
    pub fn login_hint(mut self, email: impl Into<String>) -> Self {
        self.login_hint = Some(email.into());
        self
    }

    /// `sign-in` (default) or `sign-up`.
    ///
    /// ```
    /// use portico_sdk::{AuthorizationParams, Portico};
    ///
    /// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// let params = AuthorizationParams::new("http://localhost:3000/callback", "s").screen_hint("sign-up");
    /// assert!(portico.authorization_url(&params).contains("screen_hint=sign-up"));
    /// ```
    pub fn screen_hint(mut self, hint: impl Into<String>) -> Self {
        self.screen_hint = Some(hint.into());
        self
    }
}

/// A PKCE verifier and its S256 challenge (RFC 7636).
///
/// ```
/// let pkce = portico_sdk::Pkce::generate();
/// assert_eq!(pkce.challenge.len(), 43);
/// assert_eq!(portico_sdk::Pkce::challenge_for(&pkce.verifier), pkce.challenge);
/// ```
#[derive(Debug, Clone)]
pub struct Pkce {
    /// Keep it (for example in a short-lived cookie) until the callback.
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    /// A fresh 256-bit verifier.
    ///
    /// ```
    /// let pkce = portico_sdk::Pkce::generate();
    /// assert_eq!(pkce.verifier.len(), 43);
    /// assert_ne!(pkce.verifier, portico_sdk::Pkce::generate().verifier);
    /// ```
    pub fn generate() -> Pkce {
        let verifier = random_token();
        Pkce { challenge: Pkce::challenge_for(&verifier), verifier }
    }

    /// The S256 challenge of a verifier.
    ///
    /// ```
    /// // The example of RFC 7636, appendix B.
    /// assert_eq!(
    ///     portico_sdk::Pkce::challenge_for("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
    ///     "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    /// );
    /// ```
    pub fn challenge_for(verifier: &str) -> String {
        URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, verifier.as_bytes()))
    }
}

/// 32 random bytes, base64url: for `state`, PKCE verifiers and the like.
///
/// ```
/// assert_eq!(portico_sdk::random_token().len(), 43);
/// ```
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    // The system random source failing is not something an app can recover from.
    if aws_lc_rs::rand::fill(&mut bytes).is_err() {
        panic!("the system random number generator failed");
    }
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Portico {
    /// A handle with default settings; see [`Portico::builder`] for the others.
    ///
    /// ```
    /// let portico = portico_sdk::Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// assert_eq!(portico.client_id(), "client_01H…");
    /// ```
    pub fn new(base_url: impl Into<String>, client_id: impl Into<String>) -> Result<Portico, Error> {
        Portico::builder(base_url, client_id).build()
    }

    /// Starts building a handle for the Portico at `base_url` and the app's `client_id`.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let portico = portico_sdk::Portico::builder("https://auth.example.com", "client_01H…")
    ///     .api_key(std::env::var("PORTICO_API_KEY").unwrap_or_default())
    ///     .issuer("https://auth.example.com")
    ///     .timeout(Duration::from_secs(5))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(portico.base_url(), "https://auth.example.com");
    /// ```
    pub fn builder(base_url: impl Into<String>, client_id: impl Into<String>) -> PorticoBuilder {
        PorticoBuilder {
            base_url: base_url.into(),
            client_id: client_id.into(),
            api_key: None,
            issuer: None,
            leeway: Duration::ZERO,
            refetch_interval: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
        }
    }

    /// The app's client id (`client_…`), as given to [`Portico::new`] or [`Portico::builder`].
    ///
    /// ```
    /// let portico = portico_sdk::Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// assert_eq!(portico.client_id(), "client_01H…");
    /// ```
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// Portico's URL, without a trailing slash.
    ///
    /// ```
    /// let portico = portico_sdk::Portico::new("http://localhost:8080/", "client_01H…").unwrap();
    /// assert_eq!(portico.base_url(), "http://localhost:8080");
    /// let jwks = format!("{}/sso/jwks/{}", portico.base_url(), portico.client_id());
    /// assert_eq!(jwks, "http://localhost:8080/sso/jwks/client_01H…");
    /// ```
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Verifies an access token and reads its session. Makes a network call only when the
    /// token's key is not known yet (and not more often than the refetch interval).
    ///
    /// ```no_run
    /// # async fn demo(portico: portico_sdk::Portico, headers: http::HeaderMap) -> Result<(), portico_sdk::Error> {
    /// let token = headers
    ///     .get(http::header::AUTHORIZATION)
    ///     .and_then(|value| value.to_str().ok())
    ///     .and_then(|value| value.strip_prefix("Bearer "))
    ///     .unwrap_or_default();
    /// let session = portico.verify(token).await?;
    /// if session.has_permission("posts:write") {
    ///     println!("{} may write in {:?}", session.user_id, session.organization_id);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn verify(&self, token: &str) -> Result<Session, TokenError> {
        let parsed = token::parse(token)?;
        let keys = self.keys();
        if !keys.contains(&parsed.kid) {
            self.fetch_keys_for(&parsed.kid).await?;
        }
        token::verify(&parsed, &self.keys(), &self.inner.rules, wall_clock())
    }

    /// Verifies with the keys already loaded, never touching the network: `UnknownKey` when the
    /// token's key has not been fetched. For hot paths that must not wait.
    ///
    /// ```
    /// use portico_sdk::{Portico, TokenError};
    ///
    /// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// // No keys are loaded yet (see `preload_keys`), so a token's key is unknown: no network call is made.
    /// let token = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImtleV8xIn0.e30.c2ln"; // {"alg":"RS256","kid":"key_1"}
    /// assert_eq!(portico.verify_cached(token), Err(TokenError::UnknownKey("key_1".into())));
    /// ```
    pub fn verify_cached(&self, token: &str) -> Result<Session, TokenError> {
        let parsed = token::parse(token)?;
        token::verify(&parsed, &self.keys(), &self.inner.rules, wall_clock())
    }

    /// Loads the JWKS now (for example at start-up, so the first request does not wait).
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), portico_sdk::Error> {
    /// let portico = portico_sdk::Portico::new("https://auth.example.com", "client_01H…")?;
    /// portico.preload_keys().await?;
    /// // From here on `verify_cached` knows the environment's keys.
    /// # Ok(()) }
    /// ```
    pub async fn preload_keys(&self) -> Result<(), TokenError> {
        let mut last = self.inner.last_fetch.lock().await;
        self.fetch_keys(&mut last).await
    }

    fn keys(&self) -> Arc<KeySet> {
        match self.inner.keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    async fn fetch_keys_for(&self, kid: &str) -> Result<(), TokenError> {
        let mut last = self.inner.last_fetch.lock().await;
        // Another request may have fetched while this one waited for the lock.
        if self.keys().contains(kid) {
            return Ok(());
        }
        if last.is_some_and(|at| at.elapsed() < self.inner.refetch_interval) {
            return Err(TokenError::UnknownKey(kid.to_owned()));
        }
        self.fetch_keys(&mut last).await
    }

    async fn fetch_keys(&self, last: &mut Option<Instant>) -> Result<(), TokenError> {
        *last = Some(Instant::now());
        let url = format!("{}/sso/jwks/{}", self.inner.base_url, self.inner.client_id);
        let response = self.inner.http.get(&url).send().await.map_err(|e| TokenError::Keys(e.to_string()))?;
        if !response.status().is_success() {
            return Err(TokenError::Keys(format!("{url} answered {}", response.status())));
        }
        let body = response.bytes().await.map_err(|e| TokenError::Keys(e.to_string()))?;
        let keys = KeySet::from_jwks(&body)?;
        if keys.len() == 0 {
            return Err(TokenError::Keys(format!("{url} lists no RS256 signing key")));
        }
        match self.inner.keys.write() {
            Ok(mut slot) => *slot = Arc::new(keys),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(keys),
        }
        Ok(())
    }

    /// The URL of the hosted sign-in page for this app.
    ///
    /// ```
    /// let portico = portico_sdk::Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// let params = portico_sdk::AuthorizationParams::new("http://localhost:3000/callback", "s");
    /// let url = portico.authorization_url(&params);
    /// assert!(url.starts_with("http://localhost:8080/user_management/authorize?client_id=client_01H"));
    /// ```
    pub fn authorization_url(&self, params: &AuthorizationParams) -> String {
        let mut pairs = vec![
            ("client_id", self.inner.client_id.as_str()),
            ("redirect_uri", params.redirect_uri.as_str()),
            ("response_type", "code"),
            ("provider", "authkit"),
            ("state", params.state.as_str()),
        ];
        if let Some(challenge) = &params.code_challenge {
            pairs.push(("code_challenge", challenge));
            pairs.push(("code_challenge_method", "S256"));
        }
        for (key, value) in [
            ("organization_id", &params.organization_id),
            ("login_hint", &params.login_hint),
            ("screen_hint", &params.screen_hint),
        ] {
            if let Some(value) = value {
                pairs.push((key, value));
            }
        }
        with_query(&format!("{}/user_management/authorize", self.inner.base_url), &pairs)
    }

    /// Where to send the browser to sign out: Portico ends the session, then returns to
    /// `return_to` (one of the client's redirect URIs or the default).
    ///
    /// ```
    /// let portico = portico_sdk::Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// let session = portico_sdk::Session::example();
    /// let url = portico.logout_url(&session.session_id, Some("http://localhost:3000/"));
    /// assert_eq!(
    ///     url,
    ///     "http://localhost:8080/user_management/sessions/logout\
    ///      ?session_id=session_01EXAMPLE&return_to=http%3A%2F%2Flocalhost%3A3000%2F",
    /// );
    /// ```
    pub fn logout_url(&self, session_id: &str, return_to: Option<&str>) -> String {
        let mut pairs = vec![("session_id", session_id)];
        if let Some(return_to) = return_to {
            pairs.push(("return_to", return_to));
        }
        with_query(&format!("{}/user_management/sessions/logout", self.inner.base_url), &pairs)
    }

    /// Exchanges the code from the callback for tokens (`authorization_code` grant). Pass the
    /// PKCE verifier when the authorization URL carried a challenge; without one, the API key
    /// must be configured.
    ///
    /// ```no_run
    /// # async fn demo(portico: portico_sdk::Portico) -> Result<(), portico_sdk::Error> {
    /// use portico_sdk::{CookieSessions, Tokens};
    ///
    /// // In the callback: `code` from the query string (after checking `state`), and the PKCE
    /// // verifier kept since the redirect to `authorization_url`.
    /// # let (code, verifier) = ("01H…", "");
    /// let signed_in = portico.authenticate_with_code(code, Some(verifier)).await?;
    /// let cookies = CookieSessions::new(b"at least thirty-two bytes of secret!!")?;
    /// let set_cookie = cookies.set_cookie(&Tokens {
    ///     access_token: signed_in.access_token,
    ///     refresh_token: signed_in.refresh_token,
    /// });
    /// # drop(set_cookie); Ok(()) }
    /// ```
    pub async fn authenticate_with_code(
        &self,
        code: &str,
        code_verifier: Option<&str>,
    ) -> Result<Authenticated, Error> {
        let mut body = json!({"client_id": self.inner.client_id, "grant_type": "authorization_code", "code": code});
        if let Some(verifier) = code_verifier {
            body["code_verifier"] = json!(verifier);
        }
        if let Some(key) = &self.inner.api_key {
            body["client_secret"] = json!(key);
        }
        self.authenticate(body).await
    }

    /// New tokens for a refresh token (which stops working: use the returned one next).
    ///
    /// ```no_run
    /// # async fn demo(portico: portico_sdk::Portico, tokens: portico_sdk::Tokens) -> Result<(), portico_sdk::Error> {
    /// let fresh = portico.refresh(&tokens.refresh_token).await?;
    /// // The old refresh token no longer works: keep the new pair.
    /// let tokens = portico_sdk::Tokens { access_token: fresh.access_token, refresh_token: fresh.refresh_token };
    /// # drop(tokens); Ok(()) }
    /// ```
    pub async fn refresh(&self, refresh_token: &str) -> Result<Authenticated, Error> {
        self.authenticate(json!({"client_id": self.inner.client_id, "grant_type": "refresh_token",
            "refresh_token": refresh_token}))
            .await
    }

    /// Moves the session to another organization the user belongs to, through the refresh
    /// grant. Use [`Portico::organization_switch_url`] instead when the user should pick on a
    /// Portico page (and go through that organization's sign-in requirements).
    ///
    /// ```no_run
    /// # async fn demo(portico: portico_sdk::Portico, tokens: portico_sdk::Tokens) -> Result<(), portico_sdk::Error> {
    /// let switched = portico.switch_organization(&tokens.refresh_token, "org_01H…").await?;
    /// assert_eq!(switched.session.organization_id.as_deref(), Some("org_01H…"));
    /// // Store `switched.access_token` and `switched.refresh_token` in place of the old pair.
    /// # Ok(()) }
    /// ```
    pub async fn switch_organization(
        &self,
        refresh_token: &str,
        organization_id: &str,
    ) -> Result<Authenticated, Error> {
        self.authenticate(json!({"client_id": self.inner.client_id, "grant_type": "refresh_token",
            "refresh_token": refresh_token, "organization_id": organization_id}))
            .await
    }

    /// A one-time link (valid five minutes) to Portico's organization switcher for a signed-in
    /// session. The browser comes back to `redirect_uri` with `code` and `state`; exchange the
    /// code with [`Portico::authenticate_with_code`] (and the verifier, when `pkce` is given)
    /// for tokens of the same session in the chosen organization. Needs the API key.
    ///
    /// ```no_run
    /// # use portico_sdk::{Error, Portico, Session};
    /// # async fn demo(portico: Portico, session: Session) -> Result<(), Error> {
    /// use portico_sdk::{Pkce, random_token};
    ///
    /// let (pkce, state) = (Pkce::generate(), random_token());
    /// let url = portico
    ///     .organization_switch_url(&session.session_id, "http://localhost:3000/callback", &state, Some(&pkce))
    ///     .await?;
    /// // Keep `state` and `pkce.verifier` (in a short-lived cookie, say) and send the browser on.
    /// let redirect = axum::response::Redirect::to(&url);
    /// # drop(redirect); Ok(()) }
    /// ```
    pub async fn organization_switch_url(
        &self,
        session_id: &str,
        redirect_uri: &str,
        state: &str,
        pkce: Option<&Pkce>,
    ) -> Result<String, Error> {
        let key = self.api_key()?;
        let mut body = json!({"client_id": self.inner.client_id, "redirect_uri": redirect_uri, "state": state});
        if let Some(pkce) = pkce {
            body["code_challenge"] = json!(pkce.challenge);
            body["code_challenge_method"] = json!("S256");
        }
        let url = format!("{}/user_management/sessions/{}/organization_switch", self.inner.base_url, session_id);
        let response = self.inner.http.post(url).bearer_auth(key).json(&body).send().await?;
        #[derive(Deserialize)]
        struct Link {
            url: String,
        }
        Ok(read_json::<Link>(response).await?.url)
    }

    /// A one-time link (valid five minutes) to Portico's passkeys page for a signed-in session:
    /// the user sees their passkeys, adds one, removes one (changes need a sign-in within the
    /// last ten minutes, or a confirmation on the page), and "Back" returns to `return_to`, a
    /// page of the app on the origin of one of its redirect URIs. Needs the API key.
    ///
    /// ```no_run
    /// # use portico_sdk::{Error, Portico, Session};
    /// # async fn demo(portico: Portico, session: Session) -> Result<(), Error> {
    /// let url = portico.passkeys_url(&session.session_id, "http://localhost:3000/settings").await?;
    /// let redirect = axum::response::Redirect::to(&url);
    /// # drop(redirect); Ok(()) }
    /// ```
    pub async fn passkeys_url(&self, session_id: &str, return_to: &str) -> Result<String, Error> {
        let key = self.api_key()?;
        let body = json!({"client_id": self.inner.client_id, "return_to": return_to});
        let url = format!("{}/user_management/sessions/{}/passkey_settings", self.inner.base_url, session_id);
        let response = self.inner.http.post(url).bearer_auth(key).json(&body).send().await?;
        #[derive(Deserialize)]
        struct Link {
            url: String,
        }
        Ok(read_json::<Link>(response).await?.url)
    }

    /// The management API (organizations, users, memberships, roles, invitations, permission
    /// checks). Needs the API key.
    ///
    /// ```
    /// use portico_sdk::Portico;
    ///
    /// let portico = Portico::builder("http://localhost:8080", "client_01H…").api_key("sk_test_…").build().unwrap();
    /// let api = portico.management().unwrap();
    /// # drop(api);
    /// let without_key = Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// assert!(matches!(without_key.management(), Err(portico_sdk::Error::Config(_))));
    /// ```
    pub fn management(&self) -> Result<Management, Error> {
        Ok(Management::new(self.inner.http.clone(), self.inner.base_url.clone(), self.api_key()?.to_owned()))
    }

    fn api_key(&self) -> Result<&str, Error> {
        self.inner
            .api_key
            .as_deref()
            .ok_or_else(|| Error::Config("this call needs the API key: set it with PorticoBuilder::api_key".into()))
    }

    async fn authenticate(&self, body: serde_json::Value) -> Result<Authenticated, Error> {
        let url = format!("{}/user_management/authenticate", self.inner.base_url);
        let response = self.inner.http.post(url).json(&body).send().await?;
        let answer: AuthenticateResponse = read_json(response).await?;
        let session = self.verify(&answer.access_token).await?;
        Ok(Authenticated {
            user: answer.user,
            organization_id: answer.organization_id,
            access_token: answer.access_token,
            refresh_token: answer.refresh_token,
            authentication_method: answer.authentication_method,
            session,
        })
    }
}

/// The time tokens are checked against. Portico's clippy configuration bans reading the clock
/// directly so that the server's tests control time; an app's tokens are checked against real
/// time, and the SDK's tests pass explicit times to the verification function instead.
#[allow(clippy::disallowed_methods)]
pub(crate) fn wall_clock() -> SystemTime {
    SystemTime::now()
}

fn with_query(base: &str, pairs: &[(&str, &str)]) -> String {
    match reqwest::Url::parse(base) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(pairs);
            url.to_string()
        }
        Err(_) => base.to_owned(),
    }
}
