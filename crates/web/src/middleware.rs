//! Middleware every surface shares: request ids, JSON content type, metrics, and the JSON answers
//! for unknown routes.

use crate::WebState;
use crate::api::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

pub const REQUEST_ID: &str = "x-request-id";

/// Gives every request an id (kept from the caller when it sent a sane one), answers with it in
/// `X-Request-ID`, makes sure every answer says what it is, and counts it.
pub async fn observe(State(state): State<WebState>, mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let request_id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.chars().all(|c| c.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| state.app.new_request_id());
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        request.headers_mut().insert(REQUEST_ID, value);
    }
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    if !headers.contains_key(header::CONTENT_TYPE) {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    let status = response.status().as_u16();
    let route = route.unwrap_or_else(|| "unmatched".to_owned());
    let elapsed = started.elapsed().as_secs_f64();
    if status >= 500 {
        tracing::error!(%request_id, %method, %route, status, elapsed, "request failed");
    } else {
        tracing::debug!(%request_id, %method, %route, status, elapsed, "request");
    }
    if state.metrics.is_some() {
        let labels = [("method", method.to_string()), ("route", route), ("status", status.to_string())];
        metrics::counter!("portico_http_requests_total", &labels).increment(1);
        metrics::histogram!("portico_http_request_duration_seconds", &labels[..2]).record(elapsed);
    }
    response
}

/// Request durations go into fixed buckets (a Prometheus histogram), which costs one atomic add
/// per request, unlike a quantile summary.
pub fn install_metrics_recorder() -> Result<metrics_exporter_prometheus::PrometheusHandle, String> {
    const BUCKETS: [f64; 12] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(&BUCKETS)
        .map_err(|e| e.to_string())?
        .install_recorder()
        .map_err(|e| e.to_string())
}

pub async fn unknown_route(request: Request) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_found",
        format!("There is no {} {} in Portico's API.", request.method(), request.uri().path()),
    )
}

pub async fn method_not_allowed(request: Request) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} is not allowed on {}.", request.method(), request.uri().path()),
    )
}
