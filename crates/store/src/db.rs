//! The connection pools and the one place where the engine is chosen.

use crate::error::Result;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn name(self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Postgres => "postgres",
        }
    }
}

/// A handle on the database. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Db {
    /// SQLite allows one writer at a time: writes go through a one-connection pool so that
    /// transactions queue in Portico instead of failing with `SQLITE_BUSY`; reads run in
    /// parallel on their own pool (WAL mode).
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Postgres {
        pool: PgPool,
    },
}

/// How long a PostgreSQL connection may sit idle in the pool before it is pinged on acquire.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(1);

/// Pool sizing and time-outs.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings { max_connections: 16, acquire_timeout: Duration::from_secs(5) }
    }
}

impl Db {
    /// Opens (creating if needed) an SQLite database file.
    pub async fn open_sqlite(path: &Path, settings: &PoolSettings) -> Result<Db> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            .statement_cache_capacity(256);
        // An SQLite connection lives in this process and cannot be dropped by a server: the
        // liveness ping sqlx runs on every acquire by default would only add a round trip
        // through the connection's worker thread to every query.
        let write = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(1)
            .acquire_timeout(settings.acquire_timeout.max(Duration::from_secs(30)))
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .test_before_acquire(false)
            .max_connections(settings.max_connections.clamp(1, 64))
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options.read_only(false))
            .await?;
        Ok(Db::Sqlite { read, write })
    }

    /// Connects to PostgreSQL. With `schema`, every connection works inside that schema
    /// (creating it if needed), which lets tests share one database.
    pub async fn open_postgres(url: &str, schema: Option<&str>, settings: &PoolSettings) -> Result<Db> {
        let mut options = PgConnectOptions::from_str(url)?;
        if let Some(schema) = schema {
            let bootstrap = PgPoolOptions::new().max_connections(1).connect_with(options.clone()).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA IF NOT EXISTS \"{}\"", schema.replace('"', ""))))
                .execute(&bootstrap)
                .await?;
            bootstrap.close().await;
            options = options.options([("search_path", schema)]);
        }
        // A pooled connection is pinged before use only when it sat idle (a restarted or
        // failed-over server may have dropped it meanwhile); under load connections are never
        // idle that long, so queries do not pay an extra round trip each.
        let pool = PgPoolOptions::new()
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= IDLE_BEFORE_PING {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .max_connections(settings.max_connections.max(1))
            .acquire_timeout(settings.acquire_timeout)
            .connect_with(options)
            .await?;
        Ok(Db::Postgres { pool })
    }

    /// Opens the database a URL names: `postgres://…` / `postgresql://…`, or `sqlite://PATH`.
    pub async fn open_url(url: &str, settings: &PoolSettings) -> Result<Db> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            Db::open_sqlite(Path::new(path), settings).await
        } else {
            Db::open_postgres(url, None, settings).await
        }
    }

    pub fn engine(&self) -> Engine {
        match self {
            Db::Sqlite { .. } => Engine::Sqlite,
            Db::Postgres { .. } => Engine::Postgres,
        }
    }

    /// Applies pending migrations. On PostgreSQL an advisory lock lets several nodes start at
    /// once safely.
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Db::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await?,
            Db::Postgres { pool } => POSTGRES_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// Versions of the migrations this build carries, and of those already applied.
    pub async fn migration_status(&self) -> Result<(Vec<i64>, Vec<i64>)> {
        let (known, applied) = match self {
            Db::Sqlite { read, .. } => (
                SQLITE_MIGRATIONS.iter().map(|m| m.version).collect(),
                sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                    .fetch_all(read)
                    .await
                    .unwrap_or_default(),
            ),
            Db::Postgres { pool } => (
                POSTGRES_MIGRATIONS.iter().map(|m| m.version).collect(),
                sqlx::query_scalar::<_, i64>("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
                    .fetch_all(pool)
                    .await
                    .unwrap_or_default(),
            ),
        };
        Ok((known, applied))
    }

    /// A connection for reads outside any transaction.
    pub async fn read(&self) -> Result<Reader> {
        Ok(match self {
            Db::Sqlite { read, .. } => Reader::Sqlite(read.acquire().await?),
            Db::Postgres { pool } => Reader::Postgres(pool.acquire().await?),
        })
    }

    /// Starts a transaction. Nothing it writes is visible until `Tx::commit`; dropping it rolls
    /// back.
    pub async fn begin(&self) -> Result<Tx> {
        Ok(match self {
            Db::Sqlite { write, .. } => Tx::Sqlite(write.begin().await?),
            Db::Postgres { pool } => Tx::Postgres(pool.begin().await?),
        })
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<()> {
        let mut reader = self.read().await?;
        run!(reader.conn(), c => sqlx::query("SELECT 1").execute(&mut *c).await.map(|_| ())?);
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
            Db::Postgres { pool } => pool.close().await,
        }
    }
}

/// A pooled connection for reads.
pub enum Reader {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Reader {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Reader::Sqlite(c) => Conn::Sqlite(c),
            Reader::Postgres(c) => Conn::Postgres(c),
        }
    }
}

/// An open transaction.
pub enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(t) => Conn::Sqlite(t),
            Tx::Postgres(t) => Conn::Postgres(t),
        }
    }

    pub async fn commit(self) -> Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// A borrowed connection on either engine, from a `Reader` or a `Tx`.
pub enum Conn<'a> {
    Sqlite(&'a mut SqliteConnection),
    Postgres(&'a mut PgConnection),
}

impl Conn<'_> {
    /// Borrows the same connection again, to pass it to another store function.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Conn::Sqlite(c) => Conn::Sqlite(c),
            Conn::Postgres(c) => Conn::Postgres(c),
        }
    }
}

use crate::page::Value;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;

// Every statement Portico runs is assembled from constant SQL fragments and `$n` placeholders;
// values are always bound, never spliced into the text. That is the audit `AssertSqlSafe` asks for.

/// A row type readable on both engines.
pub(crate) trait AnyRow:
    for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin
{
}

impl<T> AnyRow for T where T: for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin {}

pub(crate) async fn fetch_all<R: AnyRow>(conn: Conn<'_>, sql: &str, values: &[Value]) -> Result<Vec<R>> {
    Ok(
        run!(conn, c => bind_values!(sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql)), values).fetch_all(&mut *c).await?),
    )
}

pub(crate) async fn fetch_optional<R: AnyRow>(conn: Conn<'_>, sql: &str, values: &[Value]) -> Result<Option<R>> {
    Ok(
        run!(conn, c => bind_values!(sqlx::query_as::<_, R>(sqlx::AssertSqlSafe(sql)), values).fetch_optional(&mut *c).await?),
    )
}

/// Runs a statement and returns how many rows it touched.
pub(crate) async fn execute(conn: Conn<'_>, sql: &str, values: &[Value]) -> Result<u64> {
    Ok(
        run!(conn, c => bind_values!(sqlx::query(sqlx::AssertSqlSafe(sql)), values).execute(&mut *c).await?.rows_affected()),
    )
}

pub(crate) async fn fetch_count(conn: Conn<'_>, sql: &str, values: &[Value]) -> Result<i64> {
    Ok(
        run!(conn, c => bind_values!(sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql)), values).fetch_one(&mut *c).await?),
    )
}
