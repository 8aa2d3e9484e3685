//! One row of an import file: its values by column, and the command input they make.

use clientele_domain::customer::{
    Change, CustomerChanges, CustomerDraft, CustomerType, ServiceStatus,
};
use clientele_domain::Violation;

use super::{ImportError, RowFailure, COLUMNS};

/// A header as compared with the columns: lower-case, without spaces, `_` and `-`.
fn normalise_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Maps the header row to canonical column names.
pub(super) fn map_header(headers: &[String]) -> Result<Vec<&'static str>, ImportError> {
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
pub(super) struct Row<'a> {
    pub(super) line: u64,
    pub(super) columns: &'a [&'static str],
    pub(super) headers: &'a [String],
    pub(super) values: Vec<String>,
}

impl Row<'_> {
    pub(super) fn get(&self, column: &str) -> Option<&str> {
        let index = self.columns.iter().position(|c| *c == column)?;
        self.values
            .get(index)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The column as the file's header names it (or its input name when the file lacks it).
    pub(super) fn header_of(&self, column: &str) -> String {
        match self.columns.iter().position(|c| *c == column) {
            Some(index) => self.headers[index].clone(),
            None => column.to_string(),
        }
    }

    pub(super) fn failure(&self, column: &str, rule: &str, message: String) -> RowFailure {
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
    pub(super) fn draft(&self) -> Result<CustomerDraft, Vec<RowFailure>> {
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
            state: text("state"),
            zip: text("zip"),
            address2: text("address2"),
        };
        if errors.is_empty() {
            Ok(draft)
        } else {
            Err(errors)
        }
    }

    pub(super) fn violations(&self, violations: Vec<Violation>) -> Vec<RowFailure> {
        violations
            .into_iter()
            .map(|v| self.failure(&v.field, v.rule.as_str(), v.message))
            .collect()
    }
}

/// The edit an update applies: every non-empty column but the one it was matched by.
pub(super) fn changes_from(draft: CustomerDraft, matched_by_name: bool) -> CustomerChanges {
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
        state: set(draft.state),
        zip: set(draft.zip),
        address2: set(draft.address2),
    }
}
