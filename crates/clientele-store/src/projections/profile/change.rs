//! What each customer event does to its `customers` row, decided in one place for the
//! event-by-event path and the batch path, so the two leave the same rows.

use clientele_domain::customer::{
    erase_personal_data, CustomerCreated, CustomerEvent, CustomerMoved, CustomerPatch,
    HomeDashboardSet,
};
use clientele_domain::AccountStatus;

use super::super::account_status;
use crate::events::Envelope;
use crate::profile::CustomerRecord;

/// The effect of one customer event on the customer's row.
pub(super) enum RowChange<'a> {
    /// A change to the columns a batch keeps in memory.
    Tracked(Tracked<'a>),
    /// A change to columns the batch does not keep in memory (or, for a move, to other
    /// customers' rows): applied by itself.
    Alone(Alone<'a>),
}

/// A change to the columns a batch keeps in memory.
pub(super) enum Tracked<'a> {
    /// A new row; one that exists already is left as it is.
    Insert(&'a CustomerCreated),
    /// A change folded into the row, if the row is older than the event.
    Fold(Fold<'a>),
}

/// A change folded into an existing row.
pub(super) enum Fold<'a> {
    Edit(&'a CustomerPatch),
    Erase,
    Status(AccountStatus),
    /// Only the version and the update time move.
    Version,
}

/// A change applied by itself.
pub(super) enum Alone<'a> {
    Moved(&'a CustomerMoved),
    HomeDashboard(&'a HomeDashboardSet),
}

/// What `event` does to its customer's row. Every event moves the row's version, which
/// clients pass back as `expectedVersion`.
pub(super) fn row_change(event: &CustomerEvent) -> RowChange<'_> {
    let fold = |fold| RowChange::Tracked(Tracked::Fold(fold));
    match event {
        CustomerEvent::CustomerCreated(created) => RowChange::Tracked(Tracked::Insert(created)),
        CustomerEvent::CustomerEdited(edited) => fold(Fold::Edit(&edited.changes)),
        CustomerEvent::CustomerDeleted(_) => fold(Fold::Erase),
        CustomerEvent::AccountStatusChanged(changed) => {
            fold(Fold::Status(account_status::row_status(changed)))
        }
        CustomerEvent::CustomerMoved(moved) => RowChange::Alone(Alone::Moved(moved)),
        CustomerEvent::HomeDashboardSet(set) => RowChange::Alone(Alone::HomeDashboard(set)),
        CustomerEvent::ProductVisibilitySet(_)
        | CustomerEvent::ProductVisibilityReset(_)
        | CustomerEvent::ProductActivated(_)
        | CustomerEvent::ProductStatusChanged(_)
        | CustomerEvent::DeletionRequested(_)
        | CustomerEvent::DeletionCancelled(_)
        | CustomerEvent::ImpersonationStarted(_)
        | CustomerEvent::ImpersonationEnded(_)
        | CustomerEvent::SessionEnded(_)
        | CustomerEvent::SignInLockedOut(_)
        | CustomerEvent::PasswordSet(_)
        | CustomerEvent::PasswordResetIssued(_)
        | CustomerEvent::CustomerUserAdded(_)
        | CustomerEvent::CustomerUserEdited(_)
        | CustomerEvent::CustomerUserDisabled(_)
        | CustomerEvent::CustomerUserEnabled(_)
        | CustomerEvent::CustomerUserRemoved(_)
        | CustomerEvent::ActivationIssued(_)
        | CustomerEvent::CustomerUserActivated(_)
        | CustomerEvent::AssignmentsReleased(_) => fold(Fold::Version),
    }
}

impl Tracked<'_> {
    /// The (tenant, id) the row is found by: a new customer names its tenant itself.
    pub(super) fn key(&self, e: &Envelope) -> (String, String) {
        let tenant = match self {
            Tracked::Insert(created) => created.tenant.clone(),
            Tracked::Fold(_) => e.tenant().to_string(),
        };
        (tenant, e.aggregate_id.clone())
    }
}

impl Fold<'_> {
    /// True when the row must exist: an edit or an erasure of a customer without one means
    /// the read model is corrupt. The other changes of a missing row change nothing.
    pub(super) fn needs_row(&self) -> bool {
        match self {
            Fold::Edit(_) | Fold::Erase => true,
            Fold::Status(_) | Fold::Version => false,
        }
    }

    /// Folds the change into a row that is older than the event.
    pub(super) fn apply(&self, record: &mut CustomerRecord, e: &Envelope) {
        match self {
            Fold::Edit(patch) => patch.apply_to(&mut record.profile),
            Fold::Erase => {
                erase_personal_data(&mut record.profile);
                // A deleted customer has no dashboards, so no home dashboard.
                record.home_dashboard_id = None;
                record.hide_toolbar = false;
            }
            Fold::Status(status) => record.account_status = *status,
            Fold::Version => {}
        }
        record.version = e.sequence;
        record.updated_at = e.occurred_at();
    }
}

/// The row of a customer just created.
pub(super) fn created_record(e: &Envelope, created: &CustomerCreated) -> CustomerRecord {
    CustomerRecord {
        tenant: created.tenant.clone(),
        id: e.aggregate_id.clone(),
        version: e.sequence,
        profile: created.profile.clone(),
        account_status: account_status::initial_status(),
        own_company: created.own_company,
        created_at: e.occurred_at(),
        updated_at: e.occurred_at(),
        parent_id: None,
        ancestry: "/".into(),
        home_dashboard_id: None,
        hide_toolbar: false,
        requested_name: created.requested_name.clone(),
    }
}
