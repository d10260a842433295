//! `/user_management/password_reset`: reset links by email, and setting the new password.

use super::created;
use super::error::{ApiError, ApiResult};
use super::extract::ApiJson;
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_domain::one_time_code::PasswordReset;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(create_password_reset))
        .routes(routes!(reset_password))
        .routes(routes!(get_password_reset))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreatePasswordReset {
    email: Option<String>,
    /// The language of the email.
    locale: Option<String>,
}

/// Email a password-reset link (30 minutes, single use) to the user with this address.
#[utoipa::path(post, path = "/user_management/password_reset", tag = "users", request_body = CreatePasswordReset,
    responses((status = 201, description = "The password reset, with its token and URL"),
        (status = 404, description = "No user has this email"), (status = 429, description = "Too many emails for this address")))]
async fn create_password_reset(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<CreatePasswordReset>,
) -> ApiResult<(StatusCode, Json<PasswordReset>)> {
    let email = input.email.unwrap_or_default();
    match portico_app::password_resets::create(&state.app, &email, input.locale.as_deref(), None).await? {
        Some(reset) => Ok(created(reset)),
        None => {
            Err(ApiError::new(StatusCode::NOT_FOUND, "entity_not_found", format!("No user has the email {email}.")))
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ConfirmPasswordReset {
    token: Option<String>,
    new_password: Option<String>,
}

/// Set a new password with a reset token. Verifies the email and ends the user's sessions.
#[utoipa::path(post, path = "/user_management/password_reset/confirm", tag = "users", request_body = ConfirmPasswordReset,
    responses((status = 200, description = "{ user }"), (status = 400, description = "The token is invalid, used or expired"),
        (status = 422, description = "The new password breaks a password rule")))]
async fn reset_password(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<ConfirmPasswordReset>,
) -> ApiResult<Json<Value>> {
    let mut missing = Vec::new();
    if input.token.as_deref().is_none_or(str::is_empty) {
        missing.push(("token", "token_required", "token is required"));
    }
    if input.new_password.is_none() {
        missing.push(("new_password", "new_password_required", "new_password is required"));
    }
    if !missing.is_empty() {
        let errors =
            missing.into_iter().map(|(field, code, message)| portico_domain::FieldError::new(field, code, message));
        return Err(portico_app::Error::Invalid(portico_domain::Invalid(errors.collect())).into());
    }
    let token = input.token.unwrap_or_default();
    let password = input.new_password.unwrap_or_default();
    let user = portico_app::password_resets::confirm(&state.app, &token, &password).await?;
    Ok(Json(json!({ "user": user })))
}

/// Get a password reset.
#[utoipa::path(get, path = "/user_management/password_reset/{id}", tag = "users",
    params(("id" = String, Path, description = "password_reset_…")),
    responses((status = 200, description = "The password reset"), (status = 404, description = "No such object")))]
async fn get_password_reset(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<PasswordReset>> {
    Ok(Json(portico_app::password_resets::get(&state.app, &id).await?))
}
