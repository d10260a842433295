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

/// Where an API request came from: the peer address and user agent, recorded with what it does.
pub fn origin_of(
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> portico_app::sessions::Origin {
    portico_app::sessions::Origin {
        ip_address: extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0.ip().to_string()),
        user_agent: headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
    }
}
