//! Organization sign-in policies, the members they are reviewed against, and MFA reminders.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::{OrganizationId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PolicyRow {
    pub organization_id: String,
    pub policy: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub async fn get(conn: Conn<'_>, organization: &OrganizationId) -> Result<Option<PolicyRow>> {
    fetch_optional(
        conn,
        "SELECT organization_id, policy, created_at, updated_at FROM organization_policies WHERE organization_id = $1",
        &values![organization.as_str()],
    )
    .await
}

/// Writes the organization's policy, creating the row the first time.
pub async fn put(mut conn: Conn<'_>, organization: &OrganizationId, policy: &str, at: Timestamp) -> Result<()> {
    let changed = execute(
        conn.reborrow(),
        "UPDATE organization_policies SET policy = $2, updated_at = $3 WHERE organization_id = $1",
        &values![organization.as_str(), policy, at],
    )
    .await?;
    if changed == 0 {
        execute(
            conn,
            "INSERT INTO organization_policies (organization_id, policy, created_at, updated_at) VALUES ($1, $2, $3, $3)",
            &values![organization.as_str(), policy, at],
        )
        .await?;
    }
    Ok(())
}

/// An active member as a policy review sees them.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberRow {
    pub membership_id: String,
    pub user_id: String,
    pub email: String,
    pub first_name: Option<String>,
    pub has_second_factor: bool,
}

/// The organization's active members, with whether each has a verified second factor (TOTP or a
/// passkey).
pub async fn active_members(conn: Conn<'_>, organization: &OrganizationId) -> Result<Vec<MemberRow>> {
    fetch_all(
        conn,
        "SELECT m.id AS membership_id, u.id AS user_id, u.email AS email, u.first_name AS first_name, \
         (EXISTS (SELECT 1 FROM auth_factors f WHERE f.user_id = u.id AND f.verified_at IS NOT NULL) \
          OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = u.id)) AS has_second_factor \
         FROM organization_memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.organization_id = $1 AND m.status = 'active' ORDER BY m.id",
        &values![organization.as_str()],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ReminderRow {
    pub id: String,
    pub organization_id: String,
    pub user_id: String,
    pub due_at: i64,
    pub deadline: i64,
}

pub async fn insert_reminder(conn: Conn<'_>, reminder: &ReminderRow, at: Timestamp) -> Result<()> {
    execute(
        conn,
        "INSERT INTO policy_reminders (id, organization_id, user_id, due_at, deadline, sent_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, NULL, $6)",
        &values![&reminder.id, &reminder.organization_id, &reminder.user_id, reminder.due_at, reminder.deadline, at],
    )
    .await?;
    Ok(())
}

/// Drops the organization's unsent reminders (its policy changed; new ones replace them).
pub async fn cancel_reminders(conn: Conn<'_>, organization: &OrganizationId) -> Result<u64> {
    execute(
        conn,
        "DELETE FROM policy_reminders WHERE organization_id = $1 AND sent_at IS NULL",
        &values![organization.as_str()],
    )
    .await
}

/// Claims due reminders by marking them sent in the claiming transaction: the email that goes
/// with each is written to the outbox in the same transaction, which delivers it durably.
pub async fn claim_due_reminders(conn: Conn<'_>, now: Timestamp, limit: i64) -> Result<Vec<ReminderRow>> {
    let inner_lock = match conn {
        Conn::Sqlite(_) => "",
        Conn::Postgres(_) => " FOR UPDATE SKIP LOCKED",
    };
    let due = "sent_at IS NULL AND due_at <= $1";
    let sql = format!(
        "UPDATE policy_reminders SET sent_at = $1 \
         WHERE id IN (SELECT id FROM policy_reminders WHERE {due} ORDER BY due_at LIMIT $2{inner_lock}) AND {due} \
         RETURNING id, organization_id, user_id, due_at, deadline"
    );
    fetch_all(conn, &sql, &values![now, limit]).await
}
