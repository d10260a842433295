//! The auth-flow surface: `POST /user_management/authenticate`, the JWKS, and sign-out. Called by
//! SDKs and browsers, authenticated by the grant itself (client id, API key as client secret,
//! refresh token), answering in the WorkOS auth-flow error families.

pub mod authenticate;
pub mod cors;
pub mod error;
pub mod jwks;
pub mod logout;

use crate::WebState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(authenticate::authenticate))
        .routes(routes!(jwks::jwks))
        .routes(routes!(logout::logout))
}
