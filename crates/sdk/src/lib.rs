//! # portico-sdk
//!
//! Portico for Rust apps. Portico signs users in (hosted pages) and hands the app RS256 access
//! tokens that say who the user is, which organization they are in, and what their roles there
//! permit. This crate:
//!
//! - verifies those tokens against the environment's JWKS, cached (fetched again only for an
//!   unknown key, at most once a minute), so a request costs one RSA verification and no
//!   network call ([`Portico::verify`]);
//! - reads them into a typed [`Session`];
//! - plugs into axum: a layer ([`Portico::layer`] for bearer tokens, [`Portico::cookie_layer`]
//!   for a sealed session cookie with automatic refresh), the [`Session`] extractor, and guards
//!   ([`require_permission`], [`require_role`], [`require_org`]) answering 401/403 JSON with a
//!   reason;
//! - signs users in and out, refreshes, and switches organization ([`Portico::authorization_url`],
//!   [`Portico::authenticate_with_code`], [`Portico::refresh`], [`Portico::switch_organization`],
//!   [`Portico::organization_switch_url`], [`Portico::logout_url`]), and sends users to their
//!   passkeys page ([`Portico::passkeys_url`]);
//! - calls the management API with typed requests and answers ([`Management`]).
//!
//! It depends on no other Portico crate.
//!
//! ## Gate a route by permission
//!
//! ```no_run
//! use axum::{Router, routing::post};
//! use portico_sdk::{Portico, Session, require_permission};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let portico = Portico::new("http://localhost:8080", "client_01H…")?;
//! let app = Router::new()
//!     .route("/posts", post(|s: Session| async move { format!("saved for {}", s.user_id) })
//!         .route_layer(require_permission("posts:write")))
//!     .layer(portico.layer());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(()) }
//! ```
//!
//! A request without a valid token gets `401 {"error": "unauthenticated", "reason": …}`; one
//! whose roles do not permit `posts:write` gets `403 {"error": "forbidden", "reason": …,
//! "required_permission": "posts:write"}`.
//!
//! Tokens carry the permissions of the moment they were issued (five minutes by default). When
//! an answer must reflect a role change made a second ago, ask Portico:
//! [`Management::session_has_permission`] (or [`Management::check_permission`] with a membership
//! id).

mod axum;
mod client;
mod cookie;
mod error;
mod management;
mod policy;
mod session;
mod token;

pub use crate::axum::{
    Authentication, Guard, GuardService, PorticoLayer, PorticoService, Rejection, Requirement, require_org,
    require_permission, require_role, require_session,
};
pub use client::{Authenticated, AuthorizationParams, Pkce, Portico, PorticoBuilder, random_token};
pub use cookie::{CookieSessions, Tokens};
pub use error::Error;
pub use management::{
    Invitation, List, ListMemberships, ListMetadata, Management, Membership, Organization, Passkey, PermissionCheck,
    Role, RoleSlug, SendInvitation, User,
};
pub use policy::{
    AffectedMember, AutoJoin, Finding, MfaRule, OrganizationPolicy, PolicyChange, PolicyReport, SessionRules,
};
pub use session::Session;
pub use token::TokenError;
