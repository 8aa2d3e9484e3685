//! The customer's fields, their rules (seeds 000-004) and their normalisation.

use serde::{Deserialize, Serialize};

use crate::{Rule, Violation};

/// Every field a customer has, named as the GraphQL input names them in upper snake case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerField {
    Name,
    Email,
    GivenName,
    FamilyName,
    Organization,
    Shortname,
    Type,
    ServiceStatus,
    ContractualFlowsPerSecond,
    MultiAccount,
    Internal,
    TestAccount,
    DataRetentionDays,
    RollupRetentionDays,
    Language,
    Seller,
    CustomId,
    Title,
    Country,
    City,
    Address,
    Phone,
}

impl CustomerField {
    /// The field's name in GraphQL inputs (camel case).
    pub fn input_name(self) -> &'static str {
        match self {
            CustomerField::Name => "name",
            CustomerField::Email => "email",
            CustomerField::GivenName => "givenName",
            CustomerField::FamilyName => "familyName",
            CustomerField::Organization => "organization",
            CustomerField::Shortname => "shortname",
            CustomerField::Type => "type",
            CustomerField::ServiceStatus => "serviceStatus",
            CustomerField::ContractualFlowsPerSecond => "contractualFlowsPerSecond",
            CustomerField::MultiAccount => "multiAccount",
            CustomerField::Internal => "internal",
            CustomerField::TestAccount => "testAccount",
            CustomerField::DataRetentionDays => "dataRetentionDays",
            CustomerField::RollupRetentionDays => "rollupRetentionDays",
            CustomerField::Language => "language",
            CustomerField::Seller => "seller",
            CustomerField::CustomId => "customId",
            CustomerField::Title => "title",
            CustomerField::Country => "country",
            CustomerField::City => "city",
            CustomerField::Address => "address",
            CustomerField::Phone => "phone",
        }
    }
}

/// Seed 000's account type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerType {
    Slg,
    Mssp,
}

/// Seed 000's commercial status chosen on the creation form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceStatus {
    Active,
    TrialActive,
}

/// Data retention options of seed 000, in days.
pub const DATA_RETENTION_DAYS: [i32; 4] = [7, 45, 90, 180];
/// Rollup retention options of seed 000, in days.
pub const ROLLUP_RETENTION_DAYS: [i32; 4] = [7, 90, 180, 365];

/// The longest value each free-text field may hold, in characters.
pub fn max_len(field: CustomerField) -> usize {
    match field {
        CustomerField::Name => 100,
        CustomerField::Email => 254,
        CustomerField::Shortname => 16,
        CustomerField::Language => 35,
        CustomerField::Phone => 32,
        CustomerField::Address => 500,
        CustomerField::Organization | CustomerField::Title => 200,
        _ => 100,
    }
}

/// A customer's validated data, as events carry it and read models show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerProfile {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shortname: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub customer_type: Option<CustomerType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_status: Option<ServiceStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contractual_flows_per_second: Option<i64>,
    #[serde(default)]
    pub multi_account: bool,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub test_account: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_retention_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup_retention_days: Option<i32>,
    pub language: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seller: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl CustomerProfile {
    /// A profile with only a name, every other field at its default.
    pub fn named(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            email: None,
            given_name: None,
            family_name: None,
            organization: None,
            shortname: None,
            customer_type: None,
            service_status: None,
            contractual_flows_per_second: None,
            multi_account: false,
            internal: false,
            test_account: false,
            data_retention_days: None,
            rollup_retention_days: None,
            language: "en".into(),
            seller: None,
            custom_id: None,
            title: None,
            country: None,
            city: None,
            address: None,
            phone: None,
        }
    }

    /// Whether the field holds a value (booleans always do).
    pub fn has(&self, field: CustomerField) -> bool {
        use CustomerField as F;
        match field {
            F::Name | F::Language | F::MultiAccount | F::Internal | F::TestAccount => true,
            F::Email => self.email.is_some(),
            F::GivenName => self.given_name.is_some(),
            F::FamilyName => self.family_name.is_some(),
            F::Organization => self.organization.is_some(),
            F::Shortname => self.shortname.is_some(),
            F::Type => self.customer_type.is_some(),
            F::ServiceStatus => self.service_status.is_some(),
            F::ContractualFlowsPerSecond => self.contractual_flows_per_second.is_some(),
            F::DataRetentionDays => self.data_retention_days.is_some(),
            F::RollupRetentionDays => self.rollup_retention_days.is_some(),
            F::Seller => self.seller.is_some(),
            F::CustomId => self.custom_id.is_some(),
            F::Title => self.title.is_some(),
            F::Country => self.country.is_some(),
            F::City => self.city.is_some(),
            F::Address => self.address.is_some(),
            F::Phone => self.phone.is_some(),
        }
    }

    /// The values that must be unique within a tenant, as they are compared.
    pub fn unique_keys(&self) -> Vec<(UniqueKey, String)> {
        let mut keys = vec![(UniqueKey::Name, self.name.clone())];
        if let Some(shortname) = &self.shortname {
            keys.push((UniqueKey::Shortname, shortname.to_lowercase()));
        }
        keys
    }

    /// Every violation of `required` by this profile.
    pub(crate) fn missing(&self, required: &[CustomerField]) -> Vec<Violation> {
        required
            .iter()
            .filter(|field| !self.has(**field))
            .map(|field| {
                Violation::new(
                    field.input_name(),
                    Rule::Required,
                    format!("{} is required by this tenant", field.input_name()),
                )
            })
            .collect()
    }
}

/// A value that is unique among a tenant's customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UniqueKey {
    Name,
    Shortname,
}

impl UniqueKey {
    pub fn as_str(self) -> &'static str {
        match self {
            UniqueKey::Name => "name",
            UniqueKey::Shortname => "shortname",
        }
    }
}

/// Normalises a name as seed 002 says: trimmed, lower case, each space a hyphen.
pub fn normalise_name(raw: &str) -> String {
    raw.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect()
}

/// Checks one field's value; `None` when it obeys its rule.
pub(crate) fn check_text(field: CustomerField, value: &str) -> Option<Violation> {
    let name = field.input_name();
    let chars = value.chars().count();
    if chars > max_len(field) {
        return Some(Violation::new(
            name,
            Rule::Length,
            format!("{name} must be at most {} characters", max_len(field)),
        ));
    }
    if value.chars().any(char::is_control) {
        return Some(Violation::new(
            name,
            Rule::Charset,
            format!("{name} must not contain control characters"),
        ));
    }
    match field {
        CustomerField::Name if value.is_empty() => Some(Violation::new(
            name,
            Rule::Required,
            "name must not be empty",
        )),
        CustomerField::Email if !is_email(value) => Some(Violation::new(
            name,
            Rule::Format,
            "email must be a valid address such as ops@example.com",
        )),
        CustomerField::Shortname => check_shortname(value),
        CustomerField::Language if !is_language_tag(value) => Some(Violation::new(
            name,
            Rule::Format,
            "language must be a BCP 47 tag such as en or pt-BR",
        )),
        CustomerField::Phone if !is_phone(value) => Some(Violation::new(
            name,
            Rule::Format,
            "phone may hold digits, spaces and + - ( ) . and needs at least 3 digits",
        )),
        _ => None,
    }
}

fn check_shortname(value: &str) -> Option<Violation> {
    let len = value.chars().count();
    if !(5..=16).contains(&len) {
        return Some(Violation::new(
            "shortname",
            Rule::Length,
            "shortname must be 5 to 16 characters long",
        ));
    }
    // RFC 3986 unreserved characters; "+" is excluded by seed 000 (and is not unreserved).
    let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    if !value.chars().all(unreserved) {
        return Some(Violation::new(
            "shortname",
            Rule::Charset,
            "shortname may only use letters, digits, '-', '.', '_' and '~' (RFC 3986 unreserved, no '+')",
        ));
    }
    None
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

fn is_language_tag(value: &str) -> bool {
    let mut parts = value.split('-');
    let primary = parts.next().unwrap_or_default();
    let primary_ok =
        (2..=8).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn is_phone(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && value.chars().filter(char::is_ascii_digit).count() >= 3
}

/// Trims a free-text value; an empty result means "no value".
pub(crate) fn trimmed(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

pub(crate) fn check_retention(
    field: CustomerField,
    days: i32,
    allowed: &[i32],
) -> Option<Violation> {
    (!allowed.contains(&days)).then(|| {
        let options: Vec<String> = allowed.iter().map(i32::to_string).collect();
        Violation::new(
            field.input_name(),
            Rule::AllowedValues,
            format!(
                "{} must be one of {} days",
                field.input_name(),
                options.join(", ")
            ),
        )
    })
}

pub(crate) fn check_flows(value: i64) -> Option<Violation> {
    (value < 0).then(|| {
        Violation::new(
            "contractualFlowsPerSecond",
            Rule::Range,
            "contractualFlowsPerSecond must be 0 or more",
        )
    })
}
