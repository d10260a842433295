//! The management API: WorkOS JSON, authenticated with `Authorization: Bearer sk_…`.

pub mod auth;
pub mod authorization;
pub mod email_verification;
pub mod error;
pub mod events;
pub mod extract;
pub mod idempotency;
pub mod invitations;
pub mod magic_auth;
pub mod memberships;
pub mod mfa;
pub mod organization_domains;
pub mod organizations;
pub mod password_reset;
pub mod permissions;
pub mod policies;
pub mod roles;
pub mod sessions;
pub mod users;

use crate::WebState;
use axum::Json;
use axum::http::StatusCode;
use portico_app::Page;
use serde::Serialize;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;

/// A page in the WorkOS list shape.
pub(crate) fn list<T: Serialize>(page: Page<T>) -> Json<Value> {
    Json(json!({
        "object": "list",
        "data": page.data,
        "list_metadata": { "before": page.before, "after": page.after },
    }))
}

/// An unpaginated list (roles), in the WorkOS shape.
pub(crate) fn plain_list<T: Serialize>(data: Vec<T>) -> Json<Value> {
    Json(json!({ "object": "list", "data": data }))
}

/// 201 with the created object.
pub(crate) fn created<T: Serialize>(object: T) -> (StatusCode, Json<T>) {
    (StatusCode::CREATED, Json(object))
}

pub fn routes(state: WebState) -> OpenApiRouter<WebState> {
    OpenApiRouter::new()
        .merge(users::routes())
        .merge(organizations::routes())
        .merge(organization_domains::routes())
        .merge(memberships::routes())
        .merge(roles::routes())
        .merge(authorization::routes())
        .merge(permissions::routes())
        .merge(events::routes())
        .merge(sessions::routes())
        .merge(magic_auth::routes())
        .merge(email_verification::routes())
        .merge(password_reset::routes())
        .merge(invitations::routes())
        .merge(mfa::routes())
        .merge(policies::routes())
        // Layers run bottom-up: authenticate first, then idempotency keyed by the API key.
        .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::replay_or_record))
        .layer(axum::middleware::from_fn_with_state(state, auth::require_api_key))
}
