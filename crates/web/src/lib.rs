//! Portico's HTTP surfaces, on axum: the WorkOS-compatible management API (`api`), the operations
//! endpoints (`ops`), and the middleware they share. No SQL here: handlers call `portico_app`.

pub mod api;
pub mod flow;
pub mod middleware;
pub mod ops;
mod state;
pub mod ui;

pub use state::WebState;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

/// The largest request body accepted (1 MiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Portico API",
        description = "Portico's management API: users, organizations, memberships, roles, permissions and events, \
                       in the shapes of the WorkOS API so the WorkOS SDKs work unchanged.",
        license(name = "Apache-2.0")
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "users"), (name = "organizations"), (name = "organization_domains"),
        (name = "organization_memberships"), (name = "roles"), (name = "permissions"), (name = "events"),
        (name = "authentication"), (name = "sessions"),
        (name = "operations")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key, `sk_…`, created by `portico bootstrap` or `portico api-keys create`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Builds the whole HTTP service.
pub fn router(state: WebState) -> Router {
    let (api, mut openapi) =
        OpenApiRouter::with_openapi(ApiDoc::openapi()).merge(api::routes(state.clone())).split_for_parts();
    let (ops, ops_doc) = ops::routes().split_for_parts();
    openapi.merge(ops_doc);
    let (flow, flow_doc) = flow::routes().merge(ui::documented_routes()).split_for_parts();
    openapi.merge(flow_doc);
    let openapi = std::sync::Arc::new(openapi);
    Router::new()
        .merge(api)
        .merge(ops)
        .merge(flow)
        .merge(ui::routes())
        .merge(ops::openapi_route(openapi))
        .fallback(middleware::unknown_route)
        .method_not_allowed_fallback(middleware::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(state.clone(), flow::cors::allow_client_origins))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::observe))
        .with_state(state)
}
