//! Auth-flow errors. Refused grants answer OAuth-style (`{error, error_description}`), wrong
//! credentials `{code, message}`, and steps the user must take HTTP 403 with the
//! `pending_authentication_token` the next call needs: the WorkOS SDKs raise their own
//! exception class for each.

use crate::api::error::ApiError;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_app::{AuthError, Error};
use serde_json::json;

pub struct FlowError(pub Error);

impl From<Error> for FlowError {
    fn from(error: Error) -> Self {
        FlowError(error)
    }
}

fn oauth(status: StatusCode, error: &str, description: String) -> Response {
    (status, Json(json!({ "error": error, "error_description": description }))).into_response()
}

fn coded(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({ "code": code, "message": message }))).into_response()
}

impl IntoResponse for FlowError {
    fn into_response(self) -> Response {
        let Error::Auth(auth) = self.0 else {
            return ApiError::from(self.0).into_response();
        };
        let message = auth.to_string();
        match auth {
            AuthError::InvalidRequest(_) => oauth(StatusCode::BAD_REQUEST, "invalid_request", message),
            AuthError::InvalidClient(_) => oauth(StatusCode::UNAUTHORIZED, "invalid_client", message),
            AuthError::InvalidGrant(_) => oauth(StatusCode::BAD_REQUEST, "invalid_grant", message),
            AuthError::UnsupportedGrantType(_) => oauth(StatusCode::BAD_REQUEST, "unsupported_grant_type", message),
            AuthError::OrganizationMembershipNotFound(_) => {
                oauth(StatusCode::BAD_REQUEST, "organization_membership_not_found", message)
            }
            AuthError::InvalidCredentials => coded(StatusCode::BAD_REQUEST, "invalid_credentials", message),
            AuthError::OneTimeCode(refusal) => coded(StatusCode::BAD_REQUEST, refusal.code(), message),
            AuthError::InvitationInvalid(_) => oauth(StatusCode::BAD_REQUEST, "invitation_invalid", message),
            AuthError::EmailVerificationRequired { pending_authentication_token, email, email_verification_id, user } => (
                StatusCode::FORBIDDEN,
                Json(json!({
                    "code": "email_verification_required",
                    "message": message,
                    "pending_authentication_token": pending_authentication_token,
                    "email": email,
                    "email_verification_id": email_verification_id,
                    "user": user,
                })),
            )
                .into_response(),
            AuthError::InvalidPendingAuthenticationToken => {
                coded(StatusCode::BAD_REQUEST, "invalid_pending_authentication_token", message)
            }
            AuthError::MfaEnrollment { pending_authentication_token, user } => (
                StatusCode::FORBIDDEN,
                Json(json!({
                    "code": "mfa_enrollment",
                    "message": message,
                    "pending_authentication_token": pending_authentication_token,
                    "user": user,
                })),
            )
                .into_response(),
            AuthError::MfaChallenge { pending_authentication_token, user, factors } => (
                StatusCode::FORBIDDEN,
                Json(json!({
                    "code": "mfa_challenge",
                    "message": message,
                    "pending_authentication_token": pending_authentication_token,
                    "user": user,
                    "authentication_factors": factors.iter().map(|(id, kind)| json!({"id": id, "type": kind})).collect::<Vec<_>>(),
                })),
            )
                .into_response(),
            AuthError::PolicyRefused { code, email, allowed_methods, .. } => {
                let mut body = json!({ "code": code, "message": message, "email": email });
                if let Some(methods) = allowed_methods {
                    // The shape the Python SDK reads for this code: which methods would work.
                    let flags: serde_json::Map<String, serde_json::Value> = portico_domain::policy::Method::ALL
                        .iter()
                        .map(|m| (m.as_str().to_owned(), json!(methods.contains(&m.as_str()))))
                        .collect();
                    body["auth_methods"] = serde_json::Value::Object(flags);
                    body["sso_connection_ids"] = json!([]);
                }
                (StatusCode::FORBIDDEN, Json(body)).into_response()
            }
            AuthError::RefreshRefused { error, .. } => oauth(StatusCode::BAD_REQUEST, error, message),
            AuthError::SecondFactor { code, .. } => coded(StatusCode::BAD_REQUEST, code, message),
            AuthError::OrganizationSelectionRequired { pending_authentication_token, user, organizations } => (
                StatusCode::FORBIDDEN,
                Json(json!({
                    "code": "organization_selection_required",
                    "message": message,
                    "pending_authentication_token": pending_authentication_token,
                    "user": user,
                    "organizations": organizations.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
                })),
            )
                .into_response(),
        }
    }
}
