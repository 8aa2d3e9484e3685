//! Commands on a customer and the raw inputs they carry, before validation.

use serde::{Deserialize, Serialize};

use super::event::CustomerPatch;
use super::fields::{
    check_flows, check_retention, check_text, normalise_name, trimmed, CustomerField,
    CustomerProfile, CustomerType, ServiceStatus, DATA_RETENTION_DAYS, ROLLUP_RETENTION_DAYS,
};
use chrono::{DateTime, Utc};

use super::deletion::Confirmation;
use super::products::CatalogueEntry;
use super::users::{NewActivation, UserChanges, UserDraft};
use crate::{ProductStatus, Rule, Violation};

/// What can be asked of a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum CustomerCommand {
    /// Create the customer in `tenant` from `draft`, enforcing the tenant's `required` fields.
    CreateCustomer {
        tenant: String,
        draft: CustomerDraft,
        required: Vec<CustomerField>,
        /// The parent customer, for an inner customer (seed 003).
        parent: Option<ParentFacts>,
    },
    /// Register the tenant's own company (seed 002): listed, never modified or deleted.
    RegisterOwnCompany {
        tenant: String,
        name: String,
    },
    /// Change the fields `changes` names; with `expected_version`, only if nothing changed since.
    EditCustomer {
        expected_version: Option<u64>,
        changes: CustomerChanges,
        required: Vec<CustomerField>,
    },
    /// Override the tenant's global visibility of `product` for this customer.
    SetProductVisibility {
        product: String,
        visible: bool,
        catalogue: CatalogueEntry,
    },
    /// Activate a visible product; it starts as NEW.
    ActivateProduct {
        product: String,
        catalogue: CatalogueEntry,
    },
    /// Move an activated product to another status.
    SetProductStatus {
        product: String,
        status: ProductStatus,
    },
    /// Ask for deletion: stop the products in use and open a request due after the grace period.
    RequestDeletion {
        request_id: String,
        reason: Option<String>,
        requested_by: String,
        due_at: DateTime<Utc>,
    },
    /// Cancel the open request with a note; stopped products return to their statuses.
    CancelDeletionRequest {
        note: String,
        cancelled_by: String,
    },
    /// Record that `by` starts acting as this customer's admin until `expires_at`.
    StartImpersonation {
        by: String,
        role: String,
        reason: String,
        expires_at: DateTime<Utc>,
    },
    /// Record that `by` stops acting as this customer.
    EndImpersonation {
        by: String,
    },
    /// Delete the customer now, for good.
    DeleteCustomer {
        confirmation: Confirmation,
        deleted_by: String,
        /// Live inner customers (filled in by the store); a customer that has any is refused.
        inner_customers: Vec<String>,
    },
    /// Add a user; `activation` is the first one-time activation token.
    AddUser {
        user_id: String,
        draft: UserDraft,
        activation: NewActivation,
    },
    EditUser {
        user_id: String,
        changes: UserChanges,
    },
    DisableUser {
        user_id: String,
    },
    EnableUser {
        user_id: String,
    },
    RemoveUser {
        user_id: String,
    },
    /// Issue a new activation token to a user not yet activated; the previous one is void.
    IssueActivation {
        user_id: String,
        activation: NewActivation,
    },
    /// Use an activation token (by its hash) at `now`.
    ActivateUser {
        token_hash: String,
        now: DateTime<Utc>,
    },
    /// Put this customer (`id`) under `parent`, or make it top-level with `None`.
    MoveCustomer {
        id: String,
        parent: Option<ParentFacts>,
    },
    /// Set the home dashboard (seed 004) and whether its toolbar is hidden.
    SetHomeDashboard {
        dashboard: Option<DashboardFacts>,
        hide_toolbar: bool,
    },
}

/// A would-be parent customer, with what the store found of it in the command's
/// transaction (the domain does no I/O; the store fills these in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentFacts {
    pub id: String,
    /// A live customer of the same tenant that the caller may see.
    pub exists: bool,
    /// Its ancestors, root first.
    pub ancestors: Vec<String>,
}

impl ParentFacts {
    /// A parent the store has not looked up yet (it will, inside the transaction).
    pub fn unchecked(id: impl Into<String>) -> Self {
        ParentFacts {
            id: id.into(),
            exists: false,
            ancestors: Vec::new(),
        }
    }
}

/// A dashboard named as the home dashboard, and whether it is assigned to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardFacts {
    pub id: String,
    pub assigned: bool,
}

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
}

/// Collects violations while values are normalised.
#[derive(Default)]
struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    fn note(&mut self, violation: Option<Violation>) {
        self.violations.extend(violation);
    }

    /// Trims and checks a free-text value; blank means absent.
    fn text(&mut self, field: CustomerField, raw: Option<&str>) -> Option<String> {
        let value = raw.and_then(trimmed)?;
        self.note(check_text(field, &value));
        Some(value)
    }

    fn name(&mut self, raw: &str) -> String {
        let name = normalise_name(raw);
        self.note(check_text(CustomerField::Name, &name));
        name
    }
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
        c.violations.extend(profile.missing(required));
        if c.violations.is_empty() {
            Ok(profile)
        } else {
            Err(c.violations)
        }
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
            Change::Clear => $c.note(Some(not_nullable($kind))),
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

fn not_nullable(field: CustomerField) -> Violation {
    Violation::new(
        field.input_name(),
        Rule::NotNullable,
        format!("{} cannot be cleared", field.input_name()),
    )
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
            Change::Clear => c.note(Some(not_nullable(F::Name))),
            Change::Set(raw) => {
                let name = c.name(raw);
                if name != current.name {
                    patch.name = Some(name);
                }
            }
        }
        match &self.language {
            Change::Keep => {}
            Change::Clear => c.note(Some(not_nullable(F::Language))),
            Change::Set(raw) => match c.text(F::Language, Some(raw)) {
                None => c.note(Some(not_nullable(F::Language))),
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
                c.note(Some(Violation::new(
                    field.input_name(),
                    Rule::Required,
                    format!("{} is required by this tenant", field.input_name()),
                )));
            }
        }
        if c.violations.is_empty() {
            Ok(patch)
        } else {
            Err(c.violations)
        }
    }
}
