//! `/user_management/users`

use super::error::ApiResult;
use super::extract::{ApiJson, Query};
use super::{created, list};
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use portico_app::input::{CreateUser, UpdateUser};
use portico_app::users::{self, UserQuery};
use portico_domain::user::{Identity, User};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(get_user_by_external_id))
        .routes(routes!(list_identities))
}

/// List users, newest first, optionally by email or organization.
#[utoipa::path(get, path = "/user_management/users", tag = "users",
    params(
        ("email" = Option<String>, Query, description = "Only the user with this email"),
        ("organization_id" = Option<String>, Query, description = "Only members of this organization"),
        ("limit" = Option<u32>, Query, description = "1 to 100, default 10"),
        ("before" = Option<String>, Query), ("after" = Option<String>, Query),
        ("order" = Option<String>, Query, description = "desc (default) or asc"),
    ),
    responses((status = 200, description = "A list of users"), (status = 422, description = "A filter is invalid")))]
async fn list_users(State(state): State<WebState>, query: Query) -> ApiResult<impl IntoResponse> {
    let page = query.page()?;
    let filter = UserQuery {
        email: query.one("email"),
        organization_id: query.one("organization_id").or_else(|| query.one("organization")),
    };
    Ok(list(users::list(&state.app, &filter, &page).await?))
}

/// Create a user, with a password or an imported bcrypt/argon2 hash.
#[utoipa::path(post, path = "/user_management/users", tag = "users", request_body = CreateUser,
    responses((status = 201, description = "The user"), (status = 400, description = "The email or external_id is taken"),
        (status = 422, description = "A field is invalid")))]
async fn create_user(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    Ok(created(users::create(&state.app, input).await?))
}

/// Get a user.
#[utoipa::path(get, path = "/user_management/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user_…")),
    responses((status = 200, description = "The user"), (status = 404, description = "No such user")))]
async fn get_user(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<User>> {
    Ok(Json(users::get(&state.app, &id).await?))
}

/// Update a user; fields left out keep their value, `null` clears a nullable one.
#[utoipa::path(put, path = "/user_management/users/{id}", tag = "users", request_body = UpdateUser,
    params(("id" = String, Path, description = "user_…")),
    responses((status = 200, description = "The user"), (status = 404, description = "No such user"),
        (status = 422, description = "A field is invalid")))]
async fn update_user(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateUser>,
) -> ApiResult<Json<User>> {
    Ok(Json(users::update(&state.app, &id, input).await?))
}

/// Delete a user and their memberships.
#[utoipa::path(delete, path = "/user_management/users/{id}", tag = "users",
    params(("id" = String, Path, description = "user_…")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such user")))]
async fn delete_user(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    users::delete(&state.app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get a user by the id your system gave it.
#[utoipa::path(get, path = "/user_management/users/external_id/{external_id}", tag = "users",
    params(("external_id" = String, Path)),
    responses((status = 200, description = "The user"), (status = 404, description = "No such user")))]
async fn get_user_by_external_id(
    State(state): State<WebState>,
    Path(external_id): Path<String>,
) -> ApiResult<Json<User>> {
    Ok(Json(users::get_by_external_id(&state.app, &external_id).await?))
}

/// The external identities (social, SSO) linked to a user: a bare JSON array.
#[utoipa::path(get, path = "/user_management/users/{id}/identities", tag = "users",
    params(("id" = String, Path, description = "user_…")),
    responses((status = 200, description = "An array of identities"), (status = 404, description = "No such user")))]
async fn list_identities(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<Vec<Identity>>> {
    Ok(Json(users::identities(&state.app, &id).await?))
}
