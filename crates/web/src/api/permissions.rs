//! `/authorization/permissions`

use super::error::ApiResult;
use super::extract::{ApiJson, Query};
use super::{created, list};
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use portico_app::input::{CreatePermission, UpdatePermission};
use portico_app::permissions;
use portico_domain::permission::Permission;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(list_permissions, create_permission)).routes(routes!(
        get_permission,
        update_permission,
        replace_permission,
        delete_permission
    ))
}

/// List permissions.
#[utoipa::path(get, path = "/authorization/permissions", tag = "permissions",
    params(("limit" = Option<u32>, Query), ("before" = Option<String>, Query), ("after" = Option<String>, Query),
        ("order" = Option<String>, Query)),
    responses((status = 200, description = "A list of permissions")))]
async fn list_permissions(State(state): State<WebState>, query: Query) -> ApiResult<impl IntoResponse> {
    let page = query.page()?;
    Ok(list(permissions::list(&state.app, &page).await?))
}

/// Create a permission.
#[utoipa::path(post, path = "/authorization/permissions", tag = "permissions", request_body = CreatePermission,
    responses((status = 201, description = "The permission"), (status = 409, description = "The slug is taken")))]
async fn create_permission(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<CreatePermission>,
) -> ApiResult<(StatusCode, Json<Permission>)> {
    Ok(created(permissions::create(&state.app, input).await?))
}

/// Get a permission by slug.
#[utoipa::path(get, path = "/authorization/permissions/{slug}", tag = "permissions", params(("slug" = String, Path)),
    responses((status = 200, description = "The permission"), (status = 404, description = "No such permission")))]
async fn get_permission(State(state): State<WebState>, Path(slug): Path<String>) -> ApiResult<Json<Permission>> {
    Ok(Json(permissions::get(&state.app, &slug).await?))
}

/// Update a permission's name or description.
#[utoipa::path(patch, path = "/authorization/permissions/{slug}", tag = "permissions", request_body = UpdatePermission,
    params(("slug" = String, Path)),
    responses((status = 200, description = "The permission"), (status = 404, description = "No such permission")))]
async fn update_permission(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<UpdatePermission>,
) -> ApiResult<Json<Permission>> {
    Ok(Json(permissions::update(&state.app, &slug, input).await?))
}

/// The same as PATCH, for clients that update with PUT.
#[utoipa::path(put, path = "/authorization/permissions/{slug}", tag = "permissions", request_body = UpdatePermission,
    params(("slug" = String, Path)),
    responses((status = 200, description = "The permission"), (status = 404, description = "No such permission")))]
async fn replace_permission(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<UpdatePermission>,
) -> ApiResult<Json<Permission>> {
    Ok(Json(permissions::update(&state.app, &slug, input).await?))
}

/// Delete a permission; roles stop granting it.
#[utoipa::path(delete, path = "/authorization/permissions/{slug}", tag = "permissions", params(("slug" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such permission")))]
async fn delete_permission(State(state): State<WebState>, Path(slug): Path<String>) -> ApiResult<StatusCode> {
    permissions::delete(&state.app, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}
