//! One interface over the two backends: PostgreSQL pools and an embedded SQLite file.
//!
//! Most SQL is shared: both backends take `$1`-style placeholders, and read models use
//! types both understand (text, integers, booleans). What differs (the event log's global
//! order) is written per backend in `events/`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow, SqliteSynchronous,
};
use sqlx::{FromRow, PgPool, SqlitePool};

use crate::StoreError;

mod batch;
mod executor;

pub(crate) use batch::Batch;

pub use executor::{Executor, Tx};

static PG_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");

/// Which backend a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Connection pools of either backend.
#[derive(Debug, Clone)]
pub enum Db {
    Postgres(PgPool),
    /// SQLite takes one writer at a time: a one-connection pool serialises every write
    /// transaction (so commit order is position order), and readers use their own pool.
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
}

/// A value bound to a `$n` placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Arg::Text(value.to_string())
    }
}

impl From<String> for Arg {
    fn from(value: String) -> Self {
        Arg::Text(value)
    }
}

impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Arg::Int(value)
    }
}

/// A row type that decodes from both backends.
pub trait AnyRow:
    Send + Unpin + for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow>
{
}
impl<T> AnyRow for T where
    T: Send + Unpin + for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow>
{
}

/// Settings for opening a store.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// `postgres://…`, `sqlite://path` or `sqlite::memory:`-style URL.
    pub url: String,
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Db {
    /// Opens pools for the URL's backend; a SQLite file (and its folder) is created if missing.
    pub async fn connect(options: &ConnectOptions) -> Result<Self, StoreError> {
        let url = options.url.as_str();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .acquire_timeout(options.acquire_timeout)
                .connect(url)
                .await?;
            return Ok(Db::Postgres(pool));
        }
        if let Some(path) = url.strip_prefix("sqlite://") {
            if let Some(parent) =
                std::path::Path::new(path.split('?').next().unwrap_or(path)).parent()
            {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent).map_err(|e| {
                        StoreError::Config(format!(
                            "cannot create the data directory {}: {e}",
                            parent.display()
                        ))
                    })?;
                }
            }
            let connect = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // FULL: an acknowledged write survives a power cut, not only a crash.
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                // Deleted content is overwritten, so erased personal data leaves no trace in the file.
                .pragma("secure_delete", "on")
                .foreign_keys(true);
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect.clone())
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(options.max_connections.clamp(1, 16))
                .acquire_timeout(options.acquire_timeout)
                .connect_with(connect)
                .await?;
            return Ok(Db::Sqlite { read, write });
        }
        Err(StoreError::Config(format!(
            "unsupported database URL (expected postgres://… or sqlite://…): {}",
            redact(url)
        )))
    }

    /// Each pool by name with its open and idle connections, for metrics.
    pub fn pool_usage(&self) -> Vec<(&'static str, u32, usize)> {
        match self {
            Db::Postgres(pool) => vec![("postgres", pool.size(), pool.num_idle())],
            Db::Sqlite { read, write } => vec![
                ("sqlite_read", read.size(), read.num_idle()),
                ("sqlite_write", write.size(), write.num_idle()),
            ],
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Postgres(_) => Backend::Postgres,
            Db::Sqlite { .. } => Backend::Sqlite,
        }
    }

    fn migrator(&self) -> &'static Migrator {
        match self {
            Db::Postgres(_) => &PG_MIGRATIONS,
            Db::Sqlite { .. } => &SQLITE_MIGRATIONS,
        }
    }

    /// Applies every migration not yet applied. Safe to run from several instances at once.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self {
            Db::Postgres(pool) => self.migrator().run(pool).await?,
            Db::Sqlite { write, .. } => self.migrator().run(write).await?,
        }
        // Derived columns a migration changed the meaning of, recomputed from the rows.
        crate::profile::refresh_search_text(self).await
    }

    /// True when the store answers and every migration this build knows is applied.
    pub async fn is_ready(&self) -> bool {
        let known = self.migrator().iter().count() as i64;
        let applied: Result<Option<i64>, _> = self
            .fetch_scalar("SELECT count(*) FROM _sqlx_migrations WHERE success", &[])
            .await;
        matches!(applied, Ok(Some(n)) if n >= known)
    }

    /// After a commit that erased personal data: on SQLite, copies the WAL into the database
    /// file and truncates it to zero bytes, so the old page images that still held the
    /// erased values leave the `-wal` file (freed pages were already zeroed: secure_delete).
    /// TRUNCATE waits (busy timeout) for readers of older snapshots; if one still holds the
    /// log, it is tried again a few times and then logged. PostgreSQL keeps dead tuples
    /// and WAL until VACUUM and WAL recycling (README, "Erasure").
    pub async fn truncate_wal(&self) -> Result<(), StoreError> {
        let Db::Sqlite { write, .. } = self else {
            return Ok(());
        };
        for attempt in 1..=5 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(write)
                .await?;
            if busy == 0 {
                return Ok(());
            }
            tracing::warn!(
                attempt,
                "the WAL checkpoint after an erasure waited on a reader"
            );
            tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
        }
        tracing::error!("the WAL still holds page images from before an erasure; it is truncated at the next checkpoint");
        Ok(())
    }

    /// Starts a write transaction.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Postgres(pool) => Tx::Pg(pool.begin().await?),
            // IMMEDIATE takes the write lock up front: a deferred transaction that reads and
            // then writes gets SQLITE_BUSY at once (no busy wait) when another process, such as
            // `clientele import` beside a running server, committed in between.
            Db::Sqlite { write, .. } => Tx::Lite(write.begin_with("BEGIN IMMEDIATE").await?),
        })
    }

    /// Starts a transaction that only reads: on SQLite it takes a reader connection, so it
    /// never waits for (or holds up) the one writer.
    pub async fn begin_read(&self) -> Result<Tx, StoreError> {
        Ok(match self {
            Db::Postgres(pool) => Tx::Pg(pool.begin().await?),
            Db::Sqlite { read, .. } => Tx::Lite(read.begin().await?),
        })
    }

    /// One row or none, from a reader connection.
    pub async fn fetch_optional<T: AnyRow>(
        &self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<T>, StoreError> {
        Executor::Pool(self).fetch_optional(sql, args).await
    }

    /// Every row, from a reader connection.
    pub async fn fetch_all<T: AnyRow>(
        &self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Vec<T>, StoreError> {
        Executor::Pool(self).fetch_all(sql, args).await
    }

    /// As `fetch_all`, as an unnamed statement on PostgreSQL: planned for the values given
    /// each time, never with a cached generic plan. For skewed data, where the best plan
    /// depends on the value (one customer with a million rows next to customers with few).
    pub async fn fetch_all_planned<T: AnyRow>(
        &self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Vec<T>, StoreError> {
        Executor::Pool(self).fetch_all_planned(sql, args).await
    }

    /// One integer (or none), from a reader connection.
    pub async fn fetch_scalar(&self, sql: &str, args: &[Arg]) -> Result<Option<i64>, StoreError> {
        Executor::Pool(self).fetch_scalar(sql, args).await
    }

    pub async fn close(&self) {
        match self {
            Db::Postgres(pool) => pool.close().await,
            Db::Sqlite { read, write } => {
                read.close().await;
                write.close().await;
            }
        }
    }
}

/// An enum as the read models store it: its serde name (`SLG`, `TRIAL_ACTIVE`).
pub(crate) fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => name,
        _ => unreachable!("the enums read models store serialise as strings"),
    }
}

/// The enum a stored name stands for, if any.
pub(crate) fn enum_parse<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_string())).ok()
}

/// A time as the read models store it: microseconds since the epoch.
pub(crate) fn time(micros: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

/// Hides a password in a database URL before it is printed.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A keyset page read with `LIMIT first + 1`: the first `first` rows as records, and whether
/// the extra row said more follow.
pub(crate) fn keyset_page<R, T>(rows: Vec<R>, first: usize) -> Result<(Vec<T>, bool), StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    let more = rows.len() > first;
    let records = rows
        .into_iter()
        .take(first)
        .map(T::try_from)
        .collect::<Result<_, _>>()?;
    Ok((records, more))
}
