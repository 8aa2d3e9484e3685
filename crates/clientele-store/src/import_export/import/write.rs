//! One row's commands written in one transaction (a customer and its visibility
//! overrides), its refusals told by the file's columns; and the report's counts.

use clientele_domain::customer::{Customer, CustomerCommand, CustomerError};

use super::{Checked, Importer, Outcome};
use crate::import_export::row::Row;
use crate::import_export::{ImportError, ImportReport, RowFailure, MAX_REPORTED_FAILURES};
use crate::CommandError;

impl Importer<'_> {
    /// Writes a row's command, then (in the same transaction, all or nothing) the
    /// setProductVisibility commands of its visibility columns (`then`).
    pub(super) async fn write(
        &self,
        row: &Row<'_>,
        id: &str,
        command: CustomerCommand,
        then: Vec<(String, CustomerCommand)>,
        parent_column: Option<&'static str>,
        outcome: Outcome,
    ) -> Result<Checked, ImportError> {
        let result = match then.is_empty() {
            true => self
                .store
                .execute::<Customer>(id, command, &self.metadata)
                .await
                .map(drop)
                .map_err(|error| (0, error)),
            false => {
                let mut commands = vec![command];
                commands.extend(then.iter().map(|(_, command)| command.clone()));
                self.store
                    .execute_all::<Customer>(id, commands, &self.metadata)
                    .await
                    .map(drop)
            }
        };
        // The column a refusal is told by: the visibility column of a visibility command,
        // the row's parent column for the parent.
        let column = |index: usize, field: &str| match (index, field) {
            (1.., _) => then[index - 1].0.clone(),
            (0, "parentId") => parent_column.unwrap_or("parentId").to_string(),
            (0, field) => field.to_string(),
        };
        match result {
            Ok(()) => Ok(Ok(outcome)),
            Err((index, CommandError::Rejected(CustomerError::Invalid(violations)))) => {
                Ok(Err(violations
                    .into_iter()
                    .map(|v| row.failure(&column(index, &v.field), v.rule.as_str(), v.message))
                    .collect()))
            }
            Err((_, CommandError::Duplicate { field })) => Ok(Err(vec![row.failure(
                field,
                "UNIQUE",
                format!("another customer of this tenant already has this {field}"),
            )])),
            Err((_, CommandError::Store(error))) => Err(error.into()),
            Err((_, other)) => Ok(Err(vec![RowFailure {
                line: row.line,
                column: None,
                rule: "REFUSED".into(),
                message: other.to_string(),
            }])),
        }
    }
}

impl ImportReport {
    pub(super) fn note(&mut self, failures: Vec<RowFailure>) {
        let room = MAX_REPORTED_FAILURES.saturating_sub(self.failures.len());
        self.failures.extend(failures.into_iter().take(room));
    }

    /// Counts one more failed row for each failure.
    pub(super) fn note_each(&mut self, failures: Vec<RowFailure>) {
        for failure in failures {
            self.tally(Err(vec![failure]));
        }
    }

    /// Counts a decided row (a row still waiting for its parent is counted once decided).
    pub(super) fn tally(&mut self, outcome: Checked) {
        match outcome {
            Ok(Outcome::Created) => self.created += 1,
            Ok(Outcome::Updated) => self.updated += 1,
            Ok(Outcome::Skipped) => self.skipped += 1,
            Ok(Outcome::Deferred(_)) => unreachable!("a waiting row is counted once decided"),
            Err(failures) => {
                self.failed += 1;
                self.note(failures);
            }
        }
    }
}
