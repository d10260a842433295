//! CORS for the auth-flow endpoints, which single-page apps call from the browser (AuthKit JS
//! exchanges codes and refreshes tokens with `fetch`). Only the exact origins configured as a
//! client's allowed origins get access; everyone else gets no CORS headers, so the browser
//! keeps the answer from them.

use crate::WebState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The paths browser code may call across origins.
fn is_cross_origin_path(path: &str) -> bool {
    path == "/user_management/authenticate" || path.starts_with("/sso/jwks/")
}

pub async fn allow_client_origins(State(state): State<WebState>, request: Request, next: Next) -> Response {
    if !is_cross_origin_path(request.uri().path()) {
        return next.run(request).await;
    }
    let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let allowed = match &origin {
        Some(origin) => portico_app::clients::is_allowed_origin(&state.app, origin).await.unwrap_or(false),
        None => false,
    };
    let preflight = request.method() == Method::OPTIONS;
    let mut response = if preflight { StatusCode::NO_CONTENT.into_response() } else { next.run(request).await };
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let (true, Some(origin)) = (allowed, origin)
        && let Ok(value) = HeaderValue::from_str(&origin)
    {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value);
        if preflight {
            headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST"));
            headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
            headers.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
        }
    }
    response
}
