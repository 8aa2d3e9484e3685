//! The creation and edit forms as the caller filled them in, and their validation into a
//! profile (create) or a patch of only the real changes (edit).

use serde::{Deserialize, Serialize};

use super::fields::{
    CustomerField, CustomerPatch, CustomerProfile, CustomerType, ServiceStatus,
    DATA_RETENTION_DAYS, ROLLUP_RETENTION_DAYS,
};
use super::rules::{check_flows, check_retention, not_nullable, Checker};
use crate::{Rule, Violation};

/// One field of an edit: leave it, clear it, or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Change<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

/// The creation form as the caller filled it in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerDraft {
    pub name: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub organization: Option<String>,
    pub shortname: Option<String>,
    pub customer_type: Option<CustomerType>,
    pub service_status: Option<ServiceStatus>,
    pub contractual_flows_per_second: Option<i64>,
    pub multi_account: Option<bool>,
    pub internal: Option<bool>,
    pub test_account: Option<bool>,
    pub data_retention_days: Option<i32>,
    pub rollup_retention_days: Option<i32>,
    pub language: Option<String>,
    pub seller: Option<String>,
    pub custom_id: Option<String>,
    pub title: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    pub state: Option<String>,
    pub zip: Option<String>,
    pub address2: Option<String>,
}

/// The edit form: every field may be left, cleared or set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerChanges {
    pub name: Change<String>,
    pub email: Change<String>,
    pub given_name: Change<String>,
    pub family_name: Change<String>,
    pub organization: Change<String>,
    pub shortname: Change<String>,
    pub customer_type: Change<CustomerType>,
    pub service_status: Change<ServiceStatus>,
    pub contractual_flows_per_second: Change<i64>,
    pub multi_account: Change<bool>,
    pub internal: Change<bool>,
    pub test_account: Change<bool>,
    pub data_retention_days: Change<i32>,
    pub rollup_retention_days: Change<i32>,
    pub language: Change<String>,
    pub seller: Change<String>,
    pub custom_id: Change<String>,
    pub title: Change<String>,
    pub country: Change<String>,
    pub city: Change<String>,
    pub address: Change<String>,
    pub phone: Change<String>,
    pub state: Change<String>,
    pub zip: Change<String>,
    pub address2: Change<String>,
}

impl CustomerDraft {
    /// Validates and normalises every field; all violations are reported at once.
    pub fn validate(&self, required: &[CustomerField]) -> Result<CustomerProfile, Vec<Violation>> {
        use CustomerField as F;
        let mut c = Checker::default();
        let profile = CustomerProfile {
            name: c.name(&self.name),
            email: c.text(F::Email, self.email.as_deref()),
            given_name: c.text(F::GivenName, self.given_name.as_deref()),
            family_name: c.text(F::FamilyName, self.family_name.as_deref()),
            organization: c.text(F::Organization, self.organization.as_deref()),
            shortname: c.text(F::Shortname, self.shortname.as_deref()),
            customer_type: self.customer_type,
            service_status: self.service_status,
            contractual_flows_per_second: self.contractual_flows_per_second,
            multi_account: self.multi_account.unwrap_or(false),
            internal: self.internal.unwrap_or(false),
            test_account: self.test_account.unwrap_or(false),
            data_retention_days: self.data_retention_days,
            rollup_retention_days: self.rollup_retention_days,
            language: c
                .text(F::Language, self.language.as_deref())
                .unwrap_or_else(|| "en".into()),
            seller: c.text(F::Seller, self.seller.as_deref()),
            custom_id: c.text(F::CustomId, self.custom_id.as_deref()),
            title: c.text(F::Title, self.title.as_deref()),
            country: c.text(F::Country, self.country.as_deref()),
            city: c.text(F::City, self.city.as_deref()),
            address: c.text(F::Address, self.address.as_deref()),
            phone: c.text(F::Phone, self.phone.as_deref()),
            state: c.text(F::State, self.state.as_deref()),
            zip: c.text(F::Zip, self.zip.as_deref()),
            address2: c.text(F::Address2, self.address2.as_deref()),
        };
        if let Some(flows) = profile.contractual_flows_per_second {
            c.note(check_flows(flows));
        }
        if let Some(days) = profile.data_retention_days {
            c.note(check_retention(
                F::DataRetentionDays,
                days,
                &DATA_RETENTION_DAYS,
            ));
        }
        if let Some(days) = profile.rollup_retention_days {
            c.note(check_retention(
                F::RollupRetentionDays,
                days,
                &ROLLUP_RETENTION_DAYS,
            ));
        }
        for violation in profile.missing(required) {
            c.note(violation);
        }
        c.finish(profile)
    }
}

/// Sets `$patch.$field` when a text change differs from `$current.$field`.
macro_rules! text_change {
    ($c:ident, $patch:ident, $current:ident, $changes:ident, $field:ident, $kind:expr) => {
        match &$changes.$field {
            Change::Keep => {}
            Change::Clear => clear(&mut $patch, $current.$field.is_some(), $kind),
            Change::Set(raw) => match $c.text($kind, Some(raw)) {
                None => clear(&mut $patch, $current.$field.is_some(), $kind),
                Some(value) if $current.$field.as_ref() != Some(&value) => {
                    $patch.$field = Some(value)
                }
                Some(_) => {}
            },
        }
    };
}

/// Sets `$patch.$field` when a non-text optional value differs.
macro_rules! value_change {
    ($patch:ident, $current:ident, $changes:ident, $field:ident, $kind:expr) => {
        match &$changes.$field {
            Change::Keep => {}
            Change::Clear => clear(&mut $patch, $current.$field.is_some(), $kind),
            Change::Set(value) if $current.$field.as_ref() != Some(value) => {
                $patch.$field = Some(value.clone())
            }
            Change::Set(_) => {}
        }
    };
}

/// Sets `$patch.$field` when a flag differs; flags cannot be cleared.
macro_rules! flag_change {
    ($c:ident, $patch:ident, $current:ident, $changes:ident, $field:ident, $kind:expr) => {
        match &$changes.$field {
            Change::Keep => {}
            Change::Clear => $c.note(not_nullable($kind.input_name())),
            Change::Set(value) if $current.$field != *value => $patch.$field = Some(*value),
            Change::Set(_) => {}
        }
    };
}

fn clear(patch: &mut CustomerPatch, had_value: bool, field: CustomerField) {
    if had_value {
        patch.cleared.push(field);
    }
}

impl CustomerChanges {
    /// Validates the changes against the current profile and keeps only real changes.
    pub fn validate(
        &self,
        current: &CustomerProfile,
        required: &[CustomerField],
    ) -> Result<CustomerPatch, Vec<Violation>> {
        use CustomerField as F;
        let mut c = Checker::default();
        let mut patch = CustomerPatch::default();
        match &self.name {
            Change::Keep => {}
            Change::Clear => c.note(not_nullable(F::Name.input_name())),
            Change::Set(raw) => {
                let name = c.name(raw);
                if name != current.name {
                    patch.name = Some(name);
                }
            }
        }
        match &self.language {
            Change::Keep => {}
            Change::Clear => c.note(not_nullable(F::Language.input_name())),
            Change::Set(raw) => match c.text(F::Language, Some(raw)) {
                None => c.note(not_nullable(F::Language.input_name())),
                Some(language) if language != current.language => patch.language = Some(language),
                Some(_) => {}
            },
        }
        text_change!(c, patch, current, self, email, F::Email);
        text_change!(c, patch, current, self, given_name, F::GivenName);
        text_change!(c, patch, current, self, family_name, F::FamilyName);
        text_change!(c, patch, current, self, organization, F::Organization);
        text_change!(c, patch, current, self, shortname, F::Shortname);
        text_change!(c, patch, current, self, seller, F::Seller);
        text_change!(c, patch, current, self, custom_id, F::CustomId);
        text_change!(c, patch, current, self, title, F::Title);
        text_change!(c, patch, current, self, country, F::Country);
        text_change!(c, patch, current, self, city, F::City);
        text_change!(c, patch, current, self, address, F::Address);
        text_change!(c, patch, current, self, phone, F::Phone);
        text_change!(c, patch, current, self, state, F::State);
        text_change!(c, patch, current, self, zip, F::Zip);
        text_change!(c, patch, current, self, address2, F::Address2);
        value_change!(patch, current, self, customer_type, F::Type);
        value_change!(patch, current, self, service_status, F::ServiceStatus);
        value_change!(
            patch,
            current,
            self,
            contractual_flows_per_second,
            F::ContractualFlowsPerSecond
        );
        value_change!(
            patch,
            current,
            self,
            data_retention_days,
            F::DataRetentionDays
        );
        value_change!(
            patch,
            current,
            self,
            rollup_retention_days,
            F::RollupRetentionDays
        );
        flag_change!(c, patch, current, self, multi_account, F::MultiAccount);
        flag_change!(c, patch, current, self, internal, F::Internal);
        flag_change!(c, patch, current, self, test_account, F::TestAccount);
        if let Change::Set(flows) = self.contractual_flows_per_second {
            c.note(check_flows(flows));
        }
        if let Change::Set(days) = self.data_retention_days {
            c.note(check_retention(
                F::DataRetentionDays,
                days,
                &DATA_RETENTION_DAYS,
            ));
        }
        if let Change::Set(days) = self.rollup_retention_days {
            c.note(check_retention(
                F::RollupRetentionDays,
                days,
                &ROLLUP_RETENTION_DAYS,
            ));
        }
        // A tenant's required field may not be cleared; fields an edit leaves alone are not
        // re-checked, so tightening the rules never blocks unrelated edits.
        for field in &patch.cleared {
            if required.contains(field) {
                c.note(Violation::new(
                    field.input_name(),
                    Rule::Required,
                    format!("{} is required by this tenant", field.input_name()),
                ));
            }
        }
        c.finish(patch)
    }
}
