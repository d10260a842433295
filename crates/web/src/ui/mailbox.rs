//! The dev mailbox: in dev mode without SMTP, the emails Portico sent, newest first, as a page
//! and as JSON (what the browser tests read codes from). Absent otherwise.

use super::Visitor;
use crate::WebState;
use crate::api::error::ApiError;
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_app::mail::MailboxEntry;

const SHOWN: i64 = 50;

#[derive(Template)]
#[template(path = "mailbox.html")]
struct MailboxPage {
    entries: Vec<MailboxEntry>,
    asset_version: &'static str,
}

fn unavailable() -> Response {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "The dev mailbox exists only in dev mode without SMTP.")
        .into_response()
}

async fn entries(state: &WebState) -> Result<Vec<MailboxEntry>, Response> {
    if !state.dev_mode || !state.app.uses_dev_mailbox() {
        return Err(unavailable());
    }
    portico_app::mail::mailbox(&state.app, SHOWN).await.map_err(|e| ApiError::from(e).into_response())
}

pub async fn page(State(state): State<WebState>, visitor: Visitor) -> Response {
    match entries(&state).await {
        Ok(entries) => super::page::render(
            StatusCode::OK,
            &visitor,
            &MailboxPage { entries, asset_version: super::assets::CSS_VERSION },
        ),
        Err(response) => response,
    }
}

pub async fn json(State(state): State<WebState>) -> Response {
    match entries(&state).await {
        Ok(entries) => {
            let mut response = Json(entries).into_response();
            response
                .headers_mut()
                .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
            response
        }
        Err(response) => response,
    }
}
