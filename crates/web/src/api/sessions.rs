//! `/user_management/users/{id}/sessions` and `/user_management/sessions/revoke`

use super::error::ApiResult;
use super::extract::{ApiJson, Query};
use super::list;
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use portico_app::sessions;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(organization_switch))
        .routes(routes!(passkey_settings))
}

/// A one-time link (valid 5 minutes) to the hosted passkeys page of a signed-in session's user:
/// their passkeys, adding one and removing one (each change needs a sign-in within the last 10
/// minutes or a confirmation on the page). "Back" returns to `return_to`, which must be on the
/// origin of one of the client's redirect URIs.
#[utoipa::path(post, path = "/user_management/sessions/{id}/passkey_settings", tag = "sessions",
    request_body = portico_app::passkey_page::PasskeySettingsRequest, params(("id" = String, Path, description = "session_…")),
    responses((status = 201, description = "`{object: \"passkey_settings\", url, session_id, expires_at}`"),
        (status = 404, description = "No such session"),
        (status = 422, description = "The session has ended, client_id or return_to is wrong, or passkeys are off")))]
async fn passkey_settings(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<portico_app::passkey_page::PasskeySettingsRequest>,
) -> ApiResult<impl IntoResponse> {
    Ok(super::created(portico_app::passkey_page::begin_passkey_settings(&state.app, &id, input).await?))
}

/// A one-time link (valid 5 minutes) to the hosted organization switcher for a signed-in
/// session. The browser sent there picks one of the user's organizations and comes back to
/// `redirect_uri` with `code` (and `state`); the `authorization_code` grant then answers with
/// tokens for the same session in the chosen organization. Its refresh token supersedes the
/// app's earlier one, which keeps only the usual one-retry grace.
#[utoipa::path(post, path = "/user_management/sessions/{id}/organization_switch", tag = "sessions",
    request_body = portico_app::authorize::SwitchRequest, params(("id" = String, Path, description = "session_…")),
    responses((status = 201, description = "`{object: \"organization_switch\", url, session_id, expires_at}`"),
        (status = 404, description = "No such session"),
        (status = 422, description = "The session has ended, or client_id, redirect_uri or the PKCE challenge is wrong")))]
async fn organization_switch(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<portico_app::authorize::SwitchRequest>,
) -> ApiResult<impl IntoResponse> {
    Ok(super::created(portico_app::authorize::begin_switch(&state.app, &id, input).await?))
}

/// A user's sessions, newest first.
#[utoipa::path(get, path = "/user_management/users/{id}/sessions", tag = "sessions",
    params(("id" = String, Path, description = "user_…"), ("limit" = Option<u32>, Query),
        ("before" = Option<String>, Query), ("after" = Option<String>, Query), ("order" = Option<String>, Query)),
    responses((status = 200, description = "A list of sessions"), (status = 404, description = "No such user")))]
async fn list_sessions(
    State(state): State<WebState>,
    Path(id): Path<String>,
    query: Query,
) -> ApiResult<impl IntoResponse> {
    let page = query.page()?;
    Ok(list(sessions::list_for_user(&state.app, &id, &page).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct RevokeSession {
    pub session_id: Option<String>,
}

/// End a session: its refresh tokens stop working at once; its access tokens expire on their own.
#[utoipa::path(post, path = "/user_management/sessions/revoke", tag = "sessions", request_body = RevokeSession,
    responses((status = 200, description = "Revoked"), (status = 404, description = "No such session")))]
async fn revoke_session(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<RevokeSession>,
) -> ApiResult<Json<Value>> {
    let Some(id) = input.session_id else {
        return Err(super::error::ApiError::invalid_field(
            "session_id",
            "session_id_required",
            "session_id is required",
        ));
    };
    sessions::revoke(&state.app, &id).await?;
    Ok(Json(json!({})))
}
