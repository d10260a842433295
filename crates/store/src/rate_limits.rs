//! Request counters for rate limits, one row per key and fixed window, counted in one statement
//! so that every node sees the same count.

use crate::db::{Conn, execute, fetch_optional};
use crate::error::{Result, corrupt};
use crate::page::values;
use portico_domain::Timestamp;

/// Counts one request for `key` in the window starting at `window_start` and returns the count
/// so far in that window.
pub async fn hit(conn: Conn<'_>, key: &str, window_start: Timestamp) -> Result<i64> {
    #[derive(sqlx::FromRow)]
    struct CountRow {
        count: i64,
    }
    let row: Option<CountRow> = fetch_optional(
        conn,
        "INSERT INTO rate_limits (key, window_start, count) VALUES ($1, $2, 1) \
         ON CONFLICT (key) DO UPDATE SET \
           count = CASE WHEN rate_limits.window_start = excluded.window_start THEN rate_limits.count + 1 ELSE 1 END, \
           window_start = excluded.window_start \
         RETURNING count",
        &values![key, window_start],
    )
    .await?;
    row.map(|r| r.count).ok_or_else(|| corrupt("the rate-limit upsert returned no row"))
}

/// Deletes counters whose window ended before `cutoff`.
pub async fn purge_before(conn: Conn<'_>, cutoff: Timestamp) -> Result<u64> {
    execute(conn, "DELETE FROM rate_limits WHERE window_start < $1", &values![cutoff]).await
}
