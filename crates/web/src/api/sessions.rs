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
    OpenApiRouter::new().routes(routes!(list_sessions)).routes(routes!(revoke_session))
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
