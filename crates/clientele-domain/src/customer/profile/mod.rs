//! The customer's own fields: creating a customer, registering the tenant's own company, and
//! editing. The fields and the rules they obey live beside this file.

pub(super) mod field_rules;
pub(super) mod fields;
pub(super) mod forms;
pub(super) mod rules;

pub use field_rules::{
    customer_editable, field_rule, field_rules, FieldFormat, FieldRule, ALL_FIELDS,
};
pub use fields::{
    CustomerField, CustomerPatch, CustomerProfile, CustomerType, ServiceStatus, UniqueKey,
    DATA_RETENTION_DAYS, ROLLUP_RETENTION_DAYS,
};
pub use forms::{Change, CustomerChanges, CustomerDraft};
pub use rules::{max_len, normalise_name, suffixed_name};

use super::event::{CustomerCreated, CustomerEdited, CustomerEvent, CustomerMoved};
use super::products::{creation_visibility, ProductToggle};
use super::tree::{check_parent, ParentFacts};
use super::{Customer, CustomerError};

impl Customer {
    /// Creates the customer from the form, under `parent` for an inner customer, with the
    /// form's product toggles as its own visibility overrides. With
    /// `requested_name`, the form's name is one the caller did not ask for (a suffixed one,
    /// as the UNIQUIFY policy gives): the event records the name asked for.
    pub(super) fn decide_create(
        &self,
        tenant: String,
        draft: CustomerDraft,
        required: &[CustomerField],
        parent: Option<ParentFacts>,
        requested_name: Option<String>,
        products: Vec<ProductToggle>,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        if self.profile.is_some() {
            return Err(CustomerError::AlreadyExists);
        }
        // Every broken rule at once: the form's fields, then its product toggles.
        let (profile, visibility) = match (draft.validate(required), creation_visibility(products))
        {
            (Ok(profile), Ok(visibility)) => (profile, visibility),
            (Err(mut violations), Err(more)) => {
                violations.extend(more);
                return Err(CustomerError::Invalid(violations));
            }
            (Err(violations), _) | (_, Err(violations)) => {
                return Err(CustomerError::Invalid(violations))
            }
        };
        if let Some(parent) = &parent {
            check_parent(parent, None, 0)?;
        }
        let requested_name = requested_name
            .map(|name| normalise_name(&name))
            .filter(|name| *name != profile.name);
        let created = CustomerEvent::CustomerCreated(CustomerCreated {
            tenant,
            profile,
            own_company: false,
            public: false,
            requested_name,
        });
        let placed = parent.map(|parent| {
            CustomerEvent::CustomerMoved(CustomerMoved {
                from: None,
                to: Some(parent.id),
            })
        });
        Ok([created]
            .into_iter()
            .chain(placed)
            .chain(visibility)
            .collect())
    }

    /// Registers one of the tenant's two built-in customers, which have only a name and
    /// are never modified or deleted: its own company (`public: false`), listed like any
    /// customer, or its public customer (`public: true`), which holds the dashboards,
    /// devices and assets made public.
    pub(super) fn decide_registered(
        &self,
        tenant: String,
        name: &str,
        public: bool,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        if self.profile.is_some() {
            return Err(CustomerError::AlreadyExists);
        }
        Ok(vec![CustomerEvent::CustomerCreated(CustomerCreated {
            tenant,
            profile: CustomerProfile::named(normalise_name(name)),
            own_company: !public,
            public,
            requested_name: None,
        })])
    }

    /// Edits the fields the form names; with `expected_version`, only if nothing changed
    /// since. An edit that changes nothing writes nothing.
    pub(super) fn decide_edit(
        &self,
        expected_version: Option<u64>,
        changes: &CustomerChanges,
        required: &[CustomerField],
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        let Some(current) = &self.profile else {
            return Err(CustomerError::NotFound);
        };
        if let Some(expected) = expected_version.filter(|v| *v != self.version) {
            return Err(CustomerError::VersionConflict {
                expected,
                actual: self.version,
            });
        }
        let patch = changes
            .validate(current, required)
            .map_err(CustomerError::Invalid)?;
        if patch.service_status.is_some() {
            self.check_service_status(patch.service_status)?;
        }
        if patch.is_empty() {
            return Ok(vec![]);
        }
        Ok(vec![CustomerEvent::CustomerEdited(CustomerEdited {
            changes: patch,
        })])
    }
}
