//! `POST /user_management/authenticate`

use super::error::FlowError;
use crate::api::extract::parse_json;
use crate::{MAX_BODY_BYTES, WebState};
use axum::Json;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_app::AuthError;
use portico_app::authenticate::{self, AuthenticateRequest};
use portico_app::sessions::Origin;
use serde_json::{Map, Value, json};

/// Exchange proof of identity for a session: `password`, `refresh_token` (rotating; with
/// `organization_id` to switch organization) or organization selection.
#[utoipa::path(post, path = "/user_management/authenticate", tag = "authentication", security(()),
    request_body(content = AuthenticateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The user, an access token (RS256 JWT) and a refresh token"),
        (status = 400, description = "invalid_grant, invalid_credentials, invalid_request, …"),
        (status = 401, description = "invalid_client"),
        (status = 403, description = "A step is needed first: organization_selection_required"),
    ))]
pub async fn authenticate(State(state): State<WebState>, request: Request) -> Response {
    let user_agent = request.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let Ok(bytes) = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES).await else {
        return FlowError(AuthError::InvalidRequest("The request body is larger than 1 MiB.".into()).into())
            .into_response();
    };
    let body: Result<AuthenticateRequest, _> = if is_form {
        let map: Map<String, Value> =
            form_urlencoded::parse(&bytes).map(|(k, v)| (k.into_owned(), Value::String(v.into_owned()))).collect();
        serde_json::from_value(Value::Object(map)).map_err(|e| e.to_string())
    } else {
        parse_json::<AuthenticateRequest>(&bytes).map_err(|_| "The body must be a JSON object of strings.".to_owned())
    };
    let body = match body {
        Ok(body) => body,
        Err(message) => return FlowError(AuthError::InvalidRequest(message).into()).into_response(),
    };
    // The app's backend passes its user's address as `ip_address`; otherwise the caller's own.
    let origin = Origin { ip_address: peer, user_agent };
    match authenticate::authenticate(&state.app, body, origin).await {
        Ok(issued) => {
            let mut response = json!({
                "user": issued.user,
                "access_token": issued.access_token,
                "refresh_token": issued.refresh_token,
                "authentication_method": issued.authentication_method,
            });
            if let Some(org) = &issued.organization_id {
                response["organization_id"] = json!(org);
            }
            let mut response = (StatusCode::OK, Json(response)).into_response();
            // Tokens must not be cached by anything between Portico and the client.
            response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
            response
        }
        Err(error) => FlowError(error).into_response(),
    }
}
