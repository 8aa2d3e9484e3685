//! Running statements: on a pool, or in a transaction (`Tx`), through one `Executor`.

use sqlx::{Postgres, Sqlite, Transaction};

use super::{AnyRow, Arg, Backend, Db};
use crate::StoreError;

/// Binds every argument, in order, to a query of either backend.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(v) => query.bind(v.clone()),
                Arg::OptText(v) => query.bind(v.clone()),
                Arg::Int(v) => query.bind(*v),
                Arg::OptInt(v) => query.bind(*v),
                Arg::Bool(v) => query.bind(*v),
            };
        }
        query
    }};
}

/// A write transaction on either backend.
pub enum Tx {
    Pg(Transaction<'static, Postgres>),
    Lite(Transaction<'static, Sqlite>),
}

impl Tx {
    pub fn backend(&self) -> Backend {
        match self {
            Tx::Pg(_) => Backend::Postgres,
            Tx::Lite(_) => Backend::Sqlite,
        }
    }

    /// Runs a statement and returns how many rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64, StoreError> {
        Executor::Tx(self).execute(sql, args).await
    }

    pub async fn fetch_optional<T: AnyRow>(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<T>, StoreError> {
        Executor::Tx(self).fetch_optional(sql, args).await
    }

    pub async fn fetch_all<T: AnyRow>(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Vec<T>, StoreError> {
        Executor::Tx(self).fetch_all(sql, args).await
    }

    /// As `Db::fetch_all_planned`, in the transaction.
    pub async fn fetch_all_planned<T: AnyRow>(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Vec<T>, StoreError> {
        Executor::Tx(self).fetch_all_planned(sql, args).await
    }

    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Pg(tx) => tx.commit().await?,
            Tx::Lite(tx) => tx.commit().await?,
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), StoreError> {
        match self {
            Tx::Pg(tx) => tx.rollback().await?,
            Tx::Lite(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}

/// Where a statement runs: on a pool (a connection of its own for one statement, no
/// transaction: one round trip) or inside an open transaction. Code that reads the same
/// way in both is written once over this type.
pub enum Executor<'a> {
    Pool(&'a Db),
    Tx(&'a mut Tx),
}

impl<'a> From<&'a Db> for Executor<'a> {
    fn from(db: &'a Db) -> Self {
        Executor::Pool(db)
    }
}

impl<'a> From<&'a mut Tx> for Executor<'a> {
    fn from(tx: &'a mut Tx) -> Self {
        Executor::Tx(tx)
    }
}

/// Runs `$body` with `$on` bound to the sqlx executor behind an `Executor`: a pool (on
/// SQLite the `$sqlite` one, `read` or `write`) or a transaction's connection. Each arm is
/// typed for its own backend.
macro_rules! on_executor {
    ($executor:expr, $sqlite:ident, |$on:ident| $body:expr) => {
        match $executor {
            Executor::Pool(Db::Postgres(pool)) => {
                let $on = pool;
                $body
            }
            Executor::Pool(Db::Sqlite { $sqlite, .. }) => {
                let $on = $sqlite;
                $body
            }
            Executor::Tx(Tx::Pg(tx)) => {
                let $on = &mut **tx;
                $body
            }
            Executor::Tx(Tx::Lite(tx)) => {
                let $on = &mut **tx;
                $body
            }
        }
    };
}

impl Executor<'_> {
    pub fn backend(&self) -> Backend {
        match self {
            Executor::Pool(db) => db.backend(),
            Executor::Tx(tx) => tx.backend(),
        }
    }

    /// Runs a statement and returns how many rows it changed (on a SQLite pool, through
    /// the one writer).
    pub async fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64, StoreError> {
        Ok(on_executor!(self, write, |on| bind_args!(
            sqlx::query(sql),
            args
        )
        .execute(on)
        .await?
        .rows_affected()))
    }

    pub async fn fetch_optional<T: AnyRow>(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<T>, StoreError> {
        Ok(on_executor!(self, read, |on| bind_args!(
            sqlx::query_as(sql),
            args
        )
        .fetch_optional(on)
        .await?))
    }

    pub async fn fetch_all<T: AnyRow>(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Vec<T>, StoreError> {
        self.fetch_all_prepared(sql, args, true).await
    }

    /// As `Db::fetch_all_planned`.
    pub async fn fetch_all_planned<T: AnyRow>(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Vec<T>, StoreError> {
        self.fetch_all_prepared(sql, args, false).await
    }

    async fn fetch_all_prepared<T: AnyRow>(
        &mut self,
        sql: &str,
        args: &[Arg],
        persistent: bool,
    ) -> Result<Vec<T>, StoreError> {
        // SQLite plans every statement afresh anyway: it keeps its prepared statements.
        let persistent = persistent || self.backend() == Backend::Sqlite;
        Ok(on_executor!(self, read, |on| bind_args!(
            sqlx::query_as(sql),
            args
        )
        .persistent(persistent)
        .fetch_all(on)
        .await?))
    }

    pub async fn fetch_scalar(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<i64>, StoreError> {
        Ok(on_executor!(self, read, |on| bind_args!(
            sqlx::query_scalar(sql),
            args
        )
        .fetch_optional(on)
        .await?))
    }
}
