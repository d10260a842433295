//! Every line of Portico's SQL. One `Db` over SQLite or PostgreSQL; each aggregate has its own
//! module; both engines run the same portable statements, and where they differ the two
//! versions sit side by side in the module that needs them.
//!
//! Functions take a `Conn`, borrowed either from a read connection (`Db::read`) or from a
//! transaction (`Db::begin`), so a use case can read and write inside one transaction.

/// Runs `$body` with `$c` bound to the concrete connection of whichever engine `$conn` is on.
/// The body is compiled once per engine, so both versions are type-checked.
macro_rules! run {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::Conn::Sqlite($c) => $body,
            $crate::db::Conn::Postgres($c) => $body,
        }
    };
}

/// Binds a list of `Value`s to a query in order, for statements built at run time.
macro_rules! bind_values {
    ($query:expr, $values:expr) => {{
        let mut query = $query;
        for value in $values {
            query = match value {
                $crate::page::Value::Text(text) => query.bind(text.clone()),
                $crate::page::Value::Int(int) => query.bind(*int),
                $crate::page::Value::Bool(flag) => query.bind(*flag),
                $crate::page::Value::NullText => query.bind(Option::<String>::None),
                $crate::page::Value::NullInt => query.bind(Option::<i64>::None),
            };
        }
        query
    }};
}

pub mod api_keys;
pub mod auth_factors;
pub mod authorization;
pub mod authorization_codes;
pub mod clients;
pub mod db;
pub mod email_outbox;
pub mod error;
pub mod events;
pub mod idempotency;
pub mod invitations;
pub mod memberships;
pub mod one_time_codes;
pub mod organization_domains;
pub mod organization_policies;
pub mod organizations;
pub mod page;
pub mod passkeys;
pub mod password_resets;
pub mod pending_authentications;
pub mod permissions;
pub mod rate_limits;
pub mod roles;
pub mod sessions;
pub mod settings;
pub mod sign_in_flows;
pub mod signing_keys;
pub mod users;

pub use db::{Conn, Db, Engine, Reader, Tx};
pub use error::{Result, StoreError};
pub use page::{Order, Page, PageRequest};
