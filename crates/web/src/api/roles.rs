//! `/authorization/roles` (environment roles) and `/authorization/organizations/{id}/roles`
//! (organization roles), with their permissions.

use super::error::ApiResult;
use super::extract::ApiJson;
use super::{created, plain_list};
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use portico_app::input::{AddRolePermission, CreateRole, SetRolePermissions, UpdateRole};
use portico_app::roles::{self, Scope};
use portico_domain::role::Role;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_environment_roles, create_environment_role))
        .routes(routes!(get_environment_role, update_environment_role, delete_environment_role))
        .routes(routes!(set_environment_role_permissions, add_environment_role_permission))
        .routes(routes!(remove_environment_role_permission))
        .routes(routes!(list_organization_roles, create_organization_role))
        .routes(routes!(get_organization_role, update_organization_role, delete_organization_role))
        .routes(routes!(set_organization_role_permissions, add_organization_role_permission))
        .routes(routes!(remove_organization_role_permission))
        .routes(routes!(list_organization_roles_legacy))
}

/// List environment roles.
#[utoipa::path(get, path = "/authorization/roles", tag = "roles", responses((status = 200, description = "The roles")))]
async fn list_environment_roles(State(state): State<WebState>) -> ApiResult<impl IntoResponse> {
    Ok(plain_list(roles::list(&state.app, &Scope::Environment).await?))
}

/// Create an environment role.
#[utoipa::path(post, path = "/authorization/roles", tag = "roles", request_body = CreateRole,
    responses((status = 201, description = "The role"), (status = 409, description = "The slug is taken")))]
async fn create_environment_role(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<CreateRole>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    Ok(created(roles::create(&state.app, &Scope::Environment, input).await?))
}

/// Get an environment role.
#[utoipa::path(get, path = "/authorization/roles/{slug}", tag = "roles", params(("slug" = String, Path)),
    responses((status = 200, description = "The role"), (status = 404, description = "No such role")))]
async fn get_environment_role(State(state): State<WebState>, Path(slug): Path<String>) -> ApiResult<Json<Role>> {
    Ok(Json(roles::get(&state.app, &Scope::Environment, &slug).await?))
}

/// Update an environment role's name or description.
#[utoipa::path(patch, path = "/authorization/roles/{slug}", tag = "roles", request_body = UpdateRole,
    params(("slug" = String, Path)), responses((status = 200, description = "The role")))]
async fn update_environment_role(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<UpdateRole>,
) -> ApiResult<Json<Role>> {
    Ok(Json(roles::update(&state.app, &Scope::Environment, &slug, input).await?))
}

/// Delete an environment role that no member holds.
#[utoipa::path(delete, path = "/authorization/roles/{slug}", tag = "roles", params(("slug" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Members hold the role")))]
async fn delete_environment_role(State(state): State<WebState>, Path(slug): Path<String>) -> ApiResult<StatusCode> {
    roles::delete(&state.app, &Scope::Environment, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the permissions an environment role grants.
#[utoipa::path(put, path = "/authorization/roles/{slug}/permissions", tag = "roles", request_body = SetRolePermissions,
    params(("slug" = String, Path)), responses((status = 200, description = "The role")))]
async fn set_environment_role_permissions(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<SetRolePermissions>,
) -> ApiResult<Json<Role>> {
    Ok(Json(roles::set_permissions(&state.app, &Scope::Environment, &slug, input).await?))
}

/// Grant one more permission to an environment role.
#[utoipa::path(post, path = "/authorization/roles/{slug}/permissions", tag = "roles", request_body = AddRolePermission,
    params(("slug" = String, Path)), responses((status = 200, description = "The role")))]
async fn add_environment_role_permission(
    State(state): State<WebState>,
    Path(slug): Path<String>,
    ApiJson(input): ApiJson<AddRolePermission>,
) -> ApiResult<Json<Role>> {
    Ok(Json(roles::add_permission(&state.app, &Scope::Environment, &slug, input).await?))
}

/// Stop granting a permission through an environment role.
#[utoipa::path(delete, path = "/authorization/roles/{slug}/permissions/{permission}", tag = "roles",
    params(("slug" = String, Path), ("permission" = String, Path)), responses((status = 200, description = "The role")))]
async fn remove_environment_role_permission(
    State(state): State<WebState>,
    Path((slug, permission)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    Ok(Json(roles::remove_permission(&state.app, &Scope::Environment, &slug, &permission).await?))
}

/// The roles an organization's members can hold: the environment's and the organization's own.
#[utoipa::path(get, path = "/authorization/organizations/{organization_id}/roles", tag = "roles",
    params(("organization_id" = String, Path)), responses((status = 200, description = "The roles")))]
async fn list_organization_roles(
    State(state): State<WebState>,
    Path(org): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(plain_list(roles::list(&state.app, &Scope::Organization(org)).await?))
}

/// The same list at the path older Node SDKs call.
#[utoipa::path(get, path = "/organizations/{organization_id}/roles", tag = "roles",
    params(("organization_id" = String, Path)), responses((status = 200, description = "The roles")))]
async fn list_organization_roles_legacy(
    State(state): State<WebState>,
    Path(org): Path<String>,
) -> ApiResult<impl IntoResponse> {
    Ok(plain_list(roles::list(&state.app, &Scope::Organization(org)).await?))
}

/// Create a role that exists in this organization only.
#[utoipa::path(post, path = "/authorization/organizations/{organization_id}/roles", tag = "roles", request_body = CreateRole,
    params(("organization_id" = String, Path)),
    responses((status = 201, description = "The role"), (status = 409, description = "The slug is taken")))]
async fn create_organization_role(
    State(state): State<WebState>,
    Path(org): Path<String>,
    ApiJson(input): ApiJson<CreateRole>,
) -> ApiResult<(StatusCode, Json<Role>)> {
    Ok(created(roles::create(&state.app, &Scope::Organization(org), input).await?))
}

/// Get an organization role.
#[utoipa::path(get, path = "/authorization/organizations/{organization_id}/roles/{slug}", tag = "roles",
    params(("organization_id" = String, Path), ("slug" = String, Path)), responses((status = 200, description = "The role")))]
async fn get_organization_role(
    State(state): State<WebState>,
    Path((org, slug)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    Ok(Json(roles::get(&state.app, &Scope::Organization(org), &slug).await?))
}

/// Update an organization role's name or description.
#[utoipa::path(patch, path = "/authorization/organizations/{organization_id}/roles/{slug}", tag = "roles",
    request_body = UpdateRole, params(("organization_id" = String, Path), ("slug" = String, Path)),
    responses((status = 200, description = "The role")))]
async fn update_organization_role(
    State(state): State<WebState>,
    Path((org, slug)): Path<(String, String)>,
    ApiJson(input): ApiJson<UpdateRole>,
) -> ApiResult<Json<Role>> {
    Ok(Json(roles::update(&state.app, &Scope::Organization(org), &slug, input).await?))
}

/// Delete an organization role that no member holds.
#[utoipa::path(delete, path = "/authorization/organizations/{organization_id}/roles/{slug}", tag = "roles",
    params(("organization_id" = String, Path), ("slug" = String, Path)),
    responses((status = 204, description = "Deleted"), (status = 409, description = "Members hold the role")))]
async fn delete_organization_role(
    State(state): State<WebState>,
    Path((org, slug)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    roles::delete(&state.app, &Scope::Organization(org), &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Replace the permissions an organization role grants.
#[utoipa::path(put, path = "/authorization/organizations/{organization_id}/roles/{slug}/permissions", tag = "roles",
    request_body = SetRolePermissions, params(("organization_id" = String, Path), ("slug" = String, Path)),
    responses((status = 200, description = "The role")))]
async fn set_organization_role_permissions(
    State(state): State<WebState>,
    Path((org, slug)): Path<(String, String)>,
    ApiJson(input): ApiJson<SetRolePermissions>,
) -> ApiResult<Json<Role>> {
    Ok(Json(roles::set_permissions(&state.app, &Scope::Organization(org), &slug, input).await?))
}

/// Grant one more permission to an organization role.
#[utoipa::path(post, path = "/authorization/organizations/{organization_id}/roles/{slug}/permissions", tag = "roles",
    request_body = AddRolePermission, params(("organization_id" = String, Path), ("slug" = String, Path)),
    responses((status = 200, description = "The role")))]
async fn add_organization_role_permission(
    State(state): State<WebState>,
    Path((org, slug)): Path<(String, String)>,
    ApiJson(input): ApiJson<AddRolePermission>,
) -> ApiResult<Json<Role>> {
    Ok(Json(roles::add_permission(&state.app, &Scope::Organization(org), &slug, input).await?))
}

/// Stop granting a permission through an organization role.
#[utoipa::path(delete, path = "/authorization/organizations/{organization_id}/roles/{slug}/permissions/{permission}",
    tag = "roles", params(("organization_id" = String, Path), ("slug" = String, Path), ("permission" = String, Path)),
    responses((status = 200, description = "The role")))]
async fn remove_organization_role_permission(
    State(state): State<WebState>,
    Path((org, slug, permission)): Path<(String, String, String)>,
) -> ApiResult<Json<Role>> {
    Ok(Json(roles::remove_permission(&state.app, &Scope::Organization(org), &slug, &permission).await?))
}
