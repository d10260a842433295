//! Writing events (always inside the transaction of the change) and reading them back.

use crate::App;
use crate::error::{Error, Result};
use portico_domain::event::{Event, is_valid_event_name};
use portico_domain::id::check_id;
use portico_domain::{FieldError, Invalid, OrganizationId, Timestamp};
use portico_store::events::EventFilter;
use portico_store::{Conn, Page, PageRequest};
use serde::Serialize;

/// Writes one event through the transaction's connection.
pub(crate) async fn record(
    app: &App,
    conn: Conn<'_>,
    name: &str,
    data: &impl Serialize,
    organization: Option<&OrganizationId>,
) -> Result<()> {
    let event = Event {
        id: app.new_id(),
        event: name.to_owned(),
        data: serde_json::to_value(data).map_err(|e| Error::Internal(e.to_string()))?,
        created_at: app.now(),
        organization_id: organization.cloned(),
        context: serde_json::json!({}),
    };
    portico_store::events::insert(conn, &event).await?;
    Ok(())
}

/// The filters `GET /events` accepts, as received.
#[derive(Debug, Default, Clone)]
pub struct EventQuery {
    pub events: Vec<String>,
    pub range_start: Option<String>,
    pub range_end: Option<String>,
    pub organization_id: Option<String>,
}

pub async fn list(app: &App, query: &EventQuery, page: &PageRequest) -> Result<Page<Event>> {
    let mut errors = Vec::new();
    for name in &query.events {
        if !is_valid_event_name(name) {
            errors.push(FieldError::new(
                "events",
                "event_name_invalid",
                format!("'{name}' is not an event name such as user.created"),
            ));
        }
    }
    let mut parse_time = |field: &str, value: &Option<String>| {
        value.as_ref().and_then(|text| {
            let parsed = Timestamp::parse_rfc3339(text);
            if parsed.is_none() {
                errors.push(FieldError::new(
                    field,
                    &format!("{field}_invalid"),
                    format!("{field} must be an ISO-8601 date-time such as 2026-01-15T12:00:00.000Z"),
                ));
            }
            parsed
        })
    };
    let range_start = parse_time("range_start", &query.range_start);
    let range_end = parse_time("range_end", &query.range_end);
    if let (Some(start), Some(end)) = (range_start, range_end)
        && end < start
    {
        errors.push(FieldError::new("range_end", "range_end_invalid", "range_end must not be before range_start"));
    }
    let organization_id = match &query.organization_id {
        Some(text) => match check_id::<OrganizationId>("organization_id", text) {
            Ok(id) => Some(id),
            Err(error) => {
                errors.push(error);
                None
            }
        },
        None => None,
    };
    if !errors.is_empty() {
        return Err(Invalid(errors).into());
    }
    let filter = EventFilter { names: query.events.clone(), range_start, range_end, organization_id };
    let mut reader = app.db.read().await?;
    Ok(portico_store::events::list(reader.conn(), &filter, page).await?)
}

/// The `error` object of `authentication.*_failed` events: the code and message the client got.
pub(crate) fn auth_error_data(error: &crate::AuthError) -> serde_json::Value {
    let code = match error {
        crate::AuthError::InvalidCredentials => "invalid_credentials",
        crate::AuthError::OneTimeCode(refusal) => refusal.code(),
        crate::AuthError::InvitationInvalid(_) => "invitation_invalid",
        _ => "authentication_failed",
    };
    serde_json::json!({ "code": code, "message": error.to_string() })
}
