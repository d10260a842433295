//! axum integration: a tower layer that authenticates every request (bearer token, or a sealed
//! session cookie that it refreshes when the access token expires), a [`Session`] extractor,
//! and guards that answer 401 or 403 with a JSON reason.
//!
//! ```no_run
//! use axum::{Router, routing::{get, post}};
//! use portico_sdk::{Portico, Session, require_permission};
//!
//! async fn create_post(session: Session) -> String {
//!     format!("posted by {}", session.user_id)
//! }
//!
//! # async fn demo() -> Result<(), portico_sdk::Error> {
//! let portico = Portico::new("http://localhost:8080", "client_01H…")?;
//! let app: Router = Router::new()
//!     .route("/posts", post(create_post).route_layer(require_permission("posts:write")))
//!     .route("/me", get(|session: Session| async move { session.user_id }))
//!     .layer(portico.layer());
//! # drop(app); Ok(()) }
//! ```

use crate::client::Portico;
use crate::cookie::{CookieSessions, Tokens};
use crate::session::Session;
use crate::token::TokenError;
use axum::body::Body;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::header::{AUTHORIZATION, HeaderValue, SET_COOKIE, WWW_AUTHENTICATE};
use http::request::Parts;
use http::{HeaderMap, Request, StatusCode};
use serde_json::json;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// What the layer found out about a request, kept in its extensions for extractors and guards.
///
/// A test can stand in for the layer by putting one in the request's extensions itself:
///
/// ```
/// use axum::{Extension, Router, body::Body, routing::get};
/// use http::{Request, StatusCode};
/// use portico_sdk::{Authentication, Session, require_permission};
/// use tower::ServiceExt;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let app: Router = Router::new()
///     .route("/posts", get(|| async { "posts" }).route_layer(require_permission("posts:read")))
///     .route("/billing", get(|| async { "billing" }).route_layer(require_permission("billing:manage")))
///     .layer(Extension(Authentication(Ok(Session::example()))));
/// let request = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
/// assert_eq!(app.clone().oneshot(request("/posts")).await.unwrap().status(), StatusCode::OK);
/// assert_eq!(app.oneshot(request("/billing")).await.unwrap().status(), StatusCode::FORBIDDEN);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct Authentication(pub Result<Session, Rejection>);

/// Why a request may not go on. Its response is JSON: `{"error": "unauthenticated" |
/// "forbidden", "reason": "…"}` (plus what was required), 401 with `WWW-Authenticate` or 403.
///
/// ```
/// use axum::response::IntoResponse;
/// use portico_sdk::{Rejection, Requirement, Session};
///
/// // A handler can refuse with it too, for a rule no guard expresses.
/// async fn archive(session: Session) -> Result<&'static str, Rejection> {
///     if session.impersonator.is_some() {
///         return Err(Rejection::Forbidden {
///             reason: "projects cannot be archived while impersonating".into(),
///             requirement: Requirement::SignedIn,
///         });
///     }
///     Ok("archived")
/// }
/// # let _: axum::Router = axum::Router::new().route("/archive", axum::routing::post(archive));
///
/// let response = Rejection::Unauthenticated("not signed in".into()).into_response();
/// assert_eq!(response.status(), http::StatusCode::UNAUTHORIZED);
/// assert_eq!(response.headers()[http::header::WWW_AUTHENTICATE], "Bearer");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    /// No valid credentials: no token or cookie, or one that did not verify.
    Unauthenticated(String),
    /// Signed in, but without what the route requires.
    Forbidden { reason: String, requirement: Requirement },
    /// A Portico extractor or guard ran without [`PorticoLayer`] in front of it.
    MissingLayer,
}

impl Rejection {
    /// The HTTP status the rejection answers with: 401, 403, or 500 for a missing layer.
    ///
    /// ```
    /// use http::StatusCode;
    /// use portico_sdk::{Rejection, Requirement};
    ///
    /// assert_eq!(Rejection::Unauthenticated("no bearer token".into()).status(), StatusCode::UNAUTHORIZED);
    /// let forbidden = Rejection::Forbidden { reason: "no".into(), requirement: Requirement::Organization };
    /// assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    /// assert_eq!(Rejection::MissingLayer.status(), StatusCode::INTERNAL_SERVER_ERROR);
    /// ```
    pub fn status(&self) -> StatusCode {
        match self {
            Rejection::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Rejection::Forbidden { .. } => StatusCode::FORBIDDEN,
            Rejection::MissingLayer => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The reason in words.
    ///
    /// ```
    /// use portico_sdk::{Authentication, Requirement, Session};
    ///
    /// let member = Authentication(Ok(Session::example()));
    /// let refused = Requirement::Permission("billing:manage".into()).check(Some(&member)).unwrap_err();
    /// assert_eq!(refused.reason(), "your role in this organization does not permit billing:manage");
    /// ```
    pub fn reason(&self) -> &str {
        match self {
            Rejection::Unauthenticated(reason) | Rejection::Forbidden { reason, .. } => reason,
            Rejection::MissingLayer => "the Portico layer is not installed in front of this route",
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = match &self {
            Rejection::Unauthenticated(reason) => json!({"error": "unauthenticated", "reason": reason}),
            Rejection::Forbidden { reason, requirement } => {
                let mut body = json!({"error": "forbidden", "reason": reason});
                match requirement {
                    Requirement::Permission(p) => body["required_permission"] = json!(p),
                    Requirement::Role(r) => body["required_role"] = json!(r),
                    Requirement::Organization | Requirement::SignedIn => {}
                }
                body
            }
            Rejection::MissingLayer => json!({"error": "server_misconfigured", "reason": self.reason()}),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Authentication>() {
            Some(Authentication(outcome)) => outcome.clone(),
            None => Err(Rejection::MissingLayer),
        }
    }
}

/// `Option<Session>`: `None` for anonymous requests (or ones whose token did not verify).
impl<S: Send + Sync> OptionalFromRequestParts<S> for Session {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Option<Self>, Self::Rejection> {
        match parts.extensions.get::<Authentication>() {
            Some(Authentication(outcome)) => Ok(outcome.clone().ok()),
            None => Err(Rejection::MissingLayer),
        }
    }
}

/// Authenticates every request it wraps; see the module docs. Build it with
/// [`Portico::layer`] (bearer tokens) or [`Portico::cookie_layer`] (sealed cookie, and bearer
/// tokens too).
///
/// ```
/// use axum::{Router, body::Body, routing::get};
/// use http::{Request, StatusCode};
/// use portico_sdk::{Portico, Session};
/// use tower::ServiceExt;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
/// let app: Router = Router::new()
///     .route("/me", get(|session: Session| async move { session.user_id }))
///     .layer(portico.layer());
/// // No `Authorization` header: the extractor answers 401, and Portico is never asked.
/// let response = app.oneshot(Request::get("/me").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
/// # });
/// ```
#[derive(Clone)]
pub struct PorticoLayer {
    portico: Portico,
    cookies: Option<CookieSessions>,
}

impl Portico {
    /// A layer that reads `Authorization: Bearer <access token>`.
    ///
    /// ```
    /// use axum::{Router, routing::get};
    /// use portico_sdk::{Portico, Session};
    ///
    /// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
    /// let app: Router = Router::new()
    ///     .route("/me", get(|session: Session| async move { session.user_id }))
    ///     // `Option<Session>` lets anonymous requests through.
    ///     .route("/hello", get(|session: Option<Session>| async move {
    ///         session.map_or("hello, stranger".to_owned(), |s| format!("hello, {}", s.user_id))
    ///     }))
    ///     .layer(portico.layer());
    /// # drop(app);
    /// ```
    pub fn layer(&self) -> PorticoLayer {
        PorticoLayer { portico: self.clone(), cookies: None }
    }

    /// A layer for server-rendered apps: reads the sealed session cookie (and bearer tokens);
    /// when the access token has expired it refreshes it with the refresh token and updates the
    /// cookie on the response, or clears the cookie when Portico refuses (session ended).
    ///
    /// ```no_run
    /// # fn demo(portico: portico_sdk::Portico) -> Result<(), portico_sdk::Error> {
    /// let cookies = portico_sdk::CookieSessions::new(b"a secret of at least thirty-two bytes")?;
    /// let app: axum::Router = axum::Router::new().layer(portico.cookie_layer(cookies));
    /// # drop(app); Ok(()) }
    /// ```
    pub fn cookie_layer(&self, cookies: CookieSessions) -> PorticoLayer {
        PorticoLayer { portico: self.clone(), cookies: Some(cookies) }
    }
}

impl<S> Layer<S> for PorticoLayer {
    type Service = PorticoService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        PorticoService { inner, portico: self.portico.clone(), cookies: self.cookies.clone() }
    }
}

impl std::fmt::Debug for PorticoLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PorticoLayer").field("portico", &self.portico).field("cookies", &self.cookies).finish()
    }
}

/// The service [`PorticoLayer`] wraps around routes.
///
/// It only records the outcome in the request's extensions; the [`Session`] extractor and the
/// guards act on it.
///
/// ```
/// use axum::{body::Body, response::{IntoResponse, Response}};
/// use http::{Request, StatusCode};
/// use portico_sdk::{Portico, PorticoService};
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
/// let inner = service_fn(|_: Request<Body>| async { Ok::<Response, std::convert::Infallible>("hi".into_response()) });
/// let service: PorticoService<_> = portico.layer().layer(inner);
/// let response = service.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), StatusCode::OK);
/// # });
/// ```
#[derive(Clone)]
pub struct PorticoService<S> {
    inner: S,
    portico: Portico,
    cookies: Option<CookieSessions>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The outcome for one request, and the cookie to set on its response.
async fn authenticate(
    portico: &Portico,
    cookies: Option<&CookieSessions>,
    headers: &HeaderMap,
) -> (Result<Session, Rejection>, Option<HeaderValue>) {
    let unauthenticated = |e: TokenError| Rejection::Unauthenticated(e.to_string());
    if let Some(token) = bearer(headers) {
        return (portico.verify(token).await.map_err(unauthenticated), None);
    }
    let Some(cookies) = cookies else {
        return (Err(Rejection::Unauthenticated("no bearer token".into())), None);
    };
    let Some(tokens) = cookies.read(headers) else {
        return (Err(Rejection::Unauthenticated("not signed in".into())), None);
    };
    match portico.verify(&tokens.access_token).await {
        Err(TokenError::Expired) => match portico.refresh(&tokens.refresh_token).await {
            Ok(fresh) => {
                let cookie = cookies
                    .set_cookie(&Tokens { access_token: fresh.access_token, refresh_token: fresh.refresh_token });
                (Ok(fresh.session), Some(cookie))
            }
            Err(crate::Error::Api { status, message, .. }) if (400..500).contains(&status) => (
                Err(Rejection::Unauthenticated(format!("the session has ended: {message}"))),
                Some(cookies.clear_cookie()),
            ),
            // Portico unreachable: keep the cookie for the next try.
            Err(other) => {
                (Err(Rejection::Unauthenticated(format!("the session could not be refreshed: {other}"))), None)
            }
        },
        // The keys could not be loaded (Portico unreachable): not the cookie's fault, keep it.
        Err(error @ TokenError::Keys(_)) => (Err(unauthenticated(error)), None),
        Err(error) => (Err(unauthenticated(error)), Some(cookies.clear_cookie())),
        Ok(session) => (Ok(session), None),
    }
}

impl<S> Service<Request<Body>> for PorticoService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // The clone is the one that was polled ready (tower's usual swap).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let portico = self.portico.clone();
        let cookies = self.cookies.clone();
        Box::pin(async move {
            let (outcome, set_cookie) = authenticate(&portico, cookies.as_ref(), request.headers()).await;
            request.extensions_mut().insert(Authentication(outcome));
            let mut response = inner.call(request).await?;
            if let Some(cookie) = set_cookie {
                response.headers_mut().append(SET_COOKIE, cookie);
            }
            Ok(response)
        })
    }
}

/// What a guard requires.
///
/// ```
/// use portico_sdk::{Authentication, Requirement, Session, require_org};
///
/// assert_eq!(require_org().requirement(), &Requirement::Organization);
/// let mut personal = Session::example();
/// personal.organization_id = None;
/// let personal = Authentication(Ok(personal));
/// assert!(Requirement::SignedIn.check(Some(&personal)).is_ok());
/// assert!(Requirement::Organization.check(Some(&personal)).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Any verified session.
    SignedIn,
    /// A session in an organization.
    Organization,
    /// A session in an organization whose roles permit this.
    Permission(String),
    /// A session holding this role in its organization.
    Role(String),
}

impl Requirement {
    /// Checks a request's authentication against the requirement.
    ///
    /// ```
    /// use http::StatusCode;
    /// use portico_sdk::{Authentication, Rejection, Requirement, Session};
    ///
    /// let member = Authentication(Ok(Session::example()));
    /// assert_eq!(Requirement::Permission("posts:read".into()).check(Some(&member)), Ok(()));
    /// assert_eq!(Requirement::Role("member".into()).check(Some(&member)), Ok(()));
    /// let refused = Requirement::Role("admin".into()).check(Some(&member)).unwrap_err();
    /// assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    /// // No layer in front: nothing to check.
    /// assert_eq!(Requirement::SignedIn.check(None), Err(Rejection::MissingLayer));
    /// ```
    pub fn check(&self, authentication: Option<&Authentication>) -> Result<(), Rejection> {
        let session = match authentication {
            None => return Err(Rejection::MissingLayer),
            Some(Authentication(Err(rejection))) => return Err(rejection.clone()),
            Some(Authentication(Ok(session))) => session,
        };
        let forbidden = |reason: String| Err(Rejection::Forbidden { reason, requirement: self.clone() });
        match self {
            Requirement::SignedIn => Ok(()),
            Requirement::Organization if session.organization_id.is_none() => {
                forbidden("this needs a session in an organization".into())
            }
            Requirement::Permission(_) | Requirement::Role(_) if session.organization_id.is_none() => {
                forbidden("this needs a session in an organization".into())
            }
            Requirement::Permission(p) if !session.has_permission(p) => {
                forbidden(format!("your role in this organization does not permit {p}"))
            }
            Requirement::Role(r) if !session.has_role(r) => forbidden(format!("this needs the {r} role")),
            _ => Ok(()),
        }
    }
}

type Respond = Arc<dyn Fn(Rejection) -> Response + Send + Sync>;

/// A route layer that lets a request through only when its session meets a [`Requirement`];
/// from [`require_permission`], [`require_role`], [`require_org`] or [`require_session`].
///
/// ```
/// use axum::{Router, routing::{get, post}};
/// use portico_sdk::{Portico, require_org, require_permission};
///
/// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
/// let app: Router = Router::new()
///     // On one route...
///     .route("/projects", post(|| async { "created" }).route_layer(require_permission("projects:write")))
///     .route("/dashboard", get(|| async { "dashboard" }))
///     // ...or on every route added before it.
///     .route_layer(require_org())
///     .layer(portico.layer());
/// # drop(app);
/// ```
#[derive(Clone)]
pub struct Guard {
    requirement: Requirement,
    respond: Option<Respond>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Guard").field("requirement", &self.requirement).finish_non_exhaustive()
    }
}

impl Guard {
    /// Answers refusals with `respond` instead of the JSON body (for example an HTML page, or a
    /// redirect to sign-in for browsers).
    ///
    /// ```
    /// use axum::response::{IntoResponse, Redirect};
    /// let guard = portico_sdk::require_session().respond_with(|rejection| match rejection {
    ///     portico_sdk::Rejection::Unauthenticated(_) => Redirect::to("/sign-in").into_response(),
    ///     other => other.into_response(),
    /// });
    /// # drop(guard);
    /// ```
    pub fn respond_with(mut self, respond: impl Fn(Rejection) -> Response + Send + Sync + 'static) -> Self {
        self.respond = Some(Arc::new(respond));
        self
    }

    /// What the guard requires.
    ///
    /// ```
    /// use portico_sdk::{Requirement, require_role};
    ///
    /// assert_eq!(require_role("admin").requirement(), &Requirement::Role("admin".into()));
    /// ```
    pub fn requirement(&self) -> &Requirement {
        &self.requirement
    }
}

/// Lets through sessions whose roles permit `permission` in their organization; 403 otherwise,
/// 401 without a valid session.
///
/// ```
/// use axum::{Router, routing::{get, post}};
/// use portico_sdk::{Portico, Session, require_permission};
///
/// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
/// let app: Router = Router::new()
///     .route("/posts", get(|| async { "posts" }).route_layer(require_permission("posts:read")))
///     .route("/posts", post(|s: Session| async move { s.user_id }).route_layer(require_permission("posts:write")))
///     .layer(portico.layer());
/// # drop(app);
/// ```
pub fn require_permission(permission: impl Into<String>) -> Guard {
    Guard { requirement: Requirement::Permission(permission.into()), respond: None }
}

/// Lets through sessions that hold the role `slug` in their organization.
///
/// ```
/// use axum::{Router, routing::get};
/// use portico_sdk::{Portico, require_role};
///
/// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
/// let app: Router = Router::new()
///     .route("/settings", get(|| async { "settings" }).route_layer(require_role("admin")))
///     .layer(portico.layer());
/// # drop(app);
/// ```
pub fn require_role(slug: impl Into<String>) -> Guard {
    Guard { requirement: Requirement::Role(slug.into()), respond: None }
}

/// Lets through sessions that are in an organization.
///
/// ```
/// use axum::{Router, routing::get};
/// use portico_sdk::{Portico, Session, require_org};
///
/// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
/// let app: Router = Router::new()
///     .route("/organization", get(|s: Session| async move { s.organization_id.unwrap_or_default() }))
///     .route_layer(require_org())
///     .layer(portico.layer());
/// # drop(app);
/// ```
pub fn require_org() -> Guard {
    Guard { requirement: Requirement::Organization, respond: None }
}

/// Lets through any verified session.
///
/// ```
/// use axum::{Router, routing::get};
/// use portico_sdk::{Portico, require_session};
///
/// let portico = Portico::new("http://localhost:8080", "client_01H…").unwrap();
/// let app: Router = Router::new()
///     .route("/account", get(|| async { "account" }).route_layer(require_session()))
///     .route("/", get(|| async { "welcome" }))
///     .layer(portico.layer());
/// # drop(app);
/// ```
pub fn require_session() -> Guard {
    Guard { requirement: Requirement::SignedIn, respond: None }
}

impl<S> Layer<S> for Guard {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService { inner, guard: self.clone() }
    }
}

/// The service a [`Guard`] wraps around a route.
///
/// ```
/// use axum::{body::Body, response::{IntoResponse, Response}};
/// use http::{Request, StatusCode};
/// use portico_sdk::{GuardService, require_session};
/// use tower::{Layer, ServiceExt, service_fn};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let inner = service_fn(|_: Request<Body>| async { Ok::<Response, std::convert::Infallible>("hi".into_response()) });
/// let service: GuardService<_> = require_session().layer(inner);
/// // Without the Portico layer in front there is nothing to check: 500.
/// let response = service.oneshot(Request::get("/").body(Body::empty()).unwrap()).await.unwrap();
/// assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
/// # });
/// ```
#[derive(Clone)]
pub struct GuardService<S> {
    inner: S,
    guard: Guard,
}

impl<S> Service<Request<Body>> for GuardService<S>
where
    S: Service<Request<Body>, Response = Response> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        match self.guard.requirement.check(request.extensions().get::<Authentication>()) {
            Ok(()) => {
                let clone = self.inner.clone();
                let mut inner = std::mem::replace(&mut self.inner, clone);
                Box::pin(async move { inner.call(request).await })
            }
            Err(rejection) => {
                let response = match &self.guard.respond {
                    Some(respond) => respond(rejection),
                    None => rejection.into_response(),
                };
                Box::pin(async move { Ok(response) })
            }
        }
    }
}
