//! `/user_management/organization_memberships`

use super::error::ApiResult;
use super::extract::{ApiJson, Query};
use super::{created, list};
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use portico_app::input::{CreateMembership, UpdateMembership};
use portico_app::memberships::{self, MembershipQuery};
use portico_domain::membership::MembershipWithUser;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_memberships, create_membership))
        .routes(routes!(get_membership, update_membership, delete_membership))
        .routes(routes!(deactivate_membership))
        .routes(routes!(reactivate_membership))
}

/// List memberships of an organization or of a user (give at least one).
#[utoipa::path(get, path = "/user_management/organization_memberships", tag = "organization_memberships",
    params(
        ("organization_id" = Option<String>, Query), ("user_id" = Option<String>, Query),
        ("statuses" = Option<String>, Query, description = "Comma-separated: active, inactive, pending. Default: active"),
        ("limit" = Option<u32>, Query), ("before" = Option<String>, Query), ("after" = Option<String>, Query),
        ("order" = Option<String>, Query),
    ),
    responses((status = 200, description = "A list of memberships with their user and roles"),
        (status = 422, description = "Neither organization_id nor user_id given, or a filter is invalid")))]
async fn list_memberships(State(state): State<WebState>, query: Query) -> ApiResult<impl IntoResponse> {
    let page = query.page()?;
    let filter = MembershipQuery {
        organization_id: query.one("organization_id"),
        user_id: query.one("user_id"),
        statuses: query.list("statuses"),
    };
    Ok(list(memberships::list(&state.app, &filter, &page).await?))
}

/// Add a user to an organization with `role_slug` or `role_slugs` (default: the default role).
/// Adding a user whose membership is inactive reactivates it.
#[utoipa::path(post, path = "/user_management/organization_memberships", tag = "organization_memberships",
    request_body = CreateMembership,
    responses((status = 201, description = "The membership"), (status = 404, description = "No such user or organization"),
        (status = 409, description = "The user is already a member"), (status = 422, description = "A field or role is invalid")))]
async fn create_membership(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<CreateMembership>,
) -> ApiResult<(StatusCode, Json<MembershipWithUser>)> {
    Ok(created(memberships::create(&state.app, input).await?))
}

/// Get a membership.
#[utoipa::path(get, path = "/user_management/organization_memberships/{id}", tag = "organization_memberships",
    params(("id" = String, Path, description = "om_…")),
    responses((status = 200, description = "The membership"), (status = 404, description = "No such membership")))]
async fn get_membership(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<MembershipWithUser>> {
    Ok(Json(memberships::get(&state.app, &id).await?))
}

/// Change a membership's roles.
#[utoipa::path(put, path = "/user_management/organization_memberships/{id}", tag = "organization_memberships",
    request_body = UpdateMembership, params(("id" = String, Path, description = "om_…")),
    responses((status = 200, description = "The membership"), (status = 404, description = "No such membership")))]
async fn update_membership(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateMembership>,
) -> ApiResult<Json<MembershipWithUser>> {
    Ok(Json(memberships::update(&state.app, &id, input).await?))
}

/// Remove a membership.
#[utoipa::path(delete, path = "/user_management/organization_memberships/{id}", tag = "organization_memberships",
    params(("id" = String, Path, description = "om_…")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such membership")))]
async fn delete_membership(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    memberships::delete(&state.app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Suspend a membership, keeping its roles.
#[utoipa::path(put, path = "/user_management/organization_memberships/{id}/deactivate", tag = "organization_memberships",
    params(("id" = String, Path, description = "om_…")),
    responses((status = 200, description = "The membership"), (status = 400, description = "The membership is pending")))]
async fn deactivate_membership(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> ApiResult<Json<MembershipWithUser>> {
    Ok(Json(memberships::deactivate(&state.app, &id).await?))
}

/// Restore a suspended membership with its roles.
#[utoipa::path(put, path = "/user_management/organization_memberships/{id}/reactivate", tag = "organization_memberships",
    params(("id" = String, Path, description = "om_…")),
    responses((status = 200, description = "The membership"), (status = 404, description = "No such membership")))]
async fn reactivate_membership(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> ApiResult<Json<MembershipWithUser>> {
    Ok(Json(memberships::reactivate(&state.app, &id).await?))
}
