//! The API's error answers, in the two WorkOS families (`{code, message, errors?}` here; the
//! OAuth `{error, error_description}` family belongs to the auth-flow surface).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_app::Error;
use serde_json::{Value, json};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: Value,
    retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        ApiError { status, body: json!({ "code": code, "message": message.into() }), retry_after: None }
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// 422 for one bad field.
    pub fn invalid_field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Error::invalid(field, code, message).into()
    }

    pub fn unauthorized(message: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }
}

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        match error {
            Error::Invalid(invalid) => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                body: json!({
                    "code": "invalid_request_parameters",
                    "message": "Validation failed.",
                    "errors": invalid.0.iter().map(|e| json!({
                        "field": e.field, "code": e.code, "message": e.message,
                    })).collect::<Vec<_>>(),
                }),
                retry_after: None,
            },
            Error::BadRequest { code, message, errors } => ApiError {
                status: StatusCode::BAD_REQUEST,
                body: json!({
                    "code": code,
                    "message": message,
                    "errors": errors.iter().map(|e| json!({
                        "field": e.field, "code": e.code, "message": e.message,
                    })).collect::<Vec<_>>(),
                }),
                retry_after: None,
            },
            Error::NotFound { entity, id } => ApiError {
                status: StatusCode::NOT_FOUND,
                body: json!({
                    "code": "entity_not_found",
                    "message": format!("{entity} not found: '{id}'."),
                    "entity_id": id,
                }),
                retry_after: None,
            },
            Error::Conflict { code, message } => ApiError::new(StatusCode::CONFLICT, code, message),
            Error::Unauthorized => ApiError::unauthorized("A valid API key is required: Authorization: Bearer sk_…"),
            // Auth-flow answers belong to `/user_management/authenticate` (see `flow::error`);
            // anywhere else they are a plain bad request.
            Error::Auth(portico_app::AuthError::OneTimeCode(refusal)) => {
                ApiError::new(StatusCode::BAD_REQUEST, refusal.code(), refusal.message())
            }
            Error::Auth(portico_app::AuthError::InvitationInvalid(message)) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invitation_invalid", message)
            }
            Error::Auth(portico_app::AuthError::SecondFactor { code, message }) => {
                ApiError::new(StatusCode::BAD_REQUEST, code, message)
            }
            Error::Auth(portico_app::AuthError::InvalidGrant(message)) => {
                ApiError::new(StatusCode::BAD_REQUEST, "invalid_grant", message)
            }
            Error::Auth(auth) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", auth.to_string()),
            Error::RateLimited { retry_after_seconds, message } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limit_exceeded", message)
                    .with_retry_after(retry_after_seconds)
            }
            Error::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "server_error",
                    "Portico hit an internal error; it has been logged.",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body)).into_response();
        if let Some(seconds) = self.retry_after
            && let Ok(value) = HeaderValue::from_str(&seconds.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
