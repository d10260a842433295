//! Periodic clean-up: events past their retention, idempotency keys past 24 hours, and the
//! short-lived secrets of sign-in (flows, passkey challenges, codes, reset links) a day after they expired.

use crate::App;
use crate::error::Result;
use crate::idempotency::RETENTION_MS;
use portico_domain::event::MIN_RETENTION_DAYS;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub events: u64,
    pub idempotency_keys: u64,
    pub rate_limit_windows: u64,
    pub sign_in_leftovers: u64,
    pub delivered_emails: u64,
}

pub async fn purge_expired(app: &App) -> Result<Purged> {
    let now = app.now();
    let days = i64::from(app.settings.event_retention_days.max(MIN_RETENTION_DAYS));
    let mut tx = app.db.begin().await?;
    let events = portico_store::events::purge_before(tx.conn(), now.plus_ms(-days * 24 * 60 * 60 * 1000)).await?;
    let idempotency_keys = portico_store::idempotency::purge_before(tx.conn(), now.plus_ms(-RETENTION_MS)).await?;
    // No limit window lasts a day; older counters only take space.
    let rate_limit_windows = portico_store::rate_limits::purge_before(tx.conn(), now.plus_ms(-RETENTION_MS)).await?;
    let day_ago = now.plus_ms(-RETENTION_MS);
    let sign_in_leftovers = portico_store::passkeys::purge_expired_ceremonies(tx.conn(), now).await?
        + portico_store::sign_in_flows::purge_expired(tx.conn(), now).await?
        + portico_store::authorization_codes::purge_before(tx.conn(), day_ago).await?
        + portico_store::one_time_codes::purge_before(tx.conn(), day_ago).await?
        + portico_store::password_resets::purge_before(tx.conn(), day_ago).await?;
    // Delivered mail is kept a week: the dev mailbox shows it, operators can trace a delivery.
    let delivered_emails =
        portico_store::email_outbox::purge_sent_before(tx.conn(), now.plus_ms(-7 * RETENTION_MS)).await?;
    tx.commit().await?;
    Ok(Purged { events, idempotency_keys, rate_limit_windows, sign_in_leftovers, delivered_emails })
}
