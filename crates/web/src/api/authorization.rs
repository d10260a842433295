//! `/authorization/organization_memberships/{id}/check` (WorkOS) and `/checks` (many permissions
//! in one call).

use super::error::ApiResult;
use super::extract::ApiJson;
use super::plain_list;
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use portico_app::authorization::{self, BatchCheckRequest, CheckRequest};
use serde_json::{Value, json};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(check)).routes(routes!(check_batch))
}

/// Check whether an organization membership holds a permission.
#[utoipa::path(post, path = "/authorization/organization_memberships/{id}/check", tag = "authorization",
    request_body = CheckRequest, params(("id" = String, Path)),
    responses((status = 200, description = "`{\"authorized\": bool}`"),
        (status = 404, description = "No such membership or resource"),
        (status = 422, description = "A field is missing or malformed")))]
async fn check(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<CheckRequest>,
) -> ApiResult<Json<Value>> {
    let authorized = authorization::check(&state.app, &id, input).await?;
    Ok(Json(json!({ "authorized": authorized })))
}

/// Check many permissions for one organization membership; answers come in the order asked.
#[utoipa::path(post, path = "/authorization/organization_memberships/{id}/checks", tag = "authorization",
    request_body = BatchCheckRequest, params(("id" = String, Path)),
    responses((status = 200, description = "`{\"object\": \"list\", \"data\": [{permission_slug, authorized}]}`"),
        (status = 404, description = "No such membership or resource"),
        (status = 422, description = "A field is missing or malformed")))]
async fn check_batch(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<BatchCheckRequest>,
) -> ApiResult<impl IntoResponse> {
    Ok(plain_list(authorization::check_batch(&state.app, &id, input).await?))
}
