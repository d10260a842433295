//! Operations: liveness, readiness, metrics, the OpenAPI document, and the dev landing page.

mod landing;

use crate::WebState;
use crate::api::error::ApiError;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use std::sync::Arc;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(metrics))
        .route("/", get(landing))
}

pub fn openapi_route(openapi: Arc<utoipa::openapi::OpenApi>) -> Router<WebState> {
    Router::new().route("/openapi.json", get(move || async move { Json(openapi.as_ref().clone()) }))
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "operations", security(()), responses((status = 200, description = "Alive")))]
async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/ready", tag = "operations", security(()),
    responses((status = 200, description = "Ready"), (status = 503, description = "The database does not answer")))]
async fn ready(State(state): State<WebState>) -> Response {
    match state.app.db.ping().await {
        Ok(()) => Json(json!({ "status": "ready", "database": state.app.db.engine().name() })).into_response(),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", "The database does not answer.").into_response()
        }
    }
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "operations", security(()), responses((status = 200, description = "Prometheus text")))]
async fn metrics(State(state): State<WebState>) -> Response {
    let body = state.metrics.as_ref().map(|handle| handle.render()).unwrap_or_default();
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"));
    response
}

/// In dev mode, a page that tells a newcomer what this is and what to try.
async fn landing(State(state): State<WebState>) -> Response {
    if !state.dev_mode {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "There is no page here; Portico serves its API at this address.",
        )
        .into_response();
    }
    Html(landing::render(&state.public_url, state.app.db.engine().name())).into_response()
}
