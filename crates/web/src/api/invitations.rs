//! `/user_management/invitations`

use super::error::ApiResult;
use super::extract::{ApiJson, Query};
use super::{created, list};
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use portico_app::invitations::{self, SendInvitation};
use portico_domain::invitation::Invitation;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_invitations, send_invitation))
        .routes(routes!(get_invitation))
        .routes(routes!(find_invitation_by_token))
        .routes(routes!(accept_invitation))
        .routes(routes!(revoke_invitation))
        .routes(routes!(resend_invitation))
}

/// List invitations, newest first, optionally by organization or email.
#[utoipa::path(get, path = "/user_management/invitations", tag = "users",
    params(("organization_id" = Option<String>, Query), ("email" = Option<String>, Query),
        ("limit" = Option<u32>, Query), ("before" = Option<String>, Query), ("after" = Option<String>, Query),
        ("order" = Option<String>, Query)),
    responses((status = 200, description = "A list of invitations")))]
async fn list_invitations(State(state): State<WebState>, query: Query) -> ApiResult<impl IntoResponse> {
    let page = query.page()?;
    let organization = query.one("organization_id");
    let email = query.one("email");
    Ok(list(invitations::list(&state.app, organization.as_deref(), email.as_deref(), &page).await?))
}

/// Invite an email address, to an organization with a role or to the environment; the
/// invitation email is sent.
#[utoipa::path(post, path = "/user_management/invitations", tag = "users", request_body = SendInvitation,
    responses((status = 201, description = "The invitation"), (status = 400, description = "Already a member, or already invited"),
        (status = 404, description = "No such organization or inviter"), (status = 422, description = "A field is invalid")))]
async fn send_invitation(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<SendInvitation>,
) -> ApiResult<(StatusCode, Json<Invitation>)> {
    Ok(created(invitations::send(&state.app, input).await?))
}

/// Get an invitation.
#[utoipa::path(get, path = "/user_management/invitations/{id}", tag = "users",
    params(("id" = String, Path, description = "invitation_…")),
    responses((status = 200, description = "The invitation"), (status = 404, description = "No such invitation")))]
async fn get_invitation(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<Invitation>> {
    Ok(Json(invitations::get(&state.app, &id).await?))
}

/// Find an invitation by its token.
#[utoipa::path(get, path = "/user_management/invitations/by_token/{token}", tag = "users",
    params(("token" = String, Path)),
    responses((status = 200, description = "The invitation"), (status = 404, description = "No such invitation")))]
async fn find_invitation_by_token(
    State(state): State<WebState>,
    Path(token): Path<String>,
) -> ApiResult<Json<Invitation>> {
    Ok(Json(invitations::find_by_token(&state.app, &token).await?))
}

/// Accept an invitation for the user with its email (who must exist): makes the membership.
#[utoipa::path(post, path = "/user_management/invitations/{id}/accept", tag = "users",
    params(("id" = String, Path, description = "invitation_…")),
    responses((status = 200, description = "The accepted invitation"), (status = 400, description = "Not pending, or no such user")))]
async fn accept_invitation(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<Invitation>> {
    Ok(Json(invitations::accept(&state.app, &id).await?))
}

/// Revoke a pending invitation: its link stops working.
#[utoipa::path(post, path = "/user_management/invitations/{id}/revoke", tag = "users",
    params(("id" = String, Path, description = "invitation_…")),
    responses((status = 200, description = "The revoked invitation"), (status = 400, description = "Not pending")))]
async fn revoke_invitation(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<Invitation>> {
    Ok(Json(invitations::revoke(&state.app, &id).await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct ResendInvitation {
    locale: Option<String>,
}

/// Send a pending or expired invitation again, with a new token and expiry.
#[utoipa::path(post, path = "/user_management/invitations/{id}/resend", tag = "users",
    params(("id" = String, Path, description = "invitation_…")), request_body = ResendInvitation,
    responses((status = 200, description = "The invitation"), (status = 400, description = "Accepted or revoked")))]
async fn resend_invitation(
    State(state): State<WebState>,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Invitation>> {
    let input: ResendInvitation = if body.iter().all(u8::is_ascii_whitespace) {
        ResendInvitation::default()
    } else {
        super::extract::parse_json(&body)?
    };
    Ok(Json(invitations::resend(&state.app, &id, input.locale.as_deref()).await?))
}
