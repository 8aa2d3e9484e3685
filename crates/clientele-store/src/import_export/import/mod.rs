//! Importing a file: each row is its own createCustomer (or editCustomer) command, decided
//! by the same rules; runs of new customers are written a batch per transaction.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};

use clientele_domain::customer::{
    normalise_name, Customer, CustomerCommand, CustomerError, CustomerField,
};

use super::records::Records;
use super::row::{changes_from, map_header, Row};
use super::{
    restored, ImportError, ImportMode, ImportReport, OnExisting, RowFailure, MAX_REPORTED_FAILURES,
};
use crate::{CommandError, EventMetadata, Store};

mod batch;
mod in_file;

use in_file::InFile;

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

enum Outcome {
    Created,
    Updated,
    Skipped,
}

/// The customers a batch's rows may match, looked up for the whole batch at once: by
/// custom id, by normalised name, by lower-cased shortname (each to the customer's id).
#[derive(Default)]
struct Found {
    custom_ids: HashMap<String, String>,
    names: HashMap<String, String>,
    shortnames: HashMap<String, String>,
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
        let columns = map_header(&headers)?;
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
                    values,
                });
            }
            // ...and run it, keeping the file's order in the report.
            let outcomes = match write {
                true => self.write_batch(&batch, &required).await?,
                false => self.check_batch(&batch, &required).await?,
            };
            for (row, outcome) in batch.iter().zip(outcomes) {
                report.rows += 1;
                let mut outcome = outcome;
                if !write {
                    // Rows are checked against each other too: two rows of one file that
                    // share a name or shortname fail, both of them.
                    let (others, earlier) = in_file.check(row);
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
                        .insert(row.line, outcome.as_ref().ok().map(Outcome::kind));
                }
                match outcome {
                    Ok(Outcome::Created) => report.created += 1,
                    Ok(Outcome::Updated) => report.updated += 1,
                    Ok(Outcome::Skipped) => report.skipped += 1,
                    Err(failures) => {
                        report.failed += 1;
                        report.note(failures);
                    }
                }
            }
            progress(report.rows);
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
                outcome,
            }) => self.write(row, &id, *command, outcome).await?,
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
                Ok(Ok(Plan::Write {
                    id,
                    command: Box::new(command),
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
                if !write {
                    return Ok(Ok(Plan::Done(Outcome::Created)));
                }
                let command = CustomerCommand::CreateCustomer {
                    tenant: tenant.clone(),
                    draft,
                    required: required.to_vec(),
                    parent: None,
                    requested_name: None,
                    products: vec![],
                };
                Ok(Ok(Plan::Write {
                    id: uuid::Uuid::now_v7().to_string(),
                    command: Box::new(command),
                    outcome: Outcome::Created,
                }))
            }
        }
    }

    async fn write(
        &self,
        row: &Row<'_>,
        id: &str,
        command: CustomerCommand,
        outcome: Outcome,
    ) -> Result<Checked, ImportError> {
        match self
            .store
            .execute::<Customer>(id, command, &self.metadata)
            .await
        {
            Ok(_) => Ok(Ok(outcome)),
            Err(CommandError::Rejected(CustomerError::Invalid(violations))) => {
                Ok(Err(row.violations(violations)))
            }
            Err(CommandError::Duplicate { field }) => Ok(Err(vec![row.failure(
                field,
                "UNIQUE",
                format!("another customer of this tenant already has this {field}"),
            )])),
            Err(CommandError::Store(error)) => Err(error.into()),
            Err(other) => Ok(Err(vec![RowFailure {
                line: row.line,
                column: None,
                rule: "REFUSED".into(),
                message: other.to_string(),
            }])),
        }
    }
}

impl ImportReport {
    fn note(&mut self, failures: Vec<RowFailure>) {
        let room = MAX_REPORTED_FAILURES.saturating_sub(self.failures.len());
        self.failures.extend(failures.into_iter().take(room));
    }
}

impl Outcome {
    fn kind(&self) -> Outcome {
        match self {
            Outcome::Created => Outcome::Created,
            Outcome::Updated => Outcome::Updated,
            Outcome::Skipped => Outcome::Skipped,
        }
    }
}

/// Reads the whole file once, writing nothing and keeping only one row at a time: the
/// checks that refuse a whole file, made before a partial import writes its first row.
fn scan<R: Read>(input: R) -> Result<(), ImportError> {
    let mut reader = csv_reader(input)?;
    while reader.next()? {
        drop(reader.fields()?);
    }
    Ok(())
}

/// The input with its first line (read to find the delimiter) put back in front.
type Rewound<R> = std::io::Chain<std::io::Cursor<Vec<u8>>, BufReader<R>>;

/// A CSV reader that strips a UTF-8 byte-order mark and takes `,` or `;`, whichever the
/// header row uses.
fn csv_reader<R: Read>(input: R) -> Result<Records<Rewound<R>>, ImportError> {
    let mut buffered = BufReader::new(input);
    // The delimiter is sniffed from the first line, or its first 64 KiB (a header line is
    // at most 64 fields of 4 KiB; what is longer is refused by the reader anyway).
    let mut first = Vec::new();
    (&mut buffered)
        .take(64 * 1024)
        .read_until(b'\n', &mut first)?;
    if first.starts_with(&[0xEF, 0xBB, 0xBF]) {
        first.drain(..3);
    }
    let commas = first.iter().filter(|b| **b == b',').count();
    let semicolons = first.iter().filter(|b| **b == b';').count();
    let delimiter = if semicolons > commas { b';' } else { b',' };
    let input = std::io::Cursor::new(first).chain(buffered);
    Ok(Records::new(input, delimiter))
}
