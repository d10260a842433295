//! Rate limits on sign-in, shared by all nodes through the database. A fixed window per key:
//! simple to reason about, and a limit of N per window never lets more than 2N through in any
//! span of one window.

use crate::App;
use crate::error::{Error, Result};

/// At most `max` requests per `window_seconds` for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    pub max: u32,
    pub window_seconds: u32,
}

/// Counts a request against `key` and refuses it when the window's allowance is spent.
pub async fn check(app: &App, key: &str, limit: Limit, what: &str) -> Result<()> {
    let now = app.now();
    let window_ms = i64::from(limit.window_seconds.max(1)) * 1000;
    let window_start = now.unix_ms() - now.unix_ms().rem_euclid(window_ms);
    let mut tx = app.db.begin().await?;
    let count =
        portico_store::rate_limits::hit(tx.conn(), key, portico_domain::Timestamp::from_unix_ms(window_start)).await?;
    tx.commit().await?;
    if count > i64::from(limit.max) {
        let retry_after_ms = window_start + window_ms - now.unix_ms();
        return Err(Error::RateLimited {
            retry_after_seconds: u64::try_from((retry_after_ms + 999) / 1000).unwrap_or(1).max(1),
            message: format!("Too many {what}; try again later."),
        });
    }
    Ok(())
}
