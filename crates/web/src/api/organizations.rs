//! `/organizations`

use super::error::ApiResult;
use super::extract::{ApiJson, Query};
use super::{created, list};
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use portico_app::input::{CreateOrganization, UpdateOrganization};
use portico_app::organizations::{self, OrganizationQuery};
use portico_domain::organization::Organization;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(get_organization, update_organization, delete_organization))
        .routes(routes!(get_organization_by_external_id))
}

/// List organizations, optionally those holding any of `domains`.
#[utoipa::path(get, path = "/organizations", tag = "organizations",
    params(
        ("domains" = Option<String>, Query, description = "Comma-separated domains"),
        ("search" = Option<String>, Query, description = "Part of the name"),
        ("limit" = Option<u32>, Query), ("before" = Option<String>, Query), ("after" = Option<String>, Query),
        ("order" = Option<String>, Query),
    ),
    responses((status = 200, description = "A list of organizations")))]
async fn list_organizations(State(state): State<WebState>, query: Query) -> ApiResult<impl IntoResponse> {
    let page = query.page()?;
    let filter = OrganizationQuery { domains: query.list("domains"), search: query.one("search") };
    Ok(list(organizations::list(&state.app, &filter, &page).await?))
}

/// Create an organization, with its domains.
#[utoipa::path(post, path = "/organizations", tag = "organizations", request_body = CreateOrganization,
    responses((status = 201, description = "The organization"), (status = 409, description = "external_id or a domain is taken"),
        (status = 422, description = "A field is invalid")))]
async fn create_organization(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<CreateOrganization>,
) -> ApiResult<(StatusCode, Json<Organization>)> {
    Ok(created(organizations::create(&state.app, input).await?))
}

/// Get an organization.
#[utoipa::path(get, path = "/organizations/{id}", tag = "organizations", params(("id" = String, Path, description = "org_…")),
    responses((status = 200, description = "The organization"), (status = 404, description = "No such organization")))]
async fn get_organization(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<Organization>> {
    Ok(Json(organizations::get(&state.app, &id).await?))
}

/// Update an organization; `domain_data` replaces its domains.
#[utoipa::path(put, path = "/organizations/{id}", tag = "organizations", request_body = UpdateOrganization,
    params(("id" = String, Path, description = "org_…")),
    responses((status = 200, description = "The organization"), (status = 404, description = "No such organization")))]
async fn update_organization(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<UpdateOrganization>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(organizations::update(&state.app, &id, input).await?))
}

/// Delete an organization with its domains, roles and memberships.
#[utoipa::path(delete, path = "/organizations/{id}", tag = "organizations", params(("id" = String, Path, description = "org_…")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such organization")))]
async fn delete_organization(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    organizations::delete(&state.app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Get an organization by the id your system gave it.
#[utoipa::path(get, path = "/organizations/external_id/{external_id}", tag = "organizations",
    params(("external_id" = String, Path)),
    responses((status = 200, description = "The organization"), (status = 404, description = "No such organization")))]
async fn get_organization_by_external_id(
    State(state): State<WebState>,
    Path(external_id): Path<String>,
) -> ApiResult<Json<Organization>> {
    Ok(Json(organizations::get_by_external_id(&state.app, &external_id).await?))
}
