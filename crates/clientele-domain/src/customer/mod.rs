//! The customer aggregate: one customer of one tenant.

mod command;
mod deletion;
mod error;
mod event;
mod fields;
mod hierarchy;
mod products;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_more;
mod users;

use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use command::{
    Change, CustomerChanges, CustomerCommand, CustomerDraft, DashboardFacts, ParentFacts,
};
pub use deletion::{
    erase_personal_data, Confirmation, OpenRequest, StoppedProduct, PERSONAL_FIELDS,
};
pub use error::CustomerError;
pub use event::{
    AccountStatusChanged, ActivationIssued, AssignmentsReleased, CustomerCreated, CustomerDeleted,
    CustomerEdited, CustomerEvent, CustomerMoved, CustomerPatch, CustomerUserAdded,
    CustomerUserEdited, DeletionCancelled, DeletionRequested, HomeDashboardSet, ImpersonationEnded,
    ImpersonationStarted, ProductActivated, ProductStatusChanged, ProductVisibilitySet, UserRef,
    EVENT_TYPES,
};
pub use products::{CatalogueEntry, CustomerProduct};
pub use users::{
    ActivationMethod, CustomerUser, NewActivation, PendingActivation, UserChanges, UserDraft,
    UserField, UserPatch, UserProfile, UserStatus, UserType, MAX_USERS,
};

use crate::{derive_account_status, AccountStatus, ProductStatus};
pub use fields::{
    max_len, normalise_name, CustomerField, CustomerProfile, CustomerType, ServiceStatus,
    UniqueKey, DATA_RETENTION_DAYS, ROLLUP_RETENTION_DAYS,
};

/// A customer's state as its events fold to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// The tenant the customer belongs to; empty before creation.
    pub tenant: String,
    /// `None` until the customer is created.
    pub profile: Option<CustomerProfile>,
    /// How many events the customer has; the version clients see.
    pub version: u64,
    /// Products the customer has a setting or a status for, by key.
    #[serde(default)]
    pub products: BTreeMap<String, CustomerProduct>,
    /// True once the customer is deleted (the deletion workflow produces it).
    #[serde(default)]
    pub deleted: bool,
    /// The deletion request that is open, if any.
    #[serde(default)]
    pub open_request: Option<OpenRequest>,
    /// The tenant's own company (seed 002): listed, never modified or deleted.
    #[serde(default)]
    pub own_company: bool,
    /// The customer's users by id (seeds 001, 003); few per customer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, CustomerUser>,
    /// The parent customer of an inner customer (seed 003).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The home dashboard (seed 004).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_dashboard: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hide_toolbar: bool,
}

impl Customer {
    /// The account status, by the one rule of seed 001.
    pub fn account_status(&self) -> AccountStatus {
        derive_account_status(
            self.deleted,
            self.products.values().filter_map(|p| p.status),
        )
    }
}

impl Customer {
    fn require_created(&self) -> Result<(), CustomerError> {
        match self.profile {
            Some(_) => Ok(()),
            None => Err(CustomerError::NotFound),
        }
    }
}

impl Aggregate for Customer {
    const TYPE: &'static str = "Customer";
    type Command = CustomerCommand;
    type Event = CustomerEvent;
    type Error = CustomerError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        if self.own_company {
            return Err(CustomerError::OwnCompany);
        }
        if self.deleted {
            return Err(CustomerError::Deleted);
        }
        let status_before = self.account_status();
        let mut cause = None;
        match command {
            CustomerCommand::CreateCustomer {
                tenant,
                draft,
                required,
                parent,
            } => {
                if self.profile.is_some() {
                    return Err(CustomerError::AlreadyExists);
                }
                let profile = draft.validate(&required).map_err(CustomerError::Invalid)?;
                if let Some(parent) = &parent {
                    hierarchy::check_parent(parent, None)?;
                }
                let event = CustomerCreated {
                    tenant,
                    profile,
                    own_company: false,
                };
                sink.write(CustomerEvent::CustomerCreated(event), self)
                    .await;
                if let Some(parent) = parent {
                    let moved = CustomerMoved {
                        from: None,
                        to: Some(parent.id),
                    };
                    sink.write(CustomerEvent::CustomerMoved(moved), self).await;
                }
            }
            CustomerCommand::RegisterOwnCompany { tenant, name } => {
                if self.profile.is_some() {
                    return Err(CustomerError::AlreadyExists);
                }
                let event = CustomerCreated {
                    tenant,
                    profile: CustomerProfile::named(normalise_name(&name)),
                    own_company: true,
                };
                sink.write(CustomerEvent::CustomerCreated(event), self)
                    .await;
            }
            CustomerCommand::EditCustomer {
                expected_version,
                changes,
                required,
            } => {
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
                    .validate(current, &required)
                    .map_err(CustomerError::Invalid)?;
                if patch.service_status.is_some() {
                    self.check_service_status(patch.service_status)?;
                }
                if !patch.is_empty() {
                    let event = CustomerEdited { changes: patch };
                    sink.write(CustomerEvent::CustomerEdited(event), self).await;
                }
            }
            CustomerCommand::SetProductVisibility {
                product,
                visible,
                catalogue,
            } => {
                self.require_created()?;
                if let Some(previous) = self.decide_visibility(&product, visible, catalogue)? {
                    let event = ProductVisibilitySet {
                        product,
                        visible,
                        previous,
                    };
                    sink.write(CustomerEvent::ProductVisibilitySet(event), self)
                        .await;
                }
            }
            CustomerCommand::ActivateProduct { product, catalogue } => {
                self.require_created()?;
                let previous = self.decide_activation(&product, catalogue)?;
                let event = ProductActivated {
                    product,
                    previous,
                    status: ProductStatus::New,
                };
                sink.write(CustomerEvent::ProductActivated(event), self)
                    .await;
                cause = Some("ProductActivated");
            }
            CustomerCommand::SetProductStatus { product, status } => {
                self.require_created()?;
                if let Some(from) = self.decide_status(&product, status)? {
                    let event = ProductStatusChanged {
                        product,
                        from,
                        to: status,
                    };
                    sink.write(CustomerEvent::ProductStatusChanged(event), self)
                        .await;
                    cause = Some("ProductStatusChanged");
                }
            }
            CustomerCommand::StartImpersonation {
                by,
                role,
                reason,
                expires_at,
            } => {
                self.require_created()?;
                let event = ImpersonationStarted {
                    by,
                    role,
                    reason,
                    expires_at,
                };
                sink.write(CustomerEvent::ImpersonationStarted(event), self)
                    .await;
            }
            CustomerCommand::EndImpersonation { by } => {
                self.require_created()?;
                sink.write(
                    CustomerEvent::ImpersonationEnded(ImpersonationEnded { by }),
                    self,
                )
                .await;
            }
            CustomerCommand::RequestDeletion {
                request_id,
                reason,
                requested_by,
                due_at,
            } => {
                self.require_created()?;
                if self.open_request.is_some() {
                    return Err(CustomerError::RequestAlreadyOpen);
                }
                let stopped = self.products_to_stop();
                let event = DeletionRequested {
                    request_id,
                    reason,
                    requested_by,
                    due_at,
                    stopped: stopped.clone(),
                };
                sink.write(CustomerEvent::DeletionRequested(event), self)
                    .await;
                for p in stopped {
                    let to = ProductStatus::Paused;
                    let event = ProductStatusChanged {
                        product: p.product,
                        from: p.previous,
                        to,
                    };
                    sink.write(CustomerEvent::ProductStatusChanged(event), self)
                        .await;
                }
                cause = Some("DeletionRequested");
            }
            CustomerCommand::CancelDeletionRequest { note, cancelled_by } => {
                let Some(open) = self.open_request.clone() else {
                    return Err(CustomerError::NoOpenRequest);
                };
                // Only products still stopped by the request go back; one changed since stays.
                let restored: Vec<StoppedProduct> = open
                    .stopped
                    .into_iter()
                    .filter(|p| {
                        self.products.get(&p.product).and_then(|s| s.status)
                            == Some(ProductStatus::Paused)
                    })
                    .collect();
                let event = DeletionCancelled {
                    request_id: open.request_id,
                    note,
                    cancelled_by,
                    restored: restored.clone(),
                };
                sink.write(CustomerEvent::DeletionCancelled(event), self)
                    .await;
                for p in restored {
                    let from = ProductStatus::Paused;
                    let event = ProductStatusChanged {
                        product: p.product,
                        from,
                        to: p.previous,
                    };
                    sink.write(CustomerEvent::ProductStatusChanged(event), self)
                        .await;
                }
                cause = Some("DeletionCancelled");
            }
            CustomerCommand::DeleteCustomer {
                confirmation,
                deleted_by,
                inner_customers,
            } => {
                self.require_created()?;
                let request_id = self.check_confirmation(&confirmation)?;
                if !inner_customers.is_empty() {
                    return Err(CustomerError::HasInnerCustomers(inner_customers));
                }
                for (product, from) in self.products_to_delete() {
                    let event = ProductStatusChanged {
                        product,
                        from,
                        to: ProductStatus::Deleted,
                    };
                    sink.write(CustomerEvent::ProductStatusChanged(event), self)
                        .await;
                }
                // Users and assignments go with the customer, through events.
                let users: Vec<String> = self.users.keys().cloned().collect();
                for user_id in users {
                    let event = CustomerEvent::CustomerUserRemoved(UserRef { user_id });
                    sink.write(event, self).await;
                }
                let released = CustomerEvent::AssignmentsReleased(AssignmentsReleased {});
                sink.write(released, self).await;
                let automatic = matches!(confirmation, Confirmation::DueRequest { .. });
                let event = CustomerDeleted {
                    request_id,
                    deleted_by,
                    automatic,
                };
                sink.write(CustomerEvent::CustomerDeleted(event), self)
                    .await;
                cause = Some("CustomerDeleted");
            }
            command @ (CustomerCommand::AddUser { .. }
            | CustomerCommand::EditUser { .. }
            | CustomerCommand::DisableUser { .. }
            | CustomerCommand::EnableUser { .. }
            | CustomerCommand::RemoveUser { .. }
            | CustomerCommand::IssueActivation { .. }
            | CustomerCommand::ActivateUser { .. }) => {
                self.require_created()?;
                for event in self.decide_user(command)? {
                    sink.write(event, self).await;
                }
            }
            CustomerCommand::MoveCustomer { id, parent } => {
                self.require_created()?;
                if let Some(parent) = &parent {
                    hierarchy::check_parent(parent, Some(&id))?;
                }
                let to = parent.map(|p| p.id);
                if to != self.parent {
                    let moved = CustomerMoved {
                        from: self.parent.clone(),
                        to,
                    };
                    sink.write(CustomerEvent::CustomerMoved(moved), self).await;
                }
            }
            CustomerCommand::SetHomeDashboard {
                dashboard,
                hide_toolbar,
            } => {
                self.require_created()?;
                if let Some(d) = dashboard.as_ref().filter(|d| !d.assigned) {
                    return Err(CustomerError::Invalid(vec![crate::Violation::new(
                        "dashboardId",
                        crate::Rule::NotAssigned,
                        format!(
                            "dashboard {} is not assigned to this customer; assign it first",
                            d.id
                        ),
                    )]));
                }
                let dashboard_id = dashboard.map(|d| d.id);
                if dashboard_id != self.home_dashboard || hide_toolbar != self.hide_toolbar {
                    let set = HomeDashboardSet {
                        dashboard_id,
                        hide_toolbar,
                    };
                    sink.write(CustomerEvent::HomeDashboardSet(set), self).await;
                }
            }
        }
        let status_after = self.account_status();
        if let (Some(cause), true) = (cause, status_after != status_before) {
            let event = AccountStatusChanged {
                from: status_before,
                to: status_after,
                cause: cause.into(),
            };
            sink.write(CustomerEvent::AccountStatusChanged(event), self)
                .await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        self.version += 1;
        match event {
            CustomerEvent::CustomerCreated(created) => {
                self.tenant = created.tenant;
                self.profile = Some(created.profile);
                self.own_company = created.own_company;
            }
            CustomerEvent::CustomerEdited(edited) => {
                if let Some(profile) = &mut self.profile {
                    edited.changes.apply_to(profile);
                }
            }
            CustomerEvent::ProductVisibilitySet(set) => {
                self.products.entry(set.product).or_default().visible = Some(set.visible);
            }
            CustomerEvent::ProductActivated(activated) => {
                self.products.entry(activated.product).or_default().status = Some(activated.status);
            }
            CustomerEvent::ProductStatusChanged(changed) => {
                self.products.entry(changed.product).or_default().status = Some(changed.to);
            }
            // The status is derived from the products; the event records the change.
            CustomerEvent::AccountStatusChanged(_)
            | CustomerEvent::ImpersonationStarted(_)
            | CustomerEvent::ImpersonationEnded(_) => {}
            CustomerEvent::DeletionRequested(requested) => {
                self.open_request = Some(OpenRequest {
                    request_id: requested.request_id,
                    due_at: requested.due_at,
                    stopped: requested.stopped,
                });
            }
            CustomerEvent::DeletionCancelled(_) => self.open_request = None,
            CustomerEvent::CustomerUserAdded(added) => {
                let user = CustomerUser {
                    profile: added.user,
                    activated: false,
                    disabled: false,
                    activation: None,
                };
                self.users.insert(added.user_id, user);
            }
            CustomerEvent::CustomerUserEdited(edited) => {
                if let Some(user) = self.users.get_mut(&edited.user_id) {
                    edited.changes.apply_to(&mut user.profile);
                }
            }
            CustomerEvent::CustomerUserDisabled(r) => {
                if let Some(user) = self.users.get_mut(&r.user_id) {
                    user.disabled = true;
                }
            }
            CustomerEvent::CustomerUserEnabled(r) => {
                if let Some(user) = self.users.get_mut(&r.user_id) {
                    user.disabled = false;
                }
            }
            CustomerEvent::CustomerUserRemoved(r) => {
                self.users.remove(&r.user_id);
            }
            CustomerEvent::ActivationIssued(issued) => {
                if let Some(user) = self.users.get_mut(&issued.user_id) {
                    user.activation = Some(PendingActivation {
                        token_hash: issued.token_hash,
                        expires_at: issued.expires_at,
                    });
                }
            }
            CustomerEvent::CustomerUserActivated(r) => {
                if let Some(user) = self.users.get_mut(&r.user_id) {
                    user.activated = true;
                    user.activation = None;
                }
            }
            CustomerEvent::CustomerMoved(moved) => self.parent = moved.to,
            CustomerEvent::HomeDashboardSet(set) => {
                self.home_dashboard = set.dashboard_id;
                self.hide_toolbar = set.hide_toolbar;
            }
            CustomerEvent::AssignmentsReleased(_) => {}
            CustomerEvent::CustomerDeleted(_) => {
                self.deleted = true;
                self.open_request = None;
                if let Some(profile) = &mut self.profile {
                    erase_personal_data(profile);
                }
            }
        }
    }
}
