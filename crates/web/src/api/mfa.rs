//! Second factors in the WorkOS shapes: `/user_management/users/{id}/auth_factors`,
//! `/auth/factors/{id}`, `/auth/factors/{id}/challenge` and `/auth/challenges/{id}/verify`; and
//! a user's passkeys (`/user_management/users/{id}/passkeys`, `/user_management/passkeys/{id}`).

use super::error::ApiResult;
use super::extract::ApiJson;
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use portico_app::mfa;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(enroll, list_factors))
        .routes(routes!(get_factor, delete_factor))
        .routes(routes!(challenge_factor))
        .routes(routes!(verify_challenge))
        .routes(routes!(list_passkeys))
        .routes(routes!(delete_passkey))
}

/// A user's passkeys (registered on the hosted pages), oldest first.
#[utoipa::path(get, path = "/user_management/users/{id}/passkeys", tag = "mfa",
    params(("id" = String, Path, description = "user_…")),
    responses((status = 200, description = "A list of passkeys"), (status = 404, description = "No such user")))]
async fn list_passkeys(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let passkeys = portico_app::passkeys::list_for_user(&state.app, &id).await?;
    Ok(Json(json!({ "object": "list", "data": passkeys, "list_metadata": { "before": null, "after": null } })))
}

/// Remove a passkey (a user who lost the device, say); it stops working at once.
#[utoipa::path(delete, path = "/user_management/passkeys/{id}", tag = "mfa",
    params(("id" = String, Path, description = "passkey_…")),
    responses((status = 202, description = "Removed"), (status = 404, description = "No such passkey")))]
async fn delete_passkey(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    portico_app::passkeys::delete(&state.app, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Enroll a TOTP factor for a user. The answer carries the secret, its `otpauth://` URI and a
/// QR code (PNG data URL) this once, with a first challenge to verify it (the `mfa-totp` grant
/// or `/auth/challenges/{id}/verify`). The factor counts for sign-in once a code was accepted.
#[utoipa::path(post, path = "/user_management/users/{id}/auth_factors", tag = "mfa",
    request_body = portico_app::mfa::EnrollRequest, params(("id" = String, Path, description = "user_…")),
    responses((status = 201, description = "`{authentication_factor, authentication_challenge}`"),
        (status = 404, description = "No such user"), (status = 422, description = "type is not totp, or a bad totp_secret")))]
async fn enroll(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<mfa::EnrollRequest>,
) -> ApiResult<impl IntoResponse> {
    let (factor, challenge) = mfa::enroll(&state.app, &id, input).await?;
    Ok((StatusCode::CREATED, Json(json!({ "authentication_factor": factor, "authentication_challenge": challenge }))))
}

/// A user's factors (without their secrets).
#[utoipa::path(get, path = "/user_management/users/{id}/auth_factors", tag = "mfa",
    params(("id" = String, Path, description = "user_…")),
    responses((status = 200, description = "A list of authentication factors"), (status = 404, description = "No such user")))]
async fn list_factors(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let factors = mfa::list(&state.app, &id).await?;
    Ok(Json(json!({ "object": "list", "data": factors, "list_metadata": { "before": null, "after": null } })))
}

#[utoipa::path(get, path = "/auth/factors/{id}", tag = "mfa", params(("id" = String, Path, description = "auth_factor_…")),
    responses((status = 200, description = "The factor"), (status = 404, description = "No such factor")))]
async fn get_factor(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(Json(mfa::get(&state.app, &id).await?))
}

/// Remove a factor; with the user's last one go their recovery codes.
#[utoipa::path(delete, path = "/auth/factors/{id}", tag = "mfa", params(("id" = String, Path, description = "auth_factor_…")),
    responses((status = 202, description = "Removed"), (status = 404, description = "No such factor")))]
async fn delete_factor(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    mfa::delete(&state.app, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ChallengeRequest {
    /// Accepted for SMS factors; TOTP codes come from the user's app.
    pub sms_template: Option<String>,
}

/// Start a challenge for a factor (valid 10 minutes, 5 wrong codes).
#[utoipa::path(post, path = "/auth/factors/{id}/challenge", tag = "mfa", request_body = ChallengeRequest,
    params(("id" = String, Path, description = "auth_factor_…")),
    responses((status = 201, description = "The challenge"), (status = 404, description = "No such factor")))]
async fn challenge_factor(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(_input): ApiJson<ChallengeRequest>,
) -> ApiResult<impl IntoResponse> {
    Ok((StatusCode::CREATED, Json(mfa::challenge(&state.app, &id).await?)))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct VerifyRequest {
    pub code: Option<String>,
}

/// Check a code against a challenge: `{challenge, valid}`. A challenge passes once; each
/// 30-second code is accepted once per factor.
#[utoipa::path(post, path = "/auth/challenges/{id}/verify", tag = "mfa", request_body = VerifyRequest,
    params(("id" = String, Path, description = "auth_challenge_…")),
    responses((status = 200, description = "`{challenge, valid}`"), (status = 404, description = "No such challenge"),
        (status = 400, description = "Expired, already verified, or too many wrong codes"),
        (status = 422, description = "code is missing"), (status = 429, description = "Too many code checks")))]
async fn verify_challenge(
    State(state): State<WebState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    extensions: axum::http::Extensions,
    ApiJson(input): ApiJson<VerifyRequest>,
) -> ApiResult<Json<Value>> {
    let Some(code) = input.code.filter(|c| !c.trim().is_empty()) else {
        return Err(super::error::ApiError::invalid_field("code", "code_required", "code is required."));
    };
    let origin = crate::flow::origin_of(&headers, &extensions);
    let (challenge, valid) = mfa::verify_challenge(&state.app, &id, &code, &origin).await?;
    Ok(Json(json!({ "challenge": challenge, "valid": valid })))
}
