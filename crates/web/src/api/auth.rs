//! `Authorization: Bearer sk_…` on every management API call.

use super::error::ApiError;
use crate::WebState;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portico_domain::ApiKeyId;

/// The API key that authenticated the request, for handlers and later layers.
#[derive(Debug, Clone)]
pub struct Caller(pub ApiKeyId);

pub async fn require_api_key(State(state): State<WebState>, mut request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(presented) = presented else {
        return ApiError::unauthorized("Missing API key: send Authorization: Bearer sk_…").into_response();
    };
    match portico_app::api_keys::authenticate(&state.app, presented).await {
        Ok(id) => {
            request.extensions_mut().insert(Caller(id));
            next.run(request).await
        }
        Err(portico_app::Error::Unauthorized) => {
            ApiError::unauthorized("The API key is not valid or has been revoked.").into_response()
        }
        Err(other) => ApiError::from(other).into_response(),
    }
}
