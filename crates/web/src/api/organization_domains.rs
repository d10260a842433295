//! `/organization_domains`

use super::created;
use super::error::ApiResult;
use super::extract::ApiJson;
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portico_app::input::CreateOrganizationDomain;
use portico_app::organization_domains;
use portico_domain::organization_domain::OrganizationDomain;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .routes(routes!(create_domain))
        .routes(routes!(get_domain, delete_domain))
        .routes(routes!(verify_domain))
}

/// Claim a domain for an organization; it stays `pending` until verified by DNS.
#[utoipa::path(post, path = "/organization_domains", tag = "organization_domains", request_body = CreateOrganizationDomain,
    responses((status = 201, description = "The domain, with its verification_prefix and verification_token"),
        (status = 404, description = "No such organization"), (status = 409, description = "The domain is taken")))]
async fn create_domain(
    State(state): State<WebState>,
    ApiJson(input): ApiJson<CreateOrganizationDomain>,
) -> ApiResult<(StatusCode, Json<OrganizationDomain>)> {
    Ok(created(organization_domains::create(&state.app, input).await?))
}

/// Get an organization domain.
#[utoipa::path(get, path = "/organization_domains/{id}", tag = "organization_domains",
    params(("id" = String, Path, description = "org_domain_…")),
    responses((status = 200, description = "The domain"), (status = 404, description = "No such domain")))]
async fn get_domain(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<OrganizationDomain>> {
    Ok(Json(organization_domains::get(&state.app, &id).await?))
}

/// Delete an organization domain.
#[utoipa::path(delete, path = "/organization_domains/{id}", tag = "organization_domains",
    params(("id" = String, Path, description = "org_domain_…")),
    responses((status = 204, description = "Deleted"), (status = 404, description = "No such domain")))]
async fn delete_domain(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<StatusCode> {
    organization_domains::delete(&state.app, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Look up the TXT record `{verification_prefix}.{domain}`; the domain becomes `verified` when it
/// holds `verification_token`, `failed` otherwise.
#[utoipa::path(post, path = "/organization_domains/{id}/verify", tag = "organization_domains",
    params(("id" = String, Path, description = "org_domain_…")),
    responses((status = 200, description = "The domain with its new state"), (status = 404, description = "No such domain")))]
async fn verify_domain(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<Json<OrganizationDomain>> {
    Ok(Json(organization_domains::verify(&state.app, &id).await?))
}
