//! `/events`

use super::error::ApiResult;
use super::extract::Query;
use super::list;
use crate::WebState;
use axum::extract::State;
use axum::response::IntoResponse;
use portico_app::events::{self, EventQuery};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn routes() -> OpenApiRouter<WebState> {
    OpenApiRouter::new().routes(routes!(list_events))
}

/// Read the event log. Events are kept for at least 30 days.
#[utoipa::path(get, path = "/events", tag = "events",
    params(
        ("events" = Option<String>, Query, description = "Comma-separated event names, e.g. user.created,organization.updated"),
        ("range_start" = Option<String>, Query, description = "ISO-8601; events at or after"),
        ("range_end" = Option<String>, Query, description = "ISO-8601; events before"),
        ("organization_id" = Option<String>, Query),
        ("limit" = Option<u32>, Query), ("before" = Option<String>, Query),
        ("after" = Option<String>, Query, description = "An event id: continue after it"),
        ("order" = Option<String>, Query),
    ),
    responses((status = 200, description = "A list of events"), (status = 422, description = "A filter is invalid")))]
async fn list_events(State(state): State<WebState>, query: Query) -> ApiResult<impl IntoResponse> {
    let page = query.page()?;
    let filter = EventQuery {
        events: query.list("events"),
        range_start: query.one("range_start"),
        range_end: query.one("range_end"),
        organization_id: query.one("organization_id"),
    };
    Ok(list(events::list(&state.app, &filter, &page).await?))
}
