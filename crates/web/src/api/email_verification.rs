//! Email verification codes: send, confirm, read.

use super::error::ApiResult;
use super::extract::ApiJson;
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use portico_domain::one_time_code::EmailVerification;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(send_verification_email))
        .routes(routes!(verify_email))
        .routes(routes!(get_email_verification))
}

/// Email the user a fresh verification code (10 minutes; only the newest code counts).
#[utoipa::path(post, path = "/user_management/users/{id}/email_verification/send", tag = "users",
    params(("id" = String, Path, description = "user_…")),
    responses((status = 200, description = "{ user }"), (status = 404, description = "No such user"),
        (status = 429, description = "Too many codes for this address")))]
async fn send_verification_email(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let user = portico_app::email_verification::send(&state.app, &id, None).await?;
    Ok(Json(json!({ "user": user })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct VerifyEmail {
    code: Option<String>,
}

/// Verify the user's email with the code they received.
#[utoipa::path(post, path = "/user_management/users/{id}/email_verification/confirm", tag = "users",
    params(("id" = String, Path, description = "user_…")), request_body = VerifyEmail,
    responses((status = 200, description = "{ user }, now with email_verified"),
        (status = 400, description = "invalid_one_time_code, one_time_code_expired, …"), (status = 404, description = "No such user"),
        (status = 422, description = "code is missing")))]
async fn verify_email(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VerifyEmail>,
) -> ApiResult<Json<Value>> {
    let Some(code) = input.code.filter(|c| !c.trim().is_empty()) else {
        let missing = portico_domain::FieldError::new("code", "code_required", "code is required");
        return Err(portico_app::Error::Invalid(missing.into()).into());
    };
    let user = portico_app::email_verification::confirm(&state.app, &id, &code, None).await?;
    Ok(Json(json!({ "user": user })))
}

/// Get an email verification.
#[utoipa::path(get, path = "/user_management/email_verification/{id}", tag = "users",
    params(("id" = String, Path, description = "email_verification_…")),
    responses((status = 200, description = "The email verification"), (status = 404, description = "No such object")))]
async fn get_email_verification(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> ApiResult<Json<EmailVerification>> {
    Ok(Json(portico_app::email_verification::get(&state.app, &id).await?))
}
