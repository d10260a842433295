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
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.api_key = (!key.is_empty()).then_some(key);
        self
    }

    /// Require the tokens' `iss` to be exactly this (Portico's public URL).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Clock skew tolerated on `exp`, `nbf` and `iat` (default none).
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway;
        self
    }

    /// The least time between two JWKS fetches for unknown keys (default 60 s), so a flood of
    /// tokens with made-up `kid`s cannot turn into a flood of requests to Portico.
    pub fn jwks_refetch_interval(mut self, interval: Duration) -> Self {
        self.refetch_interval = interval;
        self
    }

    /// Time-out for each HTTP call to Portico (default 10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks the settings and builds the handle. No network call is made until a token needs
    /// a key.
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
#[derive(Debug, Clone)]
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
    pub fn new(redirect_uri: impl Into<String>, state: impl Into<String>) -> Self {
        AuthorizationParams { redirect_uri: redirect_uri.into(), state: state.into(), ..Default::default() }
    }

    /// Binds the code to this PKCE verifier (send the verifier to [`Portico::authenticate_with_code`]).
    pub fn pkce(mut self, pkce: &Pkce) -> Self {
        self.code_challenge = Some(pkce.challenge.clone());
        self
    }

    /// Sign in straight into this organization when the user is a member.
    pub fn organization(mut self, organization_id: impl Into<String>) -> Self {
        self.organization_id = Some(organization_id.into());
        self
    }

    /// Pre-fills the email field.
    pub fn login_hint(mut self, email: impl Into<String>) -> Self {
        self.login_hint = Some(email.into());
        self
    }

    /// `sign-in` (default) or `sign-up`.
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
    pub fn generate() -> Pkce {
        let verifier = random_token();
        Pkce { challenge: Pkce::challenge_for(&verifier), verifier }
    }

    /// The S256 challenge of a verifier.
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

    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Verifies an access token and reads its session. Makes a network call only when the
    /// token's key is not known yet (and not more often than the refetch interval).
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
    pub fn verify_cached(&self, token: &str) -> Result<Session, TokenError> {
        let parsed = token::parse(token)?;
        token::verify(&parsed, &self.keys(), &self.inner.rules, wall_clock())
    }

    /// Loads the JWKS now (for example at start-up, so the first request does not wait).
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
    /// let url = portico.authorization_url(&portico_sdk::AuthorizationParams::new("http://localhost:3000/callback", "s"));
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
    pub async fn refresh(&self, refresh_token: &str) -> Result<Authenticated, Error> {
        self.authenticate(json!({"client_id": self.inner.client_id, "grant_type": "refresh_token",
            "refresh_token": refresh_token}))
            .await
    }

    /// Moves the session to another organization the user belongs to, through the refresh
    /// grant. Use [`Portico::organization_switch_url`] instead when the user should pick on a
    /// Portico page (and go through that organization's sign-in requirements).
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

    /// The management API (organizations, users, memberships, roles, invitations, permission
    /// checks). Needs the API key.
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
