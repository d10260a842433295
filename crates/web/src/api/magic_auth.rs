//! `/user_management/magic_auth`: sign-in codes sent by email.

use super::created;
use super::error::ApiResult;
use super::extract::ApiJson;
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_app::sessions::Origin;
use portico_domain::one_time_code::MagicAuth;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(create_magic_auth)).routes(routes!(get_magic_auth))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateMagicAuth {
    email: Option<String>,
    /// Accepted for compatibility; the invitation is redeemed when the code is used.
    invitation_token: Option<String>,
    /// The user's address as the app saw it, for rate limits and the session record.
    ip_address: Option<String>,
    user_agent: Option<String>,
    /// The language of the email.
    locale: Option<String>,
}

/// Email a six-digit sign-in code (10 minutes). An address without an account gets one, with
/// an unverified email until the code is used.
#[utoipa::path(post, path = "/user_management/magic_auth", tag = "users", request_body = CreateMagicAuth,
    responses((status = 201, description = "The Magic Auth object, with its code"), (status = 422, description = "email is invalid"),
        (status = 429, description = "Too many codes for this address")))]
async fn create_magic_auth(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<CreateMagicAuth>,
) -> ApiResult<(StatusCode, Json<MagicAuth>)> {
    let _ = &input.invitation_token;
    let email = input.email.unwrap_or_default();
    let origin = Origin { ip_address: input.ip_address, user_agent: input.user_agent };
    Ok(created(portico_app::magic_auth::create(&state.app, &email, input.locale.as_deref(), &origin).await?))
}

/// Get a Magic Auth object.
#[utoipa::path(get, path = "/user_management/magic_auth/{id}", tag = "users",
    params(("id" = String, Path, description = "magic_auth_…")),
    responses((status = 200, description = "The Magic Auth object"), (status = 404, description = "No such object")))]
async fn get_magic_auth(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<MagicAuth>> {
    Ok(Json(portico_app::magic_auth::get(&state.app, &id).await?))
}
