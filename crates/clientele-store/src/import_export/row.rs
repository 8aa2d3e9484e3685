//! One row of an import file: its values by column, and the command input they make.

use clientele_domain::customer::{
    normalise_name, CatalogueEntry, Change, CustomerChanges, CustomerCommand, CustomerDraft,
    CustomerType, ServiceStatus,
};
use clientele_domain::Violation;

use super::{ImportError, RowFailure, COLUMNS, IMPORT_ONLY, VISIBLE_PREFIX};
use crate::CatalogueProduct;

/// A header as compared with the columns: lower-case, without spaces, `_` and `-`.
fn normalise_header(header: &str) -> String {
    header
        .chars()
        .filter(|c| !matches!(c, ' ' | '_' | '-'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Maps the header row to canonical column names: an input name, or `visible:KEY` for a
/// product of the catalogue (a header `visible:cdn` or `Product CDN Visible`). A column
/// naming a product the catalogue lacks refuses the file, as an unknown column does.
pub(super) fn map_header(
    headers: &[String],
    catalogue: &[CatalogueProduct],
) -> Result<Vec<String>, ImportError> {
    let mut mapped = Vec::new();
    let mut unknown = Vec::new();
    let mut unknown_products = Vec::new();
    let product_of = |key: &str| {
        catalogue
            .iter()
            .find(|p| normalise_header(&p.key) == key)
            .map(|p| format!("{VISIBLE_PREFIX}{}", p.key))
    };
    for header in headers {
        let key = normalise_header(header);
        let column = COLUMNS
            .iter()
            .chain(&IMPORT_ONLY)
            .find(|c| c.to_lowercase() == key);
        if let Some(column) = column {
            mapped.push(column.to_string());
        } else if let Some(product) = key.strip_prefix(VISIBLE_PREFIX) {
            match product_of(product) {
                Some(column) => mapped.push(column),
                None => unknown_products.push(header.clone()),
            }
        } else if let Some(product) = key
            .strip_prefix("product")
            .and_then(|k| k.strip_suffix("visible"))
            .and_then(product_of)
        {
            mapped.push(product);
        } else {
            unknown.push(header.clone());
        }
    }
    if !unknown.is_empty() {
        return Err(ImportError::UnknownColumns(unknown));
    }
    if !unknown_products.is_empty() {
        return Err(ImportError::UnknownProducts(unknown_products));
    }
    if !mapped.iter().any(|c| c == "name") {
        return Err(ImportError::MissingName);
    }
    Ok(mapped)
}

/// Where a row says its parent is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ParentRef {
    /// `parent`: a name, normalised as names are (a customer, or a row of the file).
    Name(String),
    /// `parentId`: an existing customer's id.
    Id(String),
}

impl ParentRef {
    /// The column the row gave its parent in.
    pub(super) fn column(&self) -> &'static str {
        match self {
            ParentRef::Name(_) => "parent",
            ParentRef::Id(_) => "parentId",
        }
    }
}

/// A row's raw values by column.
pub(super) struct Row<'a> {
    pub(super) line: u64,
    pub(super) columns: &'a [String],
    pub(super) headers: &'a [String],
    /// The tenant's catalogue, for the visibility columns.
    pub(super) catalogue: &'a [CatalogueProduct],
    pub(super) values: Vec<String>,
}

impl Row<'_> {
    pub(super) fn get(&self, column: &str) -> Option<&str> {
        let index = self.columns.iter().position(|c| c == column)?;
        self.values
            .get(index)
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The column as the file's header names it (or its input name when the file lacks it).
    pub(super) fn header_of(&self, column: &str) -> String {
        match self.columns.iter().position(|c| c == column) {
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

    /// The row's parent, if it names one; a row may name it by `parent` or by `parentId`,
    /// not both.
    pub(super) fn parent(&self) -> Result<Option<ParentRef>, Vec<RowFailure>> {
        match (self.get("parent"), self.get("parentId")) {
            (Some(_), Some(_)) => Err(vec![self.failure(
                "parentId",
                "FORMAT",
                format!(
                    "give the parent by name ({}) or by id ({}), not both",
                    self.header_of("parent"),
                    self.header_of("parentId")
                ),
            )]),
            (Some(name), None) => Ok(Some(ParentRef::Name(normalise_name(name)))),
            (None, Some(id)) => Ok(Some(ParentRef::Id(id.to_string()))),
            (None, None) => Ok(None),
        }
    }

    /// The row's product visibility overrides as setProductVisibility commands, each with
    /// the column it came from; an empty cell sets nothing (the global setting applies).
    pub(super) fn visibility(&self) -> Result<Vec<(String, CustomerCommand)>, Vec<RowFailure>> {
        let mut errors = Vec::new();
        let mut commands = Vec::new();
        for column in self.columns {
            let Some(key) = column.strip_prefix(VISIBLE_PREFIX) else {
                continue;
            };
            let Some(visible) = self.parsed(column, boolean, "true or false", &mut errors) else {
                continue;
            };
            let globally_visible = self
                .catalogue
                .iter()
                .find(|p| p.key == key)
                .is_some_and(|p| p.visible);
            commands.push((
                column.clone(),
                CustomerCommand::SetProductVisibility {
                    product: key.to_string(),
                    visible,
                    catalogue: CatalogueEntry::Listed { globally_visible },
                },
            ));
        }
        match errors.is_empty() {
            true => Ok(commands),
            false => Err(errors),
        }
    }

    pub(super) fn violations(&self, violations: Vec<Violation>) -> Vec<RowFailure> {
        violations
            .into_iter()
            .map(|v| self.failure(&v.field, v.rule.as_str(), v.message))
            .collect()
    }
}

/// A yes/no cell.
fn boolean(raw: &str) -> Option<bool> {
    match raw.to_lowercase().as_str() {
        "true" | "yes" | "1" | "y" => Some(true),
        "false" | "no" | "0" | "n" => Some(false),
        _ => None,
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
