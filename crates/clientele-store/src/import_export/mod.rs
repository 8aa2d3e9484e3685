//! CSV import and export of customers, with every column createCustomer takes.
//!
//! Rows are streamed: memory does not grow with the file. Each row is validated by the very
//! command `createCustomer` runs (`CustomerDraft::validate` inside the aggregate), so an
//! import obeys exactly the same rules. Re-importing a file creates no duplicates: a row
//! matches an existing customer by `customId` when it has one, else by name.
//!
//! The tree and product visibility travel too: `parent` (the parent's name, unique in a
//! tenant, where ids are not shared between tenants) or `parentId` (an existing customer's
//! id), and one `visible:KEY` column per catalogue product (the customer's own override:
//! `true`, `false`, or empty to follow the tenant's global setting). An export writes every
//! parent before its children; an import creates a row whose parent comes later in the
//! file once that parent is created (`import/parents.rs`).

mod export;
mod import;
mod records;
mod row;

use crate::StoreError;

pub use export::export_csv;
pub use import::Importer;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_round_trip_through_the_quote() {
        for cell in [
            "=1+1", "+33 1", "-5", "@SUM(A1)", "\tx", "\rx", "'=x", "''-1", "'", "plain", "'plain",
            "",
        ] {
            let out = neutralised(cell.to_string());
            assert!(!out.starts_with(FORMULA_STARTS), "{out:?}");
            assert_eq!(restored(&out), cell);
        }
    }

    #[test]
    fn headers_name_the_parent_and_catalogue_products_in_any_spelling() {
        let catalogue = ["CDN", "CLOUD_STORAGE"].map(|key| crate::CatalogueProduct {
            key: key.into(),
            name: key.into(),
            visible: false,
        });
        let headers = |names: &[&str]| names.iter().map(|h| h.to_string()).collect::<Vec<_>>();
        let mapped = row::map_header(
            &headers(&[
                "Name",
                "Parent",
                "parent_id",
                "visible:cdn",
                "Product Cloud Storage Visible",
            ]),
            &catalogue,
        )
        .unwrap();
        assert_eq!(
            mapped,
            [
                "name",
                "parent",
                "parentId",
                "visible:CDN",
                "visible:CLOUD_STORAGE"
            ]
        );
        let unknown = row::map_header(&headers(&["Name", "visible:WARP"]), &catalogue);
        assert!(matches!(unknown, Err(ImportError::UnknownProducts(p)) if p == ["visible:WARP"]));
        let unknown = row::map_header(&headers(&["Name", "Product Warp Visible"]), &catalogue);
        assert!(matches!(unknown, Err(ImportError::UnknownColumns(_))));
    }
}

/// How an import writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportMode {
    /// Validate every row; write nothing.
    DryRun,
    /// Validate every row first; write only if none fails.
    AllOrNothing,
    /// Write the valid rows; report the others.
    Partial,
}

/// What an import does with a row that matches an existing customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExisting {
    Skip,
    Update,
}

/// One row that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowFailure {
    /// The line in the file (the header is line 1).
    pub line: u64,
    /// The column, as named in the file's header, when one column is at fault.
    pub column: Option<String>,
    pub rule: String,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
    pub skipped: u64,
    pub failed: u64,
    /// The first `MAX_REPORTED_FAILURES` failures.
    pub failures: Vec<RowFailure>,
    /// The file's columns, as understood.
    pub columns: Vec<String>,
    /// True when nothing was written (dry run, or all-or-nothing with a failure).
    pub nothing_written: bool,
}

/// At most this many failures are listed (all are counted).
pub const MAX_REPORTED_FAILURES: usize = 1000;

/// Most fields a row (or the header) may have: more than there are columns, so a few
/// trailing empty cells still import. A row with more refuses the whole file.
pub const MAX_FIELDS_PER_ROW: usize = 64;
/// Longest field, in bytes. A longer one refuses the whole file.
pub const MAX_FIELD_BYTES: usize = 4096;

/// Cells that a spreadsheet would read as a formula (OWASP CSV injection) begin with one
/// of these; an export prefixes them with `'`, and an import takes that quote off again.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// True when the cell, past any leading quotes, begins like a formula.
fn formula_like(cell: &str) -> bool {
    cell.trim_start_matches('\'').starts_with(FORMULA_STARTS)
}

/// An exported cell: one more `'` in front of a cell that (past any quotes it already
/// begins with) a spreadsheet would take for a formula.
pub(crate) fn neutralised(cell: String) -> String {
    match formula_like(&cell) {
        true => format!("'{cell}"),
        false => cell,
    }
}

/// An imported cell: a cell that begins with `'` and then (past any further quotes) like a
/// formula loses one quote, so an export imports back exactly.
pub(crate) fn restored(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest) => rest,
        _ => cell,
    }
}

/// Why a file cannot be imported at all. Nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line} is not UTF-8: save the file as UTF-8 (a byte-order mark is fine)")]
    Encoding { line: u64 },
    #[error("line {line} has more than {MAX_FIELDS_PER_ROW} fields")]
    TooManyFields { line: u64 },
    #[error("line {line} has a field longer than {MAX_FIELD_BYTES} bytes")]
    FieldTooLong { line: u64 },
    #[error("the file has no header row with a Name column")]
    MissingName,
    #[error("unknown columns: {}; columns are named as in createCustomer's input (e.g. Name, Email, Given Name, shortname, Parent, Parent ID, visible:CDN)", .0.join(", "))]
    UnknownColumns(Vec<String>),
    #[error("columns name products the catalogue does not have: {}", .0.join(", "))]
    UnknownProducts(Vec<String>),
    #[error("the file is not valid CSV: {0}")]
    Csv(String),
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The customer fields as columns, by their input names; a header may name them in any
/// case, with or without spaces, `_` and `-`. `parent` is the parent's name. An export
/// writes these, then one `visible:KEY` column per catalogue product.
const COLUMNS: [&str; 26] = [
    "name",
    "email",
    "givenName",
    "familyName",
    "organization",
    "shortname",
    "type",
    "serviceStatus",
    "contractualFlowsPerSecond",
    "multiAccount",
    "internal",
    "testAccount",
    "dataRetentionDays",
    "rollupRetentionDays",
    "language",
    "seller",
    "customId",
    "title",
    "country",
    "city",
    "address",
    "phone",
    "state",
    "zip",
    "address2",
    "parent",
];

/// Columns an import reads that an export does not write: `parentId`, an existing
/// customer's id (ids are not shared between tenants, so an export names the parent).
const IMPORT_ONLY: [&str; 1] = ["parentId"];

/// The prefix of a product visibility column: `visible:CDN`.
const VISIBLE_PREFIX: &str = "visible:";
