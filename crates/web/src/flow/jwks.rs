//! `GET /sso/jwks/{client_id}`

use super::error::FlowError;
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use portico_app::Error;
use serde_json::json;

/// The public keys that verify access tokens: the signing key, the next one during a rotation,
/// and retired ones until their tokens expire.
#[utoipa::path(get, path = "/sso/jwks/{client_id}", tag = "authentication", security(()),
    params(("client_id" = String, Path)),
    responses((status = 200, description = "A JWK set"), (status = 404, description = "No such client")))]
pub async fn jwks(State(state): State<WebState>, Path(client_id): Path<String>) -> Response {
    let keys = async {
        if !portico_app::clients::exists(&state.app, &client_id).await? {
            return Err(Error::not_found("Client", &client_id));
        }
        portico_app::keys::published(&state.app).await
    };
    match keys.await {
        Ok(keys) => {
            let mut response =
                Json(json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })).into_response();
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
            response
        }
        Err(error) => FlowError(error).into_response(),
    }
}
