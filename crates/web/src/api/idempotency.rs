//! `Idempotency-Key` on POST: the first answer is stored with the key (for 24 hours), and a retry
//! with the same key and the same request gets that answer again instead of a second change.

use super::auth::Caller;
use super::error::ApiError;
use crate::{MAX_BODY_BYTES, WebState};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portico_app::idempotency::{self, Claim};

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

pub async fn replay_or_record(State(state): State<WebState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned) else {
        return next.run(request).await;
    };
    if key.is_empty() || key.len() > idempotency::MAX_KEY_CHARS {
        return ApiError::invalid_field(
            "Idempotency-Key",
            "idempotency_key_invalid",
            format!("Idempotency-Key must be 1 to {} characters", idempotency::MAX_KEY_CHARS),
        )
        .into_response();
    }
    let Some(caller) = request.extensions().get::<Caller>().cloned() else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            "The request body is larger than 1 MiB.",
        )
        .into_response();
    };
    let hash = idempotency::request_hash(parts.method.as_str(), parts.uri.path(), &bytes);
    let claim = match idempotency::claim(&state.app, &caller.0, &key, &hash).await {
        Ok(claim) => claim,
        Err(error) => return ApiError::from(error).into_response(),
    };
    match claim {
        Claim::Completed { request_hash, status, body } if request_hash == hash => {
            let mut response = Response::new(Body::from(body));
            *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            response.headers_mut().insert(REPLAYED, HeaderValue::from_static("true"));
            response
        }
        Claim::InProgress { request_hash } if request_hash == hash => ApiError::new(
            StatusCode::CONFLICT,
            "idempotency_key_in_progress",
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        )
        .with_retry_after(1)
        .into_response(),
        Claim::Completed { .. } | Claim::InProgress { .. } => ApiError::invalid_field(
            "Idempotency-Key",
            "idempotency_key_reused",
            "This Idempotency-Key was already used for a different request; use a new key for a new request.",
        )
        .into_response(),
        Claim::Claimed => {
            let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
            let (parts, body) = response.into_parts();
            let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
                let _ = idempotency::release(&state.app, &caller.0, &key).await;
                return ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "The response could not be read.",
                )
                .into_response();
            };
            let outcome = if parts.status.is_server_error() || parts.status == StatusCode::TOO_MANY_REQUESTS {
                // Let a retry run again: nothing was changed, or the change failed as a whole; a
                // rate-limited request must be tried afresh once its `Retry-After` has passed.
                idempotency::release(&state.app, &caller.0, &key).await
            } else {
                idempotency::complete(
                    &state.app,
                    &caller.0,
                    &key,
                    parts.status.as_u16(),
                    &String::from_utf8_lossy(&body),
                )
                .await
            };
            if let Err(error) = outcome {
                tracing::error!(%error, "could not record the idempotency key's outcome");
            }
            Response::from_parts(parts, Body::from(body))
        }
    }
}
