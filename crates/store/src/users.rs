//! Users.

use crate::db::{Conn, execute, fetch_all, fetch_optional};
use crate::error::{Result, corrupt};
use crate::page::{self, Page, PageRequest, Value, in_list, values};
use portico_domain::metadata::Metadata;
use portico_domain::user::{User, display_name};
use portico_domain::{Email, OrganizationId, Timestamp, UserId};

const COLUMNS: &str = "id, email, email_verified, first_name, last_name, profile_picture_url, \
    last_sign_in_at, locale, external_id, metadata, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct UserRow {
    id: String,
    email: String,
    email_verified: bool,
    first_name: Option<String>,
    last_name: Option<String>,
    profile_picture_url: Option<String>,
    last_sign_in_at: Option<i64>,
    locale: Option<String>,
    external_id: Option<String>,
    metadata: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = crate::StoreError;

    fn try_from(row: UserRow) -> Result<User> {
        let metadata: Metadata = serde_json::from_str(&row.metadata).map_err(corrupt)?;
        Ok(User {
            name: display_name(row.first_name.as_deref(), row.last_name.as_deref()),
            id: UserId::from_trusted(row.id),
            email: Email::from_trusted(row.email),
            email_verified: row.email_verified,
            first_name: row.first_name,
            last_name: row.last_name,
            profile_picture_url: row.profile_picture_url,
            last_sign_in_at: row.last_sign_in_at.map(Timestamp::from_unix_ms),
            locale: row.locale,
            external_id: row.external_id,
            metadata,
            created_at: Timestamp::from_unix_ms(row.created_at),
            updated_at: Timestamp::from_unix_ms(row.updated_at),
        })
    }
}

fn metadata_text(metadata: &Metadata) -> Result<String> {
    serde_json::to_string(metadata).map_err(corrupt)
}

pub async fn insert(conn: Conn<'_>, user: &User, password_hash: Option<&str>) -> Result<()> {
    let sql = format!(
        "INSERT INTO users ({COLUMNS}, password_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
    );
    let values = values![
        user.id.as_str(),
        user.email.as_str(),
        user.email_verified,
        &user.first_name,
        &user.last_name,
        &user.profile_picture_url,
        user.last_sign_in_at,
        &user.locale,
        &user.external_id,
        metadata_text(&user.metadata)?,
        user.created_at,
        user.updated_at,
        password_hash,
    ];
    execute(conn, &sql, &values).await?;
    Ok(())
}

/// Writes every mutable field of `user`.
pub async fn update(conn: Conn<'_>, user: &User) -> Result<()> {
    let sql = "UPDATE users SET email = $2, email_verified = $3, first_name = $4, last_name = $5, \
        profile_picture_url = $6, last_sign_in_at = $7, locale = $8, external_id = $9, metadata = $10, \
        updated_at = $11 WHERE id = $1";
    let values = values![
        user.id.as_str(),
        user.email.as_str(),
        user.email_verified,
        &user.first_name,
        &user.last_name,
        &user.profile_picture_url,
        user.last_sign_in_at,
        &user.locale,
        &user.external_id,
        metadata_text(&user.metadata)?,
        user.updated_at,
    ];
    execute(conn, sql, &values).await?;
    Ok(())
}

pub async fn set_password_hash(conn: Conn<'_>, id: &UserId, password_hash: &str, at: Timestamp) -> Result<()> {
    execute(
        conn,
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1",
        &values![id.as_str(), password_hash, at],
    )
    .await?;
    Ok(())
}

/// Records a completed sign-in.
pub async fn set_email_verified(conn: Conn<'_>, id: &UserId, at: Timestamp) -> Result<()> {
    execute(conn, "UPDATE users SET email_verified = TRUE, updated_at = $2 WHERE id = $1", &values![id.as_str(), at])
        .await?;
    Ok(())
}

pub async fn record_sign_in(conn: Conn<'_>, id: &UserId, at: Timestamp) -> Result<()> {
    execute(conn, "UPDATE users SET last_sign_in_at = $2 WHERE id = $1", &values![id.as_str(), at]).await?;
    Ok(())
}

pub async fn password_hash(conn: Conn<'_>, id: &UserId) -> Result<Option<String>> {
    #[derive(sqlx::FromRow)]
    struct HashRow {
        password_hash: Option<String>,
    }
    let row: Option<HashRow> =
        fetch_optional(conn, "SELECT password_hash FROM users WHERE id = $1", &values![id.as_str()]).await?;
    Ok(row.and_then(|r| r.password_hash))
}

async fn get_where(conn: Conn<'_>, condition: &str, value: Value) -> Result<Option<User>> {
    let sql = format!("SELECT {COLUMNS} FROM users WHERE {condition} = $1");
    let row: Option<UserRow> = fetch_optional(conn, &sql, &[value]).await?;
    row.map(User::try_from).transpose()
}

pub async fn get(conn: Conn<'_>, id: &UserId) -> Result<Option<User>> {
    get_where(conn, "id", id.as_str().into()).await
}

pub async fn get_by_email(conn: Conn<'_>, email: &Email) -> Result<Option<User>> {
    get_where(conn, "email", email.as_str().into()).await
}

pub async fn get_by_external_id(conn: Conn<'_>, external_id: &str) -> Result<Option<User>> {
    get_where(conn, "external_id", external_id.into()).await
}

/// Loads several users at once, in no particular order.
pub async fn get_many(conn: Conn<'_>, ids: impl IntoIterator<Item = &UserId>) -> Result<Vec<User>> {
    let mut values = Vec::new();
    let list = in_list(&mut values, ids.into_iter().map(|id| id.as_str().to_owned()));
    let sql = format!("SELECT {COLUMNS} FROM users WHERE id IN ({list})");
    let rows: Vec<UserRow> = fetch_all(conn, &sql, &values).await?;
    rows.into_iter().map(User::try_from).collect()
}

/// Deletes a user; their memberships go with them. Returns whether the user existed.
pub async fn delete(mut conn: Conn<'_>, id: &UserId) -> Result<bool> {
    let deleted = execute(conn.reborrow(), "DELETE FROM users WHERE id = $1", &values![id.as_str()]).await? > 0;
    // The memberships that went with the user are no longer held.
    crate::authorization::bump_version(conn).await?;
    Ok(deleted)
}

#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub email: Option<Email>,
    pub organization_id: Option<OrganizationId>,
}

pub async fn list(conn: Conn<'_>, filter: &UserFilter, request: &PageRequest) -> Result<Page<User>> {
    let mut sql = format!("SELECT {COLUMNS} FROM users WHERE 1 = 1");
    let mut values = Vec::new();
    if let Some(email) = &filter.email {
        values.push(Value::from(email.as_str()));
        sql.push_str(&format!(" AND email = ${}", values.len()));
    }
    if let Some(org) = &filter.organization_id {
        values.push(Value::from(org.as_str()));
        sql.push_str(&format!(
            " AND id IN (SELECT user_id FROM organization_memberships WHERE organization_id = ${})",
            values.len()
        ));
    }
    page::apply(&mut sql, &mut values, "id", request);
    let rows: Vec<UserRow> = fetch_all(conn, &sql, &values).await?;
    let users = rows.into_iter().map(User::try_from).collect::<Result<Vec<_>>>()?;
    Ok(page::finish(users, request, |u| u.id.to_string()))
}
