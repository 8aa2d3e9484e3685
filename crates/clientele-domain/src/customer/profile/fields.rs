//! The customer's fields as events carry them: the list of fields, the validated profile and
//! the patch an edit records.

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
    State,
    Zip,
    Address2,
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
            CustomerField::State => "state",
            CustomerField::Zip => "zip",
            CustomerField::Address2 => "address2",
        }
    }
}

/// The customer's account type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerType {
    Slg,
    Mssp,
}

/// The commercial status chosen on the creation form. It does not drive the account status
/// (products do), but a TRIAL_ACTIVE customer never has an ACTIVE product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServiceStatus {
    Active,
    TrialActive,
}

/// The data retention periods a customer may have, in days.
pub const DATA_RETENTION_DAYS: [i32; 4] = [7, 45, 90, 180];
/// The rollup retention periods a customer may have, in days.
pub const ROLLUP_RETENTION_DAYS: [i32; 4] = [7, 90, 180, 365];

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
    /// Added later (issue 19): events written before decode without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
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
            state: None,
            zip: None,
            address2: None,
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
            F::State => self.state.is_some(),
            F::Zip => self.zip.is_some(),
            F::Address2 => self.address2.is_some(),
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

/// The fields an edit set, and those it cleared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multi_account: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test_account: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_retention_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollup_retention_days: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
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
    /// Added later (issue 19): events written before decode without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address2: Option<String>,
    /// Optional fields whose value the edit removed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleared: Vec<CustomerField>,
}

macro_rules! set_some {
    ($profile:ident, $patch:ident; $($field:ident),*) => {
        $(if let Some(value) = &$patch.$field { $profile.$field = Some(value.clone()); })*
    };
}

macro_rules! set_plain {
    ($profile:ident, $patch:ident; $($field:ident),*) => {
        $(if let Some(value) = &$patch.$field { $profile.$field = value.clone(); })*
    };
}

impl CustomerPatch {
    /// True when the edit changes nothing (and so writes no event).
    pub fn is_empty(&self) -> bool {
        *self == CustomerPatch::default()
    }

    /// Applies the patch to a profile. Never fails: events are facts.
    pub fn apply_to(&self, profile: &mut CustomerProfile) {
        set_plain!(profile, self; name, language, multi_account, internal, test_account);
        set_some!(profile, self; email, given_name, family_name, organization, shortname,
            customer_type, service_status, contractual_flows_per_second, data_retention_days,
            rollup_retention_days, seller, custom_id, title, country, city, address, phone, state, zip, address2);
        for field in &self.cleared {
            clear_field(profile, *field);
        }
    }
}

fn clear_field(profile: &mut CustomerProfile, field: CustomerField) {
    use CustomerField as F;
    match field {
        F::Email => profile.email = None,
        F::GivenName => profile.given_name = None,
        F::FamilyName => profile.family_name = None,
        F::Organization => profile.organization = None,
        F::Shortname => profile.shortname = None,
        F::Type => profile.customer_type = None,
        F::ServiceStatus => profile.service_status = None,
        F::ContractualFlowsPerSecond => profile.contractual_flows_per_second = None,
        F::DataRetentionDays => profile.data_retention_days = None,
        F::RollupRetentionDays => profile.rollup_retention_days = None,
        F::Seller => profile.seller = None,
        F::CustomId => profile.custom_id = None,
        F::Title => profile.title = None,
        F::Country => profile.country = None,
        F::City => profile.city = None,
        F::Address => profile.address = None,
        F::Phone => profile.phone = None,
        F::State => profile.state = None,
        F::Zip => profile.zip = None,
        F::Address2 => profile.address2 = None,
        // Name, language and flags always hold a value; validation never clears them.
        F::Name | F::Language | F::MultiAccount | F::Internal | F::TestAccount => {}
    }
}
