//! Rows of one file checked against each other: two rows that share a name or shortname
//! (and, in `parents.rs`, a row whose parent is another row).

use std::collections::HashMap;

use clientele_domain::customer::normalise_name;

use super::Outcome;
use crate::import_export::row::Row;
use crate::import_export::{ImportReport, RowFailure};

/// The names and shortnames seen so far in a validating pass, by the line that has them,
/// and how each line came out (`None`: failed).
#[derive(Default)]
pub(super) struct InFile {
    pub(super) names: HashMap<String, u64>,
    shortnames: HashMap<String, u64>,
    pub(super) outcomes: HashMap<u64, Option<Outcome>>,
    /// Lines whose parent is no customer: the parent's normalised name and the column's
    /// header (`parents.rs`).
    pub(super) waiting: HashMap<u64, (String, String)>,
}

impl InFile {
    /// This row's failures for sharing a name or shortname with an earlier row, and the
    /// earlier rows' failures for sharing theirs with this one.
    pub(super) fn check(&mut self, row: &Row<'_>) -> (Vec<RowFailure>, Vec<(u64, RowFailure)>) {
        let Ok(draft) = row.draft() else {
            return (vec![], vec![]);
        };
        let mut mine = Vec::new();
        let mut earlier = Vec::new();
        let shortname = draft
            .shortname
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let keys = [
            ("name", Some(normalise_name(&draft.name)), &mut self.names),
            ("shortname", shortname, &mut self.shortnames),
        ];
        for (column, key, seen) in keys {
            let Some(key) = key else { continue };
            match seen.get(&key) {
                Some(&first) => {
                    let message =
                        |other: u64| format!("line {other} of this file has the same {column}");
                    mine.push(row.failure(column, "UNIQUE", message(first)));
                    let mut theirs = row.failure(column, "UNIQUE", message(row.line));
                    theirs.line = first;
                    earlier.push((first, theirs));
                }
                None => {
                    seen.insert(key, row.line);
                }
            }
        }
        (mine, earlier)
    }

    /// Counts an earlier line as failed (once) and reports why.
    pub(super) fn fail_earlier(
        &mut self,
        report: &mut ImportReport,
        line: u64,
        failure: RowFailure,
    ) {
        if let Some(slot) = self.outcomes.get_mut(&line) {
            match slot.take() {
                Some(Outcome::Created) => report.created -= 1,
                Some(Outcome::Updated) => report.updated -= 1,
                Some(Outcome::Skipped) => report.skipped -= 1,
                Some(Outcome::Deferred(_)) => {
                    unreachable!("a check counts a waiting row as created")
                }
                None => report.failed -= 1,
            }
            report.failed += 1;
        }
        report.note(vec![failure]);
    }
}
