//! The machine's limit on the benchmark's own database, measured in the same run: plain
//! sqlx on a table shaped like the customers read model, one statement per transaction.

use std::sync::Arc;
use std::time::Duration;

use anyhow::ensure;

use super::drive::Op;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS bench_plain (\
     id text PRIMARY KEY, name text NOT NULL, organization text, shortname text, \
     account_status text NOT NULL, version bigint NOT NULL, created_at bigint NOT NULL)";
const CREATE_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS bench_plain_by_created ON bench_plain (created_at, id)";
const INSERT: &str = "INSERT INTO bench_plain (id, name, organization, shortname, account_status, version, created_at) \
     VALUES ($1, $2, 'Acme', NULL, 'ACTIVE', 1, $3)";
const SELECT: &str =
    "SELECT id, name, organization, shortname, account_status, version FROM bench_plain WHERE id = $1";
const NEWEST: &str =
    "SELECT id, name, organization, shortname, account_status, version FROM bench_plain \
     ORDER BY created_at DESC, id DESC LIMIT 50";

type Row = (String, String, Option<String>, Option<String>, String, i64);

/// Plain sqlx pools on the benchmark's database: 32 connections on PostgreSQL; on SQLite
/// one writer and 16 readers, like the server.
pub enum Plain {
    Postgres(sqlx::PgPool),
    Sqlite {
        write: sqlx::SqlitePool,
        read: sqlx::SqlitePool,
    },
}

impl Plain {
    pub async fn connect(url: &str) -> anyhow::Result<Plain> {
        if url.starts_with("postgres") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(32)
                .connect(url)
                .await?;
            sqlx::query(CREATE_TABLE).execute(&pool).await?;
            sqlx::query(CREATE_INDEX).execute(&pool).await?;
            return Ok(Plain::Postgres(pool));
        }
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        use std::str::FromStr;
        // The same settings and pools as the server: WAL, synchronous FULL, one writer.
        let options = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let write = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let read = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        sqlx::query(CREATE_TABLE).execute(&write).await?;
        sqlx::query(CREATE_INDEX).execute(&write).await?;
        Ok(Plain::Sqlite { write, read })
    }

    /// The database's version, as the report names it.
    pub async fn version(&self) -> anyhow::Result<String> {
        Ok(match self {
            Plain::Postgres(pool) => {
                sqlx::query_scalar::<_, String>("SELECT version()")
                    .fetch_one(pool)
                    .await?
            }
            Plain::Sqlite { read, .. } => format!(
                "SQLite {}",
                sqlx::query_scalar::<_, String>("SELECT sqlite_version()")
                    .fetch_one(read)
                    .await?
            ),
        })
    }

    /// One single-row INSERT transaction (autocommit).
    async fn insert(&self, i: usize) -> anyhow::Result<()> {
        let (id, name) = (format!("plain-{i}"), format!("customer {i}"));
        let created = chrono::Utc::now().timestamp_micros();
        match self {
            Plain::Postgres(pool) => {
                let query = sqlx::query(INSERT).bind(id).bind(name).bind(created);
                query.execute(pool).await?;
            }
            Plain::Sqlite { write, .. } => {
                let query = sqlx::query(INSERT).bind(id).bind(name).bind(created);
                query.execute(write).await?;
            }
        }
        Ok(())
    }

    /// One primary-key SELECT of a row.
    async fn select(&self, i: usize) -> anyhow::Result<()> {
        let id = format!("plain-{i}");
        let row = match self {
            Plain::Postgres(pool) => {
                let query = sqlx::query_as::<_, Row>(SELECT).bind(id);
                query.fetch_optional(pool).await?
            }
            Plain::Sqlite { read, .. } => {
                let query = sqlx::query_as::<_, Row>(SELECT).bind(id);
                query.fetch_optional(read).await?
            }
        };
        ensure!(row.is_some(), "plain row {i} is missing");
        Ok(())
    }

    /// The 50 newest rows.
    async fn newest(&self) -> anyhow::Result<()> {
        let rows = match self {
            Plain::Postgres(pool) => sqlx::query_as::<_, Row>(NEWEST).fetch_all(pool).await?,
            Plain::Sqlite { read, .. } => sqlx::query_as::<_, Row>(NEWEST).fetch_all(read).await?,
        };
        ensure!(rows.len() == 50, "{} newest plain rows, not 50", rows.len());
        Ok(())
    }

    pub async fn close(&self) {
        match self {
            Plain::Postgres(pool) => pool.close().await,
            Plain::Sqlite { write, read } => {
                write.close().await;
                read.close().await;
            }
        }
    }
}

/// One of the limit's operations, for [`super::drive::drive`].
pub enum Limit {
    /// INSERT row `offset + i`.
    Insert { plain: Arc<Plain>, offset: usize },
    /// SELECT row `i % rows` by its primary key.
    Select { plain: Arc<Plain>, rows: usize },
    /// SELECT the 50 newest rows.
    Newest { plain: Arc<Plain> },
}

impl Op for Limit {
    type Worker = ();

    async fn worker(&self) -> anyhow::Result<()> {
        Ok(())
    }

    async fn call(&self, _: &mut (), i: usize) -> anyhow::Result<()> {
        match self {
            Limit::Insert { plain, offset } => plain.insert(offset + i).await,
            Limit::Select { plain, rows } => plain.select(i % rows).await,
            Limit::Newest { plain } => plain.newest().await,
        }
    }
}
