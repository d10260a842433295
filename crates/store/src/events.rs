//! The event log.

use crate::db::{Conn, execute, fetch_all};
use crate::error::{Result, corrupt};
use crate::page::{self, Page, PageRequest, Value, in_list, values};
use portico_domain::event::Event;
use portico_domain::{EventId, OrganizationId, Timestamp};

const COLUMNS: &str = "id, event, data, context, organization_id, created_at";

#[derive(sqlx::FromRow)]
struct EventRow {
    id: String,
    event: String,
    data: String,
    context: String,
    organization_id: Option<String>,
    created_at: i64,
}

impl TryFrom<EventRow> for Event {
    type Error = crate::StoreError;

    fn try_from(row: EventRow) -> Result<Self> {
        Ok(Event {
            id: EventId::from_trusted(row.id),
            event: row.event,
            data: serde_json::from_str(&row.data).map_err(corrupt)?,
            context: serde_json::from_str(&row.context).map_err(corrupt)?,
            organization_id: row.organization_id.map(OrganizationId::from_trusted),
            created_at: Timestamp::from_unix_ms(row.created_at),
        })
    }
}

pub async fn insert(conn: Conn<'_>, event: &Event) -> Result<()> {
    let sql = format!("INSERT INTO events ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    execute(
        conn,
        &sql,
        &values![
            event.id.as_str(),
            &event.event,
            serde_json::to_string(&event.data).map_err(corrupt)?,
            serde_json::to_string(&event.context).map_err(corrupt)?,
            event.organization_id.as_ref().map(|id| id.as_str()),
            event.created_at,
        ],
    )
    .await?;
    Ok(())
}

#[derive(Debug, Default, Clone)]
pub struct EventFilter {
    /// Empty means every event name.
    pub names: Vec<String>,
    pub range_start: Option<Timestamp>,
    pub range_end: Option<Timestamp>,
    pub organization_id: Option<OrganizationId>,
}

pub async fn list(conn: Conn<'_>, filter: &EventFilter, request: &PageRequest) -> Result<Page<Event>> {
    let mut sql = format!("SELECT {COLUMNS} FROM events WHERE 1 = 1");
    let mut values = Vec::new();
    if !filter.names.is_empty() {
        let list = in_list(&mut values, filter.names.iter().cloned());
        sql.push_str(&format!(" AND event IN ({list})"));
    }
    if let Some(start) = filter.range_start {
        values.push(Value::from(start));
        sql.push_str(&format!(" AND created_at >= ${}", values.len()));
    }
    if let Some(end) = filter.range_end {
        values.push(Value::from(end));
        sql.push_str(&format!(" AND created_at < ${}", values.len()));
    }
    if let Some(org) = &filter.organization_id {
        values.push(Value::from(org.as_str()));
        sql.push_str(&format!(" AND organization_id = ${}", values.len()));
    }
    page::apply(&mut sql, &mut values, "id", request);
    let rows: Vec<EventRow> = fetch_all(conn, &sql, &values).await?;
    let events = rows.into_iter().map(Event::try_from).collect::<Result<Vec<_>>>()?;
    Ok(page::finish(events, request, |e| e.id.to_string()))
}

/// Deletes events created before `cutoff`. Returns how many went.
pub async fn purge_before(conn: Conn<'_>, cutoff: Timestamp) -> Result<u64> {
    execute(conn, "DELETE FROM events WHERE created_at < $1", &values![cutoff]).await
}
