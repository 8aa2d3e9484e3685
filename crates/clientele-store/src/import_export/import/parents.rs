//! Parents named in an import file. A row names its parent by `parent` (a name: an existing
//! customer, or a row of the same file, before or after it) or by `parentId` (an existing
//! customer). A writing pass holds a row whose parent is not a customer yet (`Waiting`)
//! and writes it once a row of the file has created that parent; a checking pass records
//! it (`InFile::wait`) and, at the end of the file, fails each such row whose parent no
//! row creates (UNKNOWN_CUSTOMER), or which is its own ancestor (CYCLE). Both passes
//! decide a file alike, so ALL_OR_NOTHING and DRY_RUN say what a PARTIAL import does.

use std::collections::{HashMap, HashSet};

use clientele_domain::customer::{normalise_name, CustomerField};
use clientele_domain::AccountStatus;

use super::in_file::InFile;
use super::{Found, Importer, Outcome};
use crate::import_export::row::{ParentRef, Row};
use crate::import_export::{ImportError, ImportReport, RowFailure};

/// Rows of a writing pass waiting for their parent, by the parent's normalised name.
#[derive(Default)]
pub(super) struct Waiting<'a> {
    by_parent: HashMap<String, Vec<Row<'a>>>,
}

impl<'a> Waiting<'a> {
    pub(super) fn wait(&mut self, row: Row<'a>, parent: String) {
        self.by_parent.entry(parent).or_default().push(row);
    }

    /// The rows still waiting when the file has ended, each with why it fails: a parent
    /// no row created (UNKNOWN_CUSTOMER), or a parent chain that comes back to the row
    /// (CYCLE).
    pub(super) fn never_created(self) -> Vec<RowFailure> {
        // Each waiting row's name, to the name of the parent it waits for.
        let parent_of: HashMap<String, String> = self
            .by_parent
            .iter()
            .flat_map(|(parent, rows)| rows.iter().map(move |row| (row.name(), parent.clone())))
            .collect();
        let mut failures: Vec<RowFailure> = self
            .by_parent
            .iter()
            .flat_map(|(parent, rows)| rows.iter().map(move |row| (parent, row)))
            .map(|(parent, row)| {
                let me = row.name();
                let mut seen = HashSet::from([me.clone()]);
                let mut at = parent.clone();
                let cycle = loop {
                    if at == me {
                        break true;
                    }
                    match parent_of.get(&at) {
                        Some(next) if seen.insert(at.clone()) => at = next.clone(),
                        _ => break false,
                    }
                };
                unknown_or_cycle(row, parent, cycle)
            })
            .collect();
        failures.sort_by_key(|f| f.line);
        failures
    }
}

/// A row's failure for a parent that is never created, or for being its own ancestor.
fn unknown_or_cycle(row: &Row<'_>, parent: &str, cycle: bool) -> RowFailure {
    match cycle {
        true => row.failure(
            "parent",
            "CYCLE",
            format!(
                "the parent {parent} is this row's own inner customer, through the file's rows"
            ),
        ),
        false => row.failure(
            "parent",
            "UNKNOWN_CUSTOMER",
            format!(
                "no customer of this tenant is named {parent}, and no row of this file creates it"
            ),
        ),
    }
}

impl Row<'_> {
    /// The row's name, normalised as names are.
    pub(super) fn name(&self) -> String {
        normalise_name(self.get("name").unwrap_or_default())
    }
}

impl Importer<'_> {
    /// The customer a row names as its parent, looked up in `found` (the batch's) or by
    /// itself: `Ok(Some(id))` when it is a live customer the importer may see (a seller:
    /// one of its own), `Ok(None)` when no customer has the name given (a row of the file
    /// may create it), a failure otherwise.
    pub(super) async fn parent_in_store(
        &self,
        row: &Row<'_>,
        parent: &ParentRef,
        found: Option<&Found>,
    ) -> Result<Result<Option<String>, Vec<RowFailure>>, ImportError> {
        let tenant = &self.metadata.tenant;
        let id = match (parent, found) {
            (ParentRef::Name(name), Some(found)) => found.parents.get(name).cloned(),
            (ParentRef::Name(name), None) => self.store.unique_owner(tenant, "name", name).await?,
            (ParentRef::Id(id), _) => uuid::Uuid::parse_str(id).ok().map(|_| id.clone()),
        };
        let record = match &id {
            Some(id) => self.store.customer(tenant, id).await?,
            None => None,
        };
        let live = record.filter(|r| {
            r.account_status != AccountStatus::Deleted
                && self
                    .seller
                    .as_ref()
                    .is_none_or(|seller| r.profile.seller.as_ref() == Some(seller))
        });
        Ok(match (live, parent) {
            (Some(record), _) => Ok(Some(record.id)),
            (None, ParentRef::Name(_)) if id.is_none() => Ok(None),
            (None, parent) => {
                let (column, value) = match parent {
                    ParentRef::Name(name) => ("parent", name),
                    ParentRef::Id(id) => ("parentId", id),
                };
                let message =
                    format!("{value} is not a live customer of this tenant that you may see");
                Err(vec![row.failure(column, "UNKNOWN_CUSTOMER", message)])
            }
        })
    }

    /// Writes the rows that waited for the customers just `created` (by name), and then
    /// those that waited for them, and so on; counts each row so decided.
    pub(super) async fn write_released(
        &self,
        waiting: &mut Waiting<'_>,
        mut created: Vec<String>,
        required: &[CustomerField],
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        while !created.is_empty() {
            let released: Vec<Row> = created
                .iter()
                .filter_map(|name| waiting.by_parent.remove(name))
                .flatten()
                .collect();
            created.clear();
            if released.is_empty() {
                break;
            }
            let outcomes = self.write_batch(&released, required).await?;
            for (row, outcome) in released.into_iter().zip(outcomes) {
                match outcome {
                    Ok(Outcome::Deferred(parent)) => waiting.wait(row, parent),
                    Ok(Outcome::Created) => {
                        created.push(row.name());
                        report.tally(Ok(Outcome::Created));
                    }
                    other => report.tally(other),
                }
            }
        }
        Ok(())
    }
}

impl InFile {
    /// Notes that the row (counted as created so far) waits for a parent that is not a
    /// customer: a row of the file must create it.
    pub(super) fn wait(&mut self, row: &Row<'_>, parent: String) {
        self.waiting
            .insert(row.line, (parent, row.header_of("parent")));
    }

    /// At the end of a checking pass: fails each waiting row whose parent no row of the
    /// file creates (no row has the name, or that row fails), or that is its own ancestor.
    pub(super) fn resolve_parents(&mut self, report: &mut ImportReport) {
        // Per waiting line: None when it can be created, else (rule, message).
        let mut verdicts: HashMap<u64, Option<(&'static str, String)>> = HashMap::new();
        let mut lines: Vec<u64> = self.waiting.keys().copied().collect();
        lines.sort_unstable();
        for &start in &lines {
            let mut path = vec![start];
            let end = loop {
                let at = *path.last().expect("a path has a start");
                let parent = &self.waiting[&at].0;
                let unknown = |why: String| Some(("UNKNOWN_CUSTOMER", why));
                let Some(&target) = self.names.get(parent) else {
                    break unknown(format!(
                        "no customer of this tenant is named {parent}, and no row of this file creates it"
                    ));
                };
                if let Some(index) = path.iter().position(|&line| line == target) {
                    for &line in &path[index..] {
                        let message = format!("line {line} of this file is its own inner customer, through its parent {}", self.waiting[&line].0);
                        verdicts.insert(line, Some(("CYCLE", message)));
                    }
                    path.truncate(index);
                    break unknown(format!(
                        "its parent {parent} (line {target}) is its own inner customer"
                    ));
                }
                let fails = match verdicts.get(&target) {
                    Some(verdict) => verdict.is_some(),
                    None if !matches!(self.outcomes.get(&target), Some(Some(_))) => true,
                    None if self.waiting.contains_key(&target) => {
                        path.push(target);
                        continue;
                    }
                    None => false,
                };
                break fails.then(|| {
                    (
                        "UNKNOWN_CUSTOMER",
                        format!("its parent {parent} (line {target}) cannot be created"),
                    )
                });
            };
            // Every row on the path stands or falls with its parent, back to the start.
            let mut verdict = end;
            let mut parent_line = None;
            while let Some(line) = path.pop() {
                if let Some(parent_line) = parent_line {
                    let failed = matches!(verdicts.get(&parent_line), Some(Some(_)));
                    verdict = failed.then(|| {
                        let parent = &self.waiting[&line].0;
                        let why =
                            format!("its parent {parent} (line {parent_line}) cannot be created");
                        ("UNKNOWN_CUSTOMER", why)
                    });
                }
                verdicts.entry(line).or_insert(verdict.clone());
                parent_line = Some(line);
            }
        }
        for line in lines {
            let Some(Some((rule, message))) = verdicts.remove(&line) else {
                continue;
            };
            if !matches!(self.outcomes.get(&line), Some(Some(_))) {
                continue; // failed already for another reason
            }
            let column = self.waiting[&line].1.clone();
            let failure = RowFailure {
                line,
                column: Some(column),
                rule: rule.into(),
                message,
            };
            self.fail_earlier(report, line, failure);
        }
    }
}
