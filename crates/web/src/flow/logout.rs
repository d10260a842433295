//! `GET /user_management/sessions/logout`

use crate::WebState;
use crate::api::error::ApiError;
use crate::api::extract::Query;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Ends the session and sends the browser to `return_to`, which must share its origin with a
/// client's redirect URI or allowed origin.
#[utoipa::path(get, path = "/user_management/sessions/logout", tag = "authentication", security(()),
    params(("session_id" = String, Query, description = "The `sid` claim of the access token"),
        ("return_to" = Option<String>, Query, description = "Where to go after sign-out")),
    responses((status = 302, description = "Signed out"), (status = 422, description = "session_id missing or return_to not allowed")))]
pub async fn logout(State(state): State<WebState>, query: Query) -> Response {
    let Some(session_id) = query.one("session_id") else {
        return ApiError::invalid_field("session_id", "session_id_required", "session_id is required").into_response();
    };
    let destination = match query.one("return_to") {
        Some(url) => match portico_app::clients::is_allowed_return_to(&state.app, &url).await {
            Ok(true) => url,
            Ok(false) => {
                return ApiError::invalid_field(
                    "return_to",
                    "return_to_not_allowed",
                    "return_to must share its origin with a redirect URI or allowed origin of a client",
                )
                .into_response();
            }
            Err(error) => return ApiError::from(error).into_response(),
        },
        None => "/signed-out".to_owned(),
    };
    match portico_app::sessions::revoke(&state.app, &session_id).await {
        // An unknown or already ended session still signs the browser out.
        Ok(_) | Err(portico_app::Error::NotFound { .. }) => {}
        Err(error) => return ApiError::from(error).into_response(),
    }
    let mut response = StatusCode::FOUND.into_response();
    if let Ok(location) = HeaderValue::from_str(&destination) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}
