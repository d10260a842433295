//! `/organizations/{id}/policy`: an organization's sign-in policy, and its dry run.

use super::error::ApiResult;
use super::extract::ApiJson;
use crate::WebState;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use portico_app::policies;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(get_policy, put_policy)).routes(routes!(dry_run))
}

/// The organization's sign-in policy (every rule off until its admin sets one).
#[utoipa::path(get, path = "/organizations/{id}/policy", tag = "policies", params(("id" = String, Path, description = "org_…")),
    responses((status = 200, description = "`{object: \"organization_policy\", organization_id, mfa, allowed_authentication_methods, allowed_email_domains, session, ip_allowlist, break_glass_user_id, created_at, updated_at}`"),
        (status = 404, description = "No such organization")))]
async fn get_policy(State(state): State<WebState>, Path(id): Path<String>) -> ApiResult<impl IntoResponse> {
    Ok(Json(policies::get(&state.app, &id).await?))
}

/// Replace the organization's policy. Rules apply from each member's next sign-in, refresh or
/// switch; with `"enforce_now": true`, live sessions the policy rules out end at once. An MFA
/// rule with `grace_period_days` lets members without a second factor in until the grace ends,
/// and reminds them by email. Limits cannot exceed the environment's. Emits
/// `organization.policy_updated` with the policy before and after.
#[utoipa::path(put, path = "/organizations/{id}/policy", tag = "policies", request_body = Value,
    params(("id" = String, Path, description = "org_…")),
    responses((status = 200, description = "The policy, with `revoked_session_count`"),
        (status = 404, description = "No such organization"),
        (status = 422, description = "A rule is malformed or looser than the environment allows; each is named")))]
async fn put_policy(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(policies::put(&state.app, &id, body).await?))
}

/// Who a proposed policy would stop, and why, without saving it: members without a second
/// factor, and live sessions that `enforce_now` would end (with the rule each breaks).
#[utoipa::path(post, path = "/organizations/{id}/policy/dry_run", tag = "policies", request_body = Value,
    params(("id" = String, Path, description = "org_…")),
    responses((status = 200, description = "`{object: \"organization_policy_dry_run\", member_count, affected_member_count, members, sessions_ended_by_enforce_now}`"),
        (status = 404, description = "No such organization"), (status = 422, description = "A rule is malformed")))]
async fn dry_run(
    State(state): State<WebState>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> ApiResult<impl IntoResponse> {
    Ok(Json(policies::dry_run(&state.app, &id, body).await?))
}
