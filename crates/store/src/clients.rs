//! OAuth clients of the environment, with their exact redirect URIs and allowed origins.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::{Result, corrupt};
use crate::page::values;
use portico_domain::{ClientId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub id: ClientId,
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub allowed_origins: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct ClientRow {
    id: String,
    name: String,
    redirect_uris: String,
    allowed_origins: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ClientRow> for ClientRecord {
    type Error = crate::StoreError;

    fn try_from(row: ClientRow) -> Result<Self> {
        Ok(ClientRecord {
            id: ClientId::from_trusted(row.id),
            name: row.name,
            redirect_uris: serde_json::from_str(&row.redirect_uris).map_err(corrupt)?,
            allowed_origins: serde_json::from_str(&row.allowed_origins).map_err(corrupt)?,
            created_at: Timestamp::from_unix_ms(row.created_at),
            updated_at: Timestamp::from_unix_ms(row.updated_at),
        })
    }
}

const COLUMNS: &str = "id, name, redirect_uris, allowed_origins, created_at, updated_at";

pub async fn insert(conn: Conn<'_>, client: &ClientRecord) -> Result<()> {
    let sql = format!("INSERT INTO clients ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
    execute(
        conn,
        &sql,
        &values![
            client.id.as_str(),
            &client.name,
            serde_json::to_string(&client.redirect_uris).map_err(corrupt)?,
            serde_json::to_string(&client.allowed_origins).map_err(corrupt)?,
            client.created_at,
            client.updated_at,
        ],
    )
    .await?;
    Ok(())
}

pub async fn update(conn: Conn<'_>, client: &ClientRecord) -> Result<()> {
    execute(
        conn,
        "UPDATE clients SET name = $2, redirect_uris = $3, allowed_origins = $4, updated_at = $5 WHERE id = $1",
        &values![
            client.id.as_str(),
            &client.name,
            serde_json::to_string(&client.redirect_uris).map_err(corrupt)?,
            serde_json::to_string(&client.allowed_origins).map_err(corrupt)?,
            client.updated_at,
        ],
    )
    .await?;
    Ok(())
}

pub async fn get(conn: Conn<'_>, id: &ClientId) -> Result<Option<ClientRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM clients WHERE id = $1");
    let row: Option<ClientRow> = fetch_optional(conn, &sql, &values![id.as_str()]).await?;
    row.map(ClientRecord::try_from).transpose()
}

pub async fn list(conn: Conn<'_>) -> Result<Vec<ClientRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM clients ORDER BY id");
    let rows: Vec<ClientRow> = fetch_all(conn, &sql, &[]).await?;
    rows.into_iter().map(ClientRecord::try_from).collect()
}
