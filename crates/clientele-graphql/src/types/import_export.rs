//! CSV import: how an import writes, and what it did.

use async_graphql::{Enum, SimpleObject};

use clientele_store::import_export::{ImportReport, RowFailure};

/// How an import writes.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_store::import_export::ImportMode")]
pub enum ImportMode {
    /// Validate every row; write nothing.
    DryRun,
    /// Validate every row first; write only if none fails.
    AllOrNothing,
    /// Write the valid rows; report the others.
    Partial,
}

/// What to do with a row that matches an existing customer (by customId, else by name).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_store::import_export::OnExisting")]
pub enum OnExisting {
    /// Leave the existing customer as it is and count the row as skipped.
    Skip,
    /// Edit the existing customer with the row's values.
    Update,
}

/// A row that failed.
#[derive(SimpleObject, Debug, Clone)]
pub struct ImportFailure {
    /// The line in the file (the header is line 1).
    pub line: i64,
    /// The column at fault, when one is.
    pub column: Option<String>,
    /// The rule broken (REQUIRED, LENGTH, FORMAT, UNIQUE, …), as in `extensions.rule`.
    pub rule: String,
    /// What is wrong, in a sentence.
    pub message: String,
}

/// What an import did.
#[derive(SimpleObject, Debug, Clone)]
pub struct ImportResult {
    /// Data rows read (the header not counted).
    pub rows: i64,
    /// Customers created.
    pub created: i64,
    /// Customers updated.
    pub updated: i64,
    /// Rows skipped (an existing customer, with onExisting SKIP).
    pub skipped: i64,
    /// Rows that failed.
    pub failed: i64,
    /// True for a dry run, or an all-or-nothing import with a failure.
    pub nothing_written: bool,
    /// The file's columns, as understood: input names, `parent` (a name), `parentId`, and
    /// `visible:KEY` for a product's visibility.
    pub columns: Vec<String>,
    /// The first 1,000 failures (all are counted in `failed`).
    pub failures: Vec<ImportFailure>,
}

impl From<RowFailure> for ImportFailure {
    fn from(f: RowFailure) -> Self {
        ImportFailure {
            line: f.line as i64,
            column: f.column,
            rule: f.rule,
            message: f.message,
        }
    }
}

impl From<ImportReport> for ImportResult {
    fn from(r: ImportReport) -> Self {
        ImportResult {
            rows: r.rows as i64,
            created: r.created as i64,
            updated: r.updated as i64,
            skipped: r.skipped as i64,
            failed: r.failed as i64,
            nothing_written: r.nothing_written,
            columns: r.columns,
            failures: r.failures.into_iter().map(Into::into).collect(),
        }
    }
}
