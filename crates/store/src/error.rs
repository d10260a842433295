use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A unique index refused the write; `index` names it (`uq_users_email`).
    #[error("unique constraint {index} violated")]
    Unique { index: String },
    /// A row still referenced elsewhere, or a reference to a missing row.
    #[error("foreign key constraint violated")]
    ForeignKey,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub type Result<T> = std::result::Result<T, StoreError>;

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error {
            if db.is_unique_violation() {
                return StoreError::Unique { index: unique_index_name(db.as_ref()) };
            }
            if db.is_foreign_key_violation() {
                return StoreError::ForeignKey;
            }
        }
        StoreError::Database(error)
    }
}

/// PostgreSQL names the violated index; SQLite names the columns
/// (`UNIQUE constraint failed: users.email`), from which the same index name is rebuilt.
fn unique_index_name(error: &dyn sqlx::error::DatabaseError) -> String {
    if let Some(name) = error.constraint() {
        return name.to_owned();
    }
    let message = error.message();
    let columns = message.rsplit(": ").next().unwrap_or_default();
    let mut parts = columns.split(", ");
    let first = parts.next().unwrap_or_default();
    let table = first.split('.').next().unwrap_or_default();
    let mut name = format!("uq_{table}");
    for column in columns.split(", ") {
        name.push('_');
        name.push_str(column.rsplit('.').next().unwrap_or_default());
    }
    // Composite indexes are named after their table and a short purpose, not every column.
    match name.as_str() {
        "uq_organization_memberships_user_id_organization_id" => "uq_organization_memberships_user_org".to_owned(),
        _ if table == "roles" => "uq_roles_slug".to_owned(),
        _ => name,
    }
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
