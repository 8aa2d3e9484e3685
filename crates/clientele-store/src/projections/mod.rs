//! Projections: read models folded from the event log.
//!
//! Inline projections are applied in the command's own transaction (read-your-writes, and
//! they can never miss an event) and are idempotent by aggregate version. Every projection,
//! inline or not, can be followed from the global log by the checkpointed runner, which is
//! how asynchronous projections stay current and how `clientele rebuild` rebuilds them.

pub(crate) mod assignments;
pub(crate) mod customer_counts;
pub(crate) mod customer_users;
pub mod customers;
pub(crate) mod deletion_requests;
pub(crate) mod products;
mod runner;
pub(crate) mod tenant_settings;

pub use runner::{
    catch_up, catch_up_batch, checkpoint, lag, rebuild, rebuild_together, reset, spawn_runner,
};

use crate::db::Tx;
use crate::events::StoredEvent;
use crate::StoreError;

/// Every projection. Names and tables are stable across releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Projection {
    Customers,
    TenantSettings,
    Products,
    DeletionRequests,
    CustomerCounts,
    CustomerUsers,
    Assignments,
}

impl Projection {
    pub const ALL: [Projection; 7] = [
        Projection::Customers,
        Projection::TenantSettings,
        Projection::Products,
        Projection::DeletionRequests,
        Projection::CustomerCounts,
        Projection::CustomerUsers,
        Projection::Assignments,
    ];

    /// The checkpoint's name.
    pub fn name(self) -> &'static str {
        match self {
            Projection::Customers => "customers",
            Projection::TenantSettings => "tenant_settings",
            Projection::Products => "products",
            Projection::DeletionRequests => "deletion_requests",
            Projection::CustomerCounts => "customer_counts",
            Projection::CustomerUsers => "customer_users",
            Projection::Assignments => "assignments",
        }
    }

    /// The tables the projection owns.
    pub fn tables(self) -> &'static [&'static str] {
        match self {
            Projection::Customers => &["customers"],
            Projection::TenantSettings => &["tenant_settings"],
            Projection::Products => &[
                "tenant_products",
                "customer_products",
                "account_status_history",
            ],
            Projection::DeletionRequests => &["deletion_requests"],
            Projection::CustomerCounts => &["customer_counts"],
            Projection::CustomerUsers => &["customer_users"],
            Projection::Assignments => &[
                "assigned_entities",
                "dashboard_assignments",
                "assignment_counts",
            ],
        }
    }

    /// Applied in the command's transaction rather than by the background runner.
    pub fn is_inline(self) -> bool {
        !matches!(self, Projection::CustomerCounts)
    }

    /// Applies a batch of the log in order (what the runner and `rebuild` do): the same
    /// result as `apply` on each event, with fewer statements where a projection can.
    pub(crate) async fn apply_batch(
        self,
        tx: &mut Tx,
        events: &[StoredEvent],
    ) -> Result<(), StoreError> {
        match self {
            Projection::Customers => customers::apply_batch(tx, events).await,
            _ => {
                for event in events {
                    self.apply(tx, event).await?;
                }
                Ok(())
            }
        }
    }

    pub(crate) async fn apply(self, tx: &mut Tx, event: &StoredEvent) -> Result<(), StoreError> {
        match self {
            Projection::Customers => customers::apply(tx, event).await,
            Projection::TenantSettings => tenant_settings::apply(tx, event).await,
            Projection::Products => products::apply(tx, event).await,
            Projection::DeletionRequests => deletion_requests::apply(tx, event).await,
            Projection::CustomerCounts => customer_counts::apply(tx, event).await,
            Projection::CustomerUsers => customer_users::apply(tx, event).await,
            Projection::Assignments => assignments::apply(tx, event).await,
        }
    }
}

/// Applies every inline projection to events being committed in `tx`.
pub(crate) async fn apply_inline(tx: &mut Tx, events: &[StoredEvent]) -> Result<(), StoreError> {
    for event in events {
        for projection in Projection::ALL.into_iter().filter(|p| p.is_inline()) {
            projection.apply(tx, event).await?;
        }
    }
    Ok(())
}
