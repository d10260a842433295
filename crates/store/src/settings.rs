//! Environment-wide settings kept in the database, so every node sees the same values.

use crate::db::{Conn, execute, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::Timestamp;

/// Set once the environment has its first API key, client and roles.
pub const BOOTSTRAPPED_AT: &str = "bootstrapped_at";

pub async fn get(conn: Conn<'_>, key: &str) -> Result<Option<String>> {
    #[derive(sqlx::FromRow)]
    struct SettingRow {
        value: String,
    }
    let row: Option<SettingRow> =
        fetch_optional(conn, "SELECT value FROM settings WHERE key = $1", &values![key]).await?;
    Ok(row.map(|r| r.value))
}

pub async fn set(conn: Conn<'_>, key: &str, value: &str, at: Timestamp) -> Result<()> {
    execute(
        conn,
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        &values![key, value, at],
    )
    .await?;
    Ok(())
}
