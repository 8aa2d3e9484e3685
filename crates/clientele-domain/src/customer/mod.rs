//! The customer aggregate: one customer of one tenant.
//!
//! `handle` dispatches each command to the decision in its feature's file (profile, products,
//! deletion, impersonation, users, tree, assignments), writes the events that decision
//! returns, and then derives the account status once: if the events moved it, an
//! `AccountStatusChanged` follows them.

mod assignments;
mod command;
mod deletion;
mod error;
mod event;
mod impersonation;
mod products;
mod profile;
#[cfg(test)]
mod tests;
mod tree;
mod users;

use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

pub use assignments::DashboardFacts;
pub use command::{CustomerCommand, UserCommand};
pub use deletion::{erase_personal_data, Confirmation, OpenRequest, PERSONAL_FIELDS};
pub use error::CustomerError;
pub use event::{
    AccountStatusChanged, ActivationIssued, AssignmentsReleased, Credential, CustomerCreated,
    CustomerDeleted, CustomerEdited, CustomerEvent, CustomerMoved, CustomerUserAdded,
    CustomerUserEdited, DeletionCancelled, DeletionRequested, HomeDashboardSet, ImpersonationEnded,
    ImpersonationStarted, PasswordResetIssued, PasswordSet, ProductActivated, ProductStatusChanged,
    ProductVisibilityReset, ProductVisibilitySet, SessionEnded, SignInLockedOut, StoppedProduct,
    UserRef, EVENT_TYPES,
};
pub use products::{CatalogueEntry, CustomerProduct, ProductToggle};
pub use profile::{
    customer_editable, field_rule, field_rules, max_len, normalise_name, suffixed_name, Change,
    CustomerChanges, CustomerDraft, CustomerField, CustomerPatch, CustomerProfile, CustomerType,
    FieldFormat, FieldRule, ServiceStatus, UniqueKey, ALL_FIELDS, DATA_RETENTION_DAYS,
    ROLLUP_RETENTION_DAYS,
};
pub use tree::{ParentFacts, MAX_DEPTH};
pub use users::passwords;
pub use users::{
    ActivationMethod, CustomerUser, NewActivation, PendingActivation, UserChanges, UserDraft,
    UserField, UserPatch, UserProfile, UserStatus, UserType, MAX_USERS,
};

use crate::aggregate;
use crate::{derive_account_status, AccountStatus};

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
    /// The tenant's own company: listed, never modified or deleted.
    #[serde(default)]
    pub own_company: bool,
    /// The tenant's public customer: holds what is made public, never modified or deleted.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
    /// The customer's users by id; few per customer (`MAX_USERS`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub users: BTreeMap<String, CustomerUser>,
    /// The parent customer of an inner customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// The home dashboard, which is assigned to the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_dashboard: Option<String>,
    /// Whether the home dashboard's toolbar is hidden.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hide_toolbar: bool,
    /// The name asked for at creation when the customer was given a suffixed one instead
    /// (UNIQUIFY); it stays as it was when the name is edited later.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_name: Option<String>,
    /// Impersonation sessions that ended, by id, with when their tokens expire; kept only
    /// until then (an expired token is refused anyway).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ended_sessions: BTreeMap<String, chrono::DateTime<chrono::Utc>>,
}

impl Customer {
    /// The account status, by the one rule (`derive_account_status`).
    pub fn account_status(&self) -> AccountStatus {
        derive_account_status(
            self.deleted,
            self.products.values().filter_map(|p| p.status),
        )
    }

    fn require_created(&self) -> Result<(), CustomerError> {
        match self.profile {
            Some(_) => Ok(()),
            None => Err(CustomerError::NotFound),
        }
    }

    /// The events a command produces, in order, or why it is refused. Each feature decides
    /// its own commands; the tenant's own company and a deleted customer take none.
    fn decide(&self, command: CustomerCommand) -> Result<Vec<CustomerEvent>, CustomerError> {
        use CustomerCommand as C;
        if self.own_company {
            return Err(CustomerError::OwnCompany);
        }
        if self.public {
            return Err(CustomerError::PublicCustomer);
        }
        if self.deleted {
            return Err(CustomerError::Deleted);
        }
        match command {
            C::CreateCustomer {
                tenant,
                draft,
                required,
                parent,
                requested_name,
                products,
            } => self.decide_create(tenant, draft, &required, parent, requested_name, products),
            C::RegisterOwnCompany { tenant, name } => self.decide_registered(tenant, &name, false),
            C::RegisterPublicCustomer { tenant, name } => {
                self.decide_registered(tenant, &name, true)
            }
            C::EditCustomer {
                expected_version,
                changes,
                required,
            } => self.decide_edit(expected_version, &changes, &required),
            C::SetProductVisibility {
                product,
                visible,
                catalogue,
            } => self.decide_visibility(product, visible, catalogue),
            C::ResetProductVisibility { product, catalogue } => {
                self.decide_reset_visibility(product, catalogue)
            }
            C::ActivateProduct { product, catalogue } => self.decide_activation(product, catalogue),
            C::SetProductStatus { product, status } => self.decide_status(product, status),
            C::StartImpersonation {
                by,
                role,
                reason,
                expires_at,
            } => self.decide_start_impersonation(by, role, reason, expires_at),
            C::EndImpersonation {
                by,
                session,
                expires_at,
                now,
            } => self.decide_end_impersonation(by, session, expires_at, now),
            C::RequestDeletion {
                request_id,
                reason,
                requested_by,
                due_at,
                delete_inner_customers,
                inner_customers,
            } => self.decide_request_deletion(
                request_id,
                reason,
                requested_by,
                due_at,
                (delete_inner_customers, inner_customers),
            ),
            C::CancelDeletionRequest { note, cancelled_by } => {
                self.decide_cancel_deletion(note, cancelled_by)
            }
            C::DeleteCustomer {
                confirmation,
                deleted_by,
                inner_customers,
                released,
            } => self.decide_delete(confirmation, deleted_by, inner_customers, released),
            C::User(command) => self.decide_user(command),
            C::MoveCustomer { id, parent, height } => self.decide_move(&id, parent, height),
            C::SetHomeDashboard {
                dashboard,
                hide_toolbar,
            } => self.decide_home_dashboard(dashboard, hide_toolbar),
        }
    }

    /// The `AccountStatusChanged` that follows a command's events when they moved the status
    /// from `before`, naming `cause`.
    fn account_status_changed(
        &self,
        before: AccountStatus,
        cause: Option<&'static str>,
    ) -> Option<CustomerEvent> {
        let after = self.account_status();
        let cause = cause.filter(|_| after != before)?;
        Some(CustomerEvent::AccountStatusChanged(AccountStatusChanged {
            from: before,
            to: after,
            cause: cause.into(),
        }))
    }
}

/// The type of the event that may move the account status: the activation, the deletion
/// request, its cancellation or the deletion, else a product's status change. Only these
/// events change what the status is derived from.
fn status_cause(events: &[CustomerEvent]) -> Option<&'static str> {
    use CustomerEvent as E;
    let principal = |e: &&CustomerEvent| {
        matches!(
            e,
            E::ProductActivated(_)
                | E::DeletionRequested(_)
                | E::DeletionCancelled(_)
                | E::CustomerDeleted(_)
        )
    };
    let status_change = |e: &&CustomerEvent| matches!(e, E::ProductStatusChanged(_));
    let cause = events.iter().find(principal);
    cause
        .or_else(|| events.iter().find(status_change))
        .map(CustomerEvent::type_name)
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
        let before = self.account_status();
        let events = self.decide(command)?;
        let cause = status_cause(&events);
        aggregate::write(sink, self, events).await;
        if let Some(changed) = self.account_status_changed(before, cause) {
            sink.write(changed, self).await;
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
                self.public = created.public;
                self.requested_name = created.requested_name;
            }
            CustomerEvent::CustomerEdited(edited) => {
                if let Some(profile) = &mut self.profile {
                    edited.changes.apply_to(profile);
                }
            }
            CustomerEvent::ProductVisibilitySet(set) => {
                self.products.entry(set.product).or_default().visible = Some(set.visible);
            }
            CustomerEvent::ProductVisibilityReset(reset) => {
                if let Some(product) = self.products.get_mut(&reset.product) {
                    product.visible = None;
                    if product.status.is_none() {
                        self.products.remove(&reset.product);
                    }
                }
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
                    delete_inner_customers: requested.delete_inner_customers,
                });
            }
            CustomerEvent::DeletionCancelled(_) => self.open_request = None,
            CustomerEvent::CustomerUserAdded(added) => {
                let user = CustomerUser {
                    profile: added.user,
                    activated: false,
                    disabled: false,
                    activation: None,
                    password_hash: None,
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
            CustomerEvent::AssignmentsReleased(_) | CustomerEvent::SignInLockedOut(_) => {}
            CustomerEvent::PasswordSet(set) => {
                if let Some(user) = self.users.get_mut(&set.user_id) {
                    user.activation = None;
                    user.password_hash = Some(set.credential.password_hash);
                }
            }
            CustomerEvent::PasswordResetIssued(issued) => {
                if let Some(user) = self.users.get_mut(&issued.user_id) {
                    user.activation = Some(PendingActivation {
                        token_hash: issued.token_hash,
                        expires_at: issued.expires_at,
                    });
                }
            }
            CustomerEvent::SessionEnded(ended) => {
                self.ended_sessions
                    .retain(|_, expires_at| *expires_at > ended.ended_at);
                self.ended_sessions.insert(ended.session, ended.expires_at);
            }
            CustomerEvent::CustomerDeleted(_) => {
                self.deleted = true;
                self.open_request = None;
                // A deleted customer has no dashboards, so no home dashboard.
                self.home_dashboard = None;
                self.hide_toolbar = false;
                if let Some(profile) = &mut self.profile {
                    erase_personal_data(profile);
                }
            }
        }
    }
}
