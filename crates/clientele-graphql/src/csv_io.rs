//! CSV import and export of customers (seed 002, and beyond: any size, every column).
//!
//! Rows are streamed: memory does not grow with the file. Each row is validated by the very
//! command `createCustomer` runs (`CustomerDraft::validate` inside the aggregate), so an
//! import obeys exactly the same rules. Re-importing a file creates no duplicates: a row
//! matches an existing customer by `customId` when it has one, else by name.

use std::io::{BufRead, BufReader, Read};

use clientele_domain::customer::{
    normalise_name, Change, Customer, CustomerChanges, CustomerCommand, CustomerDraft,
    CustomerError, CustomerType, ServiceStatus,
};
use clientele_domain::Violation;
use clientele_store::{
    CommandError, CustomerFilter, CustomerOrderField, EventMetadata, PageRequest, Store, StoreError,
};

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

/// Rows read and written per batch.
const BATCH: usize = 256;
/// Rows of a batch in flight at once (each row is its own command and transaction).
const IN_FLIGHT: usize = 8;

/// At most this many failures are listed (all are counted).
pub const MAX_REPORTED_FAILURES: usize = 1000;

/// Why a file cannot be imported at all. Nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line} is not UTF-8: save the file as UTF-8 (a byte-order mark is fine)")]
    Encoding { line: u64 },
    #[error("the file has no header row with a Name column")]
    MissingName,
    #[error("unknown columns: {}; columns are named as in createCustomer's input (e.g. Name, Email, Given Name, shortname)", .0.join(", "))]
    UnknownColumns(Vec<String>),
    #[error("the file is not valid CSV: {0}")]
    Csv(String),
    #[error("the file could not be read: {0}")]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The customer fields, as columns: (canonical input name, normalised header).
const COLUMNS: [&str; 22] = [
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
];

fn normalise_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Maps the header row to canonical column names.
fn map_header(headers: &[String]) -> Result<Vec<&'static str>, ImportError> {
    let mut mapped = Vec::new();
    let mut unknown = Vec::new();
    for header in headers {
        let key = normalise_header(header);
        match COLUMNS.iter().find(|c| c.to_lowercase() == key) {
            Some(column) => mapped.push(*column),
            None => unknown.push(header.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(ImportError::UnknownColumns(unknown));
    }
    if !mapped.contains(&"name") {
        return Err(ImportError::MissingName);
    }
    Ok(mapped)
}

/// A row's raw values by column.
struct Row<'a> {
    line: u64,
    columns: &'a [&'static str],
    headers: &'a [String],
    values: Vec<String>,
}

impl Row<'_> {
    fn get(&self, column: &str) -> Option<&str> {
        let index = self.columns.iter().position(|c| *c == column)?;
        self.values
            .get(index)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The column as the file's header names it (or its input name when the file lacks it).
    fn header_of(&self, column: &str) -> String {
        match self.columns.iter().position(|c| *c == column) {
            Some(index) => self.headers[index].clone(),
            None => column.to_string(),
        }
    }

    fn failure(&self, column: &str, rule: &str, message: String) -> RowFailure {
        RowFailure {
            line: self.line,
            column: Some(self.header_of(column)),
            rule: rule.into(),
            message,
        }
    }

    fn parsed<T>(
        &self,
        column: &str,
        parse: impl Fn(&str) -> Option<T>,
        what: &str,
        errors: &mut Vec<RowFailure>,
    ) -> Option<T> {
        let raw = self.get(column)?;
        let value = parse(raw);
        if value.is_none() {
            errors.push(self.failure(column, "FORMAT", format!("{raw:?} is not {what}")));
        }
        value
    }

    /// The row as createCustomer's input; values that do not parse are failures.
    fn draft(&self) -> Result<CustomerDraft, Vec<RowFailure>> {
        let mut errors = Vec::new();
        let text = |column: &str| self.get(column).map(str::to_string);
        let boolean = |raw: &str| match raw.to_lowercase().as_str() {
            "true" | "yes" | "1" | "y" => Some(true),
            "false" | "no" | "0" | "n" => Some(false),
            _ => None,
        };
        let draft = CustomerDraft {
            name: self.get("name").unwrap_or_default().to_string(),
            email: text("email"),
            given_name: text("givenName"),
            family_name: text("familyName"),
            organization: text("organization"),
            shortname: text("shortname"),
            customer_type: self.parsed(
                "type",
                |v| match v.to_uppercase().as_str() {
                    "SLG" => Some(CustomerType::Slg),
                    "MSSP" => Some(CustomerType::Mssp),
                    _ => None,
                },
                "SLG or MSSP",
                &mut errors,
            ),
            service_status: self.parsed(
                "serviceStatus",
                |v| match v.to_uppercase().replace([' ', '-'], "_").as_str() {
                    "ACTIVE" => Some(ServiceStatus::Active),
                    "TRIAL_ACTIVE" => Some(ServiceStatus::TrialActive),
                    _ => None,
                },
                "ACTIVE or TRIAL_ACTIVE",
                &mut errors,
            ),
            contractual_flows_per_second: self.parsed(
                "contractualFlowsPerSecond",
                |v| v.parse().ok(),
                "a whole number",
                &mut errors,
            ),
            multi_account: self.parsed("multiAccount", boolean, "true or false", &mut errors),
            internal: self.parsed("internal", boolean, "true or false", &mut errors),
            test_account: self.parsed("testAccount", boolean, "true or false", &mut errors),
            data_retention_days: self.parsed(
                "dataRetentionDays",
                |v| v.parse().ok(),
                "a number of days",
                &mut errors,
            ),
            rollup_retention_days: self.parsed(
                "rollupRetentionDays",
                |v| v.parse().ok(),
                "a number of days",
                &mut errors,
            ),
            language: text("language"),
            seller: text("seller"),
            custom_id: text("customId"),
            title: text("title"),
            country: text("country"),
            city: text("city"),
            address: text("address"),
            phone: text("phone"),
        };
        if errors.is_empty() {
            Ok(draft)
        } else {
            Err(errors)
        }
    }

    fn violations(&self, violations: Vec<Violation>) -> Vec<RowFailure> {
        violations
            .into_iter()
            .map(|v| self.failure(&v.field, v.rule.as_str(), v.message))
            .collect()
    }
}

/// The edit an update applies: every non-empty column but the one it was matched by.
fn changes_from(draft: CustomerDraft, matched_by_name: bool) -> CustomerChanges {
    let set = |v: Option<String>| v.map_or(Change::Keep, Change::Set);
    let set_copy = |v: Option<bool>| v.map_or(Change::Keep, Change::Set);
    CustomerChanges {
        name: if matched_by_name {
            Change::Keep
        } else {
            Change::Set(draft.name)
        },
        email: set(draft.email),
        given_name: set(draft.given_name),
        family_name: set(draft.family_name),
        organization: set(draft.organization),
        shortname: set(draft.shortname),
        customer_type: draft.customer_type.map_or(Change::Keep, Change::Set),
        service_status: draft.service_status.map_or(Change::Keep, Change::Set),
        contractual_flows_per_second: draft
            .contractual_flows_per_second
            .map_or(Change::Keep, Change::Set),
        multi_account: set_copy(draft.multi_account),
        internal: set_copy(draft.internal),
        test_account: set_copy(draft.test_account),
        data_retention_days: draft.data_retention_days.map_or(Change::Keep, Change::Set),
        rollup_retention_days: draft
            .rollup_retention_days
            .map_or(Change::Keep, Change::Set),
        language: set(draft.language),
        seller: set(draft.seller),
        custom_id: set(draft.custom_id),
        title: set(draft.title),
        country: set(draft.country),
        city: set(draft.city),
        address: set(draft.address),
        phone: set(draft.phone),
    }
}

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

impl Importer<'_> {
    /// Imports a file; `open` is called once per pass (twice for dry runs and
    /// all-or-nothing imports). `progress` is told the rows seen so far.
    pub async fn run<R: Read>(
        &self,
        open: impl Fn() -> std::io::Result<R>,
        mut progress: impl FnMut(u64),
    ) -> Result<ImportReport, ImportError> {
        let validate_first = self.mode != ImportMode::Partial;
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
        let headers: Vec<String> = match reader.byte_headers() {
            Ok(record) => record
                .iter()
                .map(|field| std::str::from_utf8(field).map(|s| s.trim().to_string()))
                .collect::<Result<_, _>>()
                .map_err(|_| ImportError::Encoding { line: 1 })?,
            Err(error) => return Err(ImportError::Csv(error.to_string())),
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
        let mut record = csv::ByteRecord::new();
        let mut batch: Vec<Row> = Vec::with_capacity(BATCH);
        let mut finished = false;
        while !finished {
            // Read a batch of rows (memory stays bounded by the batch, not the file)...
            batch.clear();
            while batch.len() < BATCH {
                match reader.read_byte_record(&mut record) {
                    Ok(false) => {
                        finished = true;
                        break;
                    }
                    Ok(true) => {}
                    Err(error) => return Err(ImportError::Csv(error.to_string())),
                }
                let line = record.position().map_or(0, |p| p.line());
                let values = record
                    .iter()
                    .map(|field| std::str::from_utf8(field).map(str::to_string))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| ImportError::Encoding { line })?;
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
            // ...and run it with a few rows in flight, keeping the file's order in the report.
            let mut outcomes = Vec::with_capacity(batch.len());
            for chunk in batch.chunks(IN_FLIGHT) {
                let mut pending = Vec::with_capacity(chunk.len());
                for row in chunk {
                    pending.push(self.row(row, &required, write));
                }
                outcomes.extend(futures::future::join_all(pending).await);
            }
            for outcome in outcomes {
                report.rows += 1;
                match outcome? {
                    Ok(Outcome::Created) => report.created += 1,
                    Ok(Outcome::Updated) => report.updated += 1,
                    Ok(Outcome::Skipped) => report.skipped += 1,
                    Err(failures) => {
                        report.failed += 1;
                        let room = MAX_REPORTED_FAILURES.saturating_sub(report.failures.len());
                        report.failures.extend(failures.into_iter().take(room));
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
        required: &[clientele_domain::customer::CustomerField],
        write: bool,
    ) -> Result<Result<Outcome, Vec<RowFailure>>, ImportError> {
        let first = self.row_once(row, required, write).await?;
        match &first {
            Err(failures)
                if failures.iter().any(|f| {
                    f.rule == "UNIQUE" && f.column.as_deref() == Some(&row.header_of("name"))
                }) =>
            {
                self.row_once(row, required, write).await
            }
            _ => Ok(first),
        }
    }

    async fn row_once(
        &self,
        row: &Row<'_>,
        required: &[clientele_domain::customer::CustomerField],
        write: bool,
    ) -> Result<Result<Outcome, Vec<RowFailure>>, ImportError> {
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
        let existing = match &draft.custom_id {
            Some(custom_id) => {
                self.store
                    .customer_by_custom_id(tenant, custom_id.trim())
                    .await?
            }
            None => None,
        };
        let (existing, by_name) = match existing {
            Some(id) => (Some(id), false),
            None => (
                self.store
                    .unique_owner(tenant, "name", &normalise_name(&draft.name))
                    .await?,
                true,
            ),
        };
        match existing {
            Some(_) if self.on_existing == OnExisting::Skip => Ok(Ok(Outcome::Skipped)),
            Some(id) => {
                if !write {
                    return Ok(Ok(Outcome::Updated));
                }
                let command = CustomerCommand::EditCustomer {
                    expected_version: None,
                    changes: changes_from(draft, by_name),
                    required: required.to_vec(),
                };
                self.write(row, &id, command, Outcome::Updated).await
            }
            None => {
                if let Some(shortname) = &draft.shortname {
                    let taken = self
                        .store
                        .unique_owner(tenant, "shortname", &shortname.trim().to_lowercase())
                        .await?;
                    if taken.is_some() {
                        let message = "another customer of this tenant already has this shortname"
                            .to_string();
                        return Ok(Err(vec![row.failure("shortname", "UNIQUE", message)]));
                    }
                }
                if !write {
                    return Ok(Ok(Outcome::Created));
                }
                let command = CustomerCommand::CreateCustomer {
                    tenant: tenant.clone(),
                    draft,
                    required: required.to_vec(),
                    parent: None,
                };
                let id = uuid::Uuid::now_v7().to_string();
                self.write(row, &id, command, Outcome::Created).await
            }
        }
    }

    async fn write(
        &self,
        row: &Row<'_>,
        id: &str,
        command: CustomerCommand,
        outcome: Outcome,
    ) -> Result<Result<Outcome, Vec<RowFailure>>, ImportError> {
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

/// The input with its first line (read to find the delimiter) put back in front.
type Rewound<R> = std::io::Chain<std::io::Cursor<Vec<u8>>, BufReader<R>>;

/// A CSV reader that strips a UTF-8 byte-order mark and takes `,` or `;`, whichever the
/// header row uses.
fn csv_reader<R: Read>(input: R) -> Result<csv::Reader<Rewound<R>>, ImportError> {
    let mut buffered = BufReader::new(input);
    let mut first = Vec::new();
    buffered.read_until(b'\n', &mut first)?;
    if first.starts_with(&[0xEF, 0xBB, 0xBF]) {
        first.drain(..3);
    }
    let commas = first.iter().filter(|b| **b == b',').count();
    let semicolons = first.iter().filter(|b| **b == b';').count();
    let delimiter = if semicolons > commas { b';' } else { b',' };
    let input = std::io::Cursor::new(first).chain(buffered);
    Ok(csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(input))
}

/// Writes the tenant's customers (not deleted, not its own company) as CSV, page by page.
pub async fn export_csv<W: std::io::Write>(
    store: &Store,
    tenant: &str,
    out: W,
) -> Result<u64, ImportError> {
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(COLUMNS)
        .map_err(|e| ImportError::Csv(e.to_string()))?;
    let filter = CustomerFilter {
        own_company: Some(false),
        include_test_accounts: true,
        subtree_of: None,
        ..CustomerFilter::default()
    };
    let mut after = None;
    let mut count = 0;
    loop {
        let page = PageRequest {
            order: CustomerOrderField::CreatedAt,
            first: Some(500),
            after,
            ..PageRequest::default()
        };
        let page = match store.list_customers(tenant, &filter, &page).await? {
            Ok(page) => page,
            Err(error) => return Err(ImportError::Csv(error.to_string())),
        };
        for (_, record) in &page.items {
            let p = &record.profile;
            let opt = |v: &Option<String>| v.clone().unwrap_or_default();
            let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
            let fields = [
                p.name.clone(),
                opt(&p.email),
                opt(&p.given_name),
                opt(&p.family_name),
                opt(&p.organization),
                opt(&p.shortname),
                p.customer_type
                    .map(|t| {
                        if t == CustomerType::Slg {
                            "SLG"
                        } else {
                            "MSSP"
                        }
                        .to_string()
                    })
                    .unwrap_or_default(),
                p.service_status
                    .map(|s| {
                        if s == ServiceStatus::Active {
                            "ACTIVE"
                        } else {
                            "TRIAL_ACTIVE"
                        }
                        .to_string()
                    })
                    .unwrap_or_default(),
                num(p.contractual_flows_per_second),
                p.multi_account.to_string(),
                p.internal.to_string(),
                p.test_account.to_string(),
                num(p.data_retention_days.map(i64::from)),
                num(p.rollup_retention_days.map(i64::from)),
                p.language.clone(),
                opt(&p.seller),
                opt(&p.custom_id),
                opt(&p.title),
                opt(&p.country),
                opt(&p.city),
                opt(&p.address),
                opt(&p.phone),
            ];
            writer
                .write_record(&fields)
                .map_err(|e| ImportError::Csv(e.to_string()))?;
            count += 1;
        }
        writer.flush()?;
        if !page.has_next_page {
            return Ok(count);
        }
        after = page.items.last().map(|(cursor, _)| cursor.clone());
    }
}
