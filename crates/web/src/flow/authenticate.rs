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

/// Exchange proof of identity for a session: `authorization_code` (from the hosted pages, with
/// PKCE), `password`, `refresh_token` (rotating; with `organization_id` to switch organization),
/// Magic Auth and email-verification codes, or organization selection.
#[utoipa::path(post, path = "/user_management/authenticate", tag = "authentication", security(()),
    request_body(content = AuthenticateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The user, an access token (RS256 JWT) and a refresh token"),
        (status = 400, description = "invalid_grant, invalid_credentials, invalid_request, …"),
        (status = 401, description = "invalid_client"),
        (status = 403, description = "A step is needed first: email_verification_required, organization_selection_required"),
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
    let grant = grant_label(body.grant_type.as_deref());
    let outcome = authenticate::authenticate(&state.app, body, origin).await;
    if state.metrics.is_some() {
        let result = match &outcome {
            Ok(_) => "issued",
            Err(portico_app::Error::Auth(error)) => error_label(error),
            Err(portico_app::Error::RateLimited { .. }) => "rate_limited",
            Err(_) => "error",
        };
        metrics::counter!("portico_authentications_total", "grant" => grant, "result" => result).increment(1);
    }
    match outcome {
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

/// A bounded label for the grant, whatever the client sent.
fn grant_label(grant: Option<&str>) -> &'static str {
    match grant {
        Some(authenticate::GRANT_PASSWORD) => "password",
        Some(authenticate::GRANT_REFRESH_TOKEN) => "refresh_token",
        Some(authenticate::GRANT_ORGANIZATION_SELECTION) => "organization_selection",
        Some(authenticate::GRANT_AUTHORIZATION_CODE) => "authorization_code",
        Some(authenticate::GRANT_MAGIC_AUTH) => "magic_auth",
        Some(authenticate::GRANT_EMAIL_VERIFICATION) => "email_verification",
        Some(_) => "other",
        None => "missing",
    }
}

fn error_label(error: &AuthError) -> &'static str {
    match error {
        AuthError::InvalidRequest(_) => "invalid_request",
        AuthError::InvalidClient(_) => "invalid_client",
        AuthError::InvalidGrant(_) => "invalid_grant",
        AuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
        AuthError::InvalidCredentials => "invalid_credentials",
        AuthError::InvalidPendingAuthenticationToken => "invalid_pending_authentication_token",
        AuthError::OrganizationMembershipNotFound(_) => "organization_membership_not_found",
        AuthError::OrganizationSelectionRequired { .. } => "organization_selection_required",
        AuthError::OneTimeCode(refusal) => refusal.code(),
        AuthError::EmailVerificationRequired { .. } => "email_verification_required",
        AuthError::InvitationInvalid(_) => "invitation_invalid",
        AuthError::MfaEnrollment { .. } => "mfa_enrollment",
        AuthError::MfaChallenge { .. } => "mfa_challenge",
        AuthError::PolicyRefused { code, .. } => code,
        AuthError::RefreshRefused { error, .. } => error,
        AuthError::SecondFactor { code, .. } => code,
    }
}
