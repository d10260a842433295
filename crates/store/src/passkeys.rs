//! Passkeys (WebAuthn credentials) and the ceremonies that register and use them.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::Result;
use crate::page::values;
use portico_domain::{Timestamp, UserId};

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PasskeyRow {
    pub id: String,
    pub user_id: String,
    /// base64url, as browsers name the credential.
    pub credential_id: String,
    /// base64url of the COSE key.
    pub public_key: String,
    pub algorithm: i64,
    pub sign_count: i64,
    pub aaguid: String,
    pub name: String,
    pub backup_eligible: bool,
    pub backed_up: bool,
    /// Space-separated transport hints (`internal hybrid usb …`) the browser reported.
    pub transports: String,
    pub last_used_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLUMNS: &str = "id, user_id, credential_id, public_key, algorithm, sign_count, aaguid, name, \
    backup_eligible, backed_up, transports, last_used_at, created_at, updated_at";

/// Stores a new passkey; false when the credential is registered already (to anyone).
pub async fn insert(conn: Conn<'_>, passkey: &PasskeyRow) -> Result<bool> {
    let sql = format!(
        "INSERT INTO passkeys ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (credential_id) DO NOTHING"
    );
    let inserted = execute(
        conn,
        &sql,
        &values![
            &passkey.id,
            &passkey.user_id,
            &passkey.credential_id,
            &passkey.public_key,
            passkey.algorithm,
            passkey.sign_count,
            &passkey.aaguid,
            &passkey.name,
            passkey.backup_eligible,
            passkey.backed_up,
            &passkey.transports,
            passkey.last_used_at,
            passkey.created_at,
            passkey.updated_at
        ],
    )
    .await?;
    Ok(inserted == 1)
}

pub async fn get(conn: Conn<'_>, id: &str) -> Result<Option<PasskeyRow>> {
    let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE id = $1");
    fetch_optional(conn, &sql, &values![id]).await
}

pub async fn find_by_credential(conn: Conn<'_>, credential_id: &str) -> Result<Option<PasskeyRow>> {
    let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1");
    fetch_optional(conn, &sql, &values![credential_id]).await
}

/// A user's passkeys, oldest first.
pub async fn list_for_user(conn: Conn<'_>, user: &UserId) -> Result<Vec<PasskeyRow>> {
    let sql = format!("SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY id");
    fetch_all(conn, &sql, &values![user.as_str()]).await
}

/// Records a sign-in with the passkey, if its counter is still the one the check read: two
/// sign-ins racing with one counter value cannot both pass.
pub async fn record_use(
    conn: Conn<'_>,
    id: &str,
    read_sign_count: i64,
    sign_count: i64,
    backed_up: bool,
    at: Timestamp,
) -> Result<bool> {
    let changed = execute(
        conn,
        "UPDATE passkeys SET sign_count = $3, backed_up = $4, last_used_at = $5, updated_at = $5 \
         WHERE id = $1 AND sign_count = $2",
        &values![id, read_sign_count, sign_count, backed_up, at],
    )
    .await?;
    Ok(changed == 1)
}

/// Removes one of the user's passkeys; false when it is not theirs or not there.
pub async fn delete_for_user(conn: Conn<'_>, user: &UserId, id: &str) -> Result<bool> {
    let deleted =
        execute(conn, "DELETE FROM passkeys WHERE id = $1 AND user_id = $2", &values![id, user.as_str()]).await?;
    Ok(deleted == 1)
}

/// A challenge handed to a browser, waiting for its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    pub id: String,
    pub flow_id: String,
    pub purpose: String,
    /// base64url, as the browser echoes it in `clientDataJSON`.
    pub challenge: String,
    pub expires_at: i64,
    pub created_at: i64,
}

pub async fn insert_ceremony(conn: Conn<'_>, ceremony: &Ceremony) -> Result<()> {
    execute(
        conn,
        "INSERT INTO webauthn_ceremonies (id, flow_id, purpose, challenge, expires_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &values![
            &ceremony.id,
            &ceremony.flow_id,
            &ceremony.purpose,
            &ceremony.challenge,
            ceremony.expires_at,
            ceremony.created_at
        ],
    )
    .await?;
    Ok(())
}

/// Uses up the flow's live ceremony for `purpose` that issued `challenge`, whichever node
/// started it: true once, then false (also when it expired or never existed).
pub async fn consume_ceremony(
    conn: Conn<'_>,
    flow_id: &str,
    purpose: &str,
    challenge: &str,
    now: Timestamp,
) -> Result<bool> {
    let deleted = execute(
        conn,
        "DELETE FROM webauthn_ceremonies WHERE flow_id = $1 AND purpose = $2 AND challenge = $3 AND expires_at > $4",
        &values![flow_id, purpose, challenge, now],
    )
    .await?;
    Ok(deleted == 1)
}

pub async fn purge_expired_ceremonies(conn: Conn<'_>, now: Timestamp) -> Result<u64> {
    execute(conn, "DELETE FROM webauthn_ceremonies WHERE expires_at <= $1", &values![now]).await
}
