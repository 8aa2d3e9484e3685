//! Importing a file: each row is its own createCustomer (or editCustomer) command, decided
//! by the same rules; runs of new customers are written a batch per transaction.

use std::collections::HashMap;
use std::io::Read;

use clientele_domain::customer::{normalise_name, CustomerCommand, CustomerField, ParentFacts};

use super::records::{csv_reader, scan};
use super::row::{changes_from, map_header, ParentRef, Row};
use super::{restored, ImportError, ImportMode, ImportReport, OnExisting, RowFailure};
use crate::{EventMetadata, Store};

mod batch;
mod in_file;
mod parents;
mod write;

use in_file::InFile;
use parents::Waiting;

/// Rows read and written per batch.
const BATCH: usize = 256;

/// Everything an import needs besides the file.
pub struct Importer<'a> {
    pub store: &'a Store,
    pub metadata: EventMetadata,
    pub mode: ImportMode,
    pub on_existing: OnExisting,
    /// Forces the seller of created customers (a SELLER imports for itself).
    pub seller: Option<String>,
}

#[derive(Clone)]
enum Outcome {
    Created,
    Updated,
    Skipped,
    /// Not decided yet: the row's parent (this normalised name) is no customer yet, and a
    /// row of the file may create it.
    Deferred(String),
}

/// The customers a batch's rows may match, looked up for the whole batch at once: by
/// custom id, by normalised name, by lower-cased shortname (each to the customer's id).
#[derive(Default)]
struct Found {
    custom_ids: HashMap<String, String>,
    names: HashMap<String, String>,
    shortnames: HashMap<String, String>,
    /// The customers the rows name as their parents, by normalised name.
    parents: HashMap<String, String>,
}

/// A row's outcome, or why it failed.
type Checked = Result<Outcome, Vec<RowFailure>>;

/// What a row was decided to do.
enum Plan {
    /// Nothing to write (skipped, or a check without writing).
    Done(Outcome),
    /// The command to write for the row.
    Write {
        id: String,
        command: Box<CustomerCommand>,
        /// Product visibility overrides to set in the same transaction, by column.
        then: Vec<(String, CustomerCommand)>,
        /// The column the row named its parent in, when it has one.
        parent_column: Option<&'static str>,
        outcome: Outcome,
    },
}

impl Importer<'_> {
    /// Imports a file; `open` is called once per pass (twice for dry runs and
    /// all-or-nothing imports). `progress` is told the rows seen so far.
    pub async fn run<R: Read>(
        &self,
        open: impl Fn() -> std::io::Result<R>,
        mut progress: impl FnMut(u64),
    ) -> Result<ImportReport, ImportError> {
        let validate_first = self.mode != ImportMode::Partial;
        if !validate_first {
            // A file that cannot be read to its end (not UTF-8, too many or too long fields,
            // broken CSV) is refused before the first row is written: a partial import
            // writes only when it can report on every row.
            scan(open()?)?;
        }
        let mut report = self.pass(open()?, !validate_first, &mut progress).await?;
        if self.mode == ImportMode::DryRun
            || (self.mode == ImportMode::AllOrNothing && report.failed > 0)
        {
            report.nothing_written = true;
            return Ok(report);
        }
        if validate_first {
            report = self.pass(open()?, true, &mut progress).await?;
        }
        Ok(report)
    }

    async fn pass<R: Read>(
        &self,
        input: R,
        write: bool,
        progress: &mut impl FnMut(u64),
    ) -> Result<ImportReport, ImportError> {
        let mut reader = csv_reader(input)?;
        let headers: Vec<String> = match reader.next()? {
            true => reader.fields()?.map(|f| f.trim().to_string()).collect(),
            false => Vec::new(),
        };
        let catalogue = self.store.catalogue(&self.metadata.tenant).await?;
        let columns = map_header(&headers, &catalogue)?;
        let required = self
            .store
            .required_customer_fields(&self.metadata.tenant)
            .await?;
        let mut report = ImportReport {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            ..ImportReport::default()
        };
        let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
        let mut finished = false;
        let mut in_file = InFile::default();
        let mut waiting = Waiting::default();
        while !finished {
            // Read a batch of rows (memory stays bounded by the batch, not the file)...
            batch.clear();
            while batch.len() < BATCH {
                if !reader.next()? {
                    finished = true;
                    break;
                }
                let line = reader.line();
                let values: Vec<String> = reader
                    .fields()?
                    .map(|field| restored(field).to_string())
                    .collect();
                if values.iter().all(|v| v.trim().is_empty()) {
                    continue;
                }
                batch.push(Row {
                    line,
                    columns: &columns,
                    headers: &headers,
                    catalogue: &catalogue,
                    values,
                });
            }
            // ...and run it, keeping the file's order in the report.
            let outcomes = match write {
                true => self.write_batch(&batch, &required).await?,
                false => self.check_batch(&batch, &required).await?,
            };
            let mut created = Vec::new();
            for (row, outcome) in batch.drain(..).zip(outcomes) {
                report.rows += 1;
                let mut outcome = outcome;
                if let (false, Ok(Outcome::Deferred(parent))) = (write, &outcome) {
                    // A check: the parent is to be a row of the file, looked for at the end.
                    in_file.wait(&row, parent.clone());
                    outcome = Ok(Outcome::Created);
                }
                if !write {
                    // Rows are checked against each other too: two rows of one file that
                    // share a name or shortname fail, both of them.
                    let (others, earlier) = in_file.check(&row);
                    for (line, failure) in earlier {
                        in_file.fail_earlier(&mut report, line, failure);
                    }
                    if !others.is_empty() {
                        outcome = match outcome {
                            Ok(_) => Err(others),
                            Err(mut failures) => {
                                failures.extend(others);
                                Err(failures)
                            }
                        };
                    }
                    in_file
                        .outcomes
                        .insert(row.line, outcome.as_ref().ok().cloned());
                }
                match outcome {
                    Ok(Outcome::Deferred(parent)) => waiting.wait(row, parent),
                    Ok(Outcome::Created) => {
                        created.push(row.name());
                        report.tally(Ok(Outcome::Created));
                    }
                    other => report.tally(other),
                }
            }
            // Rows that waited for a customer this batch created are written now.
            self.write_released(&mut waiting, created, &required, &mut report)
                .await?;
            progress(report.rows);
        }
        match write {
            true => report.note_each(waiting.never_created()),
            false => in_file.resolve_parents(&mut report),
        }
        progress(report.rows);
        Ok(report)
    }

    /// Validates one row and, when `write`, writes it. A row that lost a race to create the
    /// same name (a duplicate within the file) is decided again as an existing customer.
    async fn row(
        &self,
        row: &Row<'_>,
        required: &[CustomerField],
        write: bool,
    ) -> Result<Checked, ImportError> {
        let first = self.row_single(row, required, write).await?;
        match &first {
            Err(failures)
                if failures.iter().any(|f| {
                    f.rule == "UNIQUE" && f.column.as_deref() == Some(&row.header_of("name"))
                }) =>
            {
                self.row_single(row, required, write).await
            }
            _ => Ok(first),
        }
    }

    /// Decides one row and writes it in its own transaction.
    async fn row_single(
        &self,
        row: &Row<'_>,
        required: &[CustomerField],
        write: bool,
    ) -> Result<Checked, ImportError> {
        Ok(match self.row_once(row, required, write, None).await? {
            Err(failures) => Err(failures),
            Ok(Plan::Done(outcome)) => Ok(outcome),
            Ok(Plan::Write {
                id,
                command,
                then,
                parent_column,
                outcome,
            }) => {
                self.write(row, &id, *command, then, parent_column, outcome)
                    .await?
            }
        })
    }

    /// Decides one row: what it would write (when `write`), or its outcome. Existing
    /// customers are found in `found` (looked up for the whole batch) or, without it, one
    /// query at a time.
    async fn row_once(
        &self,
        row: &Row<'_>,
        required: &[CustomerField],
        write: bool,
        found: Option<&Found>,
    ) -> Result<Result<Plan, Vec<RowFailure>>, ImportError> {
        let mut draft = match row.draft() {
            Ok(draft) => draft,
            Err(failures) => return Ok(Err(failures)),
        };
        if let Some(seller) = &self.seller {
            draft.seller = Some(seller.clone());
        }
        // The same validation createCustomer runs, before any lookup.
        if let Err(violations) = draft.validate(required) {
            return Ok(Err(row.violations(violations)));
        }
        let (parent, then) = match (row.parent(), row.visibility()) {
            (Ok(parent), Ok(then)) => (parent, then),
            (parent, then) => {
                let mut failures = parent.err().unwrap_or_default();
                failures.extend(then.err().unwrap_or_default());
                return Ok(Err(failures));
            }
        };
        let tenant = &self.metadata.tenant;
        let existing = match (&draft.custom_id, found) {
            (Some(custom_id), Some(found)) => found.custom_ids.get(custom_id.trim()).cloned(),
            (Some(custom_id), None) => {
                self.store
                    .customer_by_custom_id(tenant, custom_id.trim())
                    .await?
            }
            (None, _) => None,
        };
        let (existing, by_name) = match (existing, found) {
            (Some(id), _) => (Some(id), false),
            (None, Some(found)) => (found.names.get(&normalise_name(&draft.name)).cloned(), true),
            (None, None) => (
                self.store
                    .unique_owner(tenant, "name", &normalise_name(&draft.name))
                    .await?,
                true,
            ),
        };
        match existing {
            Some(_) if self.on_existing == OnExisting::Skip => Ok(Ok(Plan::Done(Outcome::Skipped))),
            Some(id) => {
                if !write {
                    return Ok(Ok(Plan::Done(Outcome::Updated)));
                }
                let command = CustomerCommand::EditCustomer {
                    expected_version: None,
                    changes: changes_from(draft, by_name),
                    required: required.to_vec(),
                };
                // An update sets the row's visibility too, but moves no customer: its
                // parent column is not applied.
                Ok(Ok(Plan::Write {
                    id,
                    command: Box::new(command),
                    then,
                    parent_column: None,
                    outcome: Outcome::Updated,
                }))
            }
            None => {
                if let Some(shortname) = &draft.shortname {
                    let key = shortname.trim().to_lowercase();
                    let taken = match found {
                        Some(found) => found.shortnames.get(&key).cloned(),
                        None => self.store.unique_owner(tenant, "shortname", &key).await?,
                    };
                    if taken.is_some() {
                        let message = "another customer of this tenant already has this shortname"
                            .to_string();
                        return Ok(Err(vec![row.failure("shortname", "UNIQUE", message)]));
                    }
                }
                let parent_facts = match &parent {
                    None => None,
                    Some(reference) => match self.parent_in_store(row, reference, found).await? {
                        Err(failures) => return Ok(Err(failures)),
                        Ok(Some(id)) => Some(ParentFacts::unchecked(id)),
                        // No customer has the name: a row of the file may create it.
                        Ok(None) => {
                            let ParentRef::Name(name) = reference else {
                                unreachable!("an unknown parentId is a failure")
                            };
                            return Ok(Ok(Plan::Done(Outcome::Deferred(name.clone()))));
                        }
                    },
                };
                if !write {
                    return Ok(Ok(Plan::Done(Outcome::Created)));
                }
                let command = CustomerCommand::CreateCustomer {
                    tenant: tenant.clone(),
                    draft,
                    required: required.to_vec(),
                    parent: parent_facts,
                    requested_name: None,
                    products: vec![],
                };
                Ok(Ok(Plan::Write {
                    id: uuid::Uuid::now_v7().to_string(),
                    command: Box::new(command),
                    then,
                    parent_column: parent.map(|p| p.column()),
                    outcome: Outcome::Created,
                }))
            }
        }
    }
}
