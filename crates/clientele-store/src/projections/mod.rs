//! Projections: read models folded from the event log, one file per slice.
//!
//! Projections receive typed events (`Envelope`), decoded once through the upcasters, and
//! match them exhaustively: a new event makes each of them decide what it does with it.
//! Inline projections are applied in the command's own transaction (read-your-writes, and
//! they can never miss an event) and are idempotent by aggregate version. Every projection,
//! inline or not, can be followed from the global log by the checkpointed runner, which is
//! how asynchronous projections stay current and how `clientele rebuild` rebuilds them.

mod account_status;
mod assignments;
mod deletion;
mod products;
mod profile;
mod runner;
mod sessions;
mod settings;
mod tree;
mod users;
mod webhooks;

pub(crate) use profile::created_row;
pub use runner::{catch_up, catch_up_batch, checkpoint, lag, rebuild, reset};

use crate::db::Tx;
use crate::events::Envelope;
use crate::StoreError;

/// The `customers` read model's record, at the path it had before the read models were
/// filed by slice (it lives in `crate::profile`).
pub mod customers {
    pub use crate::profile::CustomerRecord;
}

/// Every projection. Names and tables are stable across releases; each is kept by the
/// file of its slice (`customers` by `profile`, `customer_counts` by `account_status`,
/// `deletion_requests` by `deletion`, `customer_users` by `users`, `tenant_settings` by
/// `settings`, `sessions` by `sessions`, `webhook_endpoints` by `webhooks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Projection {
    Customers,
    TenantSettings,
    Products,
    DeletionRequests,
    CustomerCounts,
    CustomerUsers,
    Assignments,
    Sessions,
    WebhookEndpoints,
}

impl Projection {
    pub const ALL: [Projection; 9] = [
        Projection::Customers,
        Projection::TenantSettings,
        Projection::Products,
        Projection::DeletionRequests,
        Projection::CustomerCounts,
        Projection::CustomerUsers,
        Projection::Assignments,
        Projection::Sessions,
        Projection::WebhookEndpoints,
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
            Projection::Sessions => "sessions",
            Projection::WebhookEndpoints => "webhook_endpoints",
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
                "customer_assignment_log",
            ],
            Projection::Sessions => &["ended_sessions", "session_not_before"],
            Projection::WebhookEndpoints => &["webhook_endpoints"],
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
        events: &[Envelope],
    ) -> Result<(), StoreError> {
        match self {
            Projection::Customers => return profile::apply_batch(tx, events).await,
            Projection::Assignments => return assignments::apply_batch(tx, events).await,
            Projection::CustomerCounts => {
                return account_status::apply_counts_batch(tx, events).await
            }
            Projection::Products => {
                for event in events {
                    products::apply(tx, event).await?;
                }
                return account_status::apply_history_batch(tx, events).await;
            }
            _ => {}
        }
        for event in events {
            self.apply(tx, event).await?;
        }
        Ok(())
    }

    pub(crate) async fn apply(self, tx: &mut Tx, event: &Envelope) -> Result<(), StoreError> {
        match self {
            Projection::Customers => profile::apply(tx, event).await,
            Projection::TenantSettings => settings::apply(tx, event).await,
            Projection::Products => {
                products::apply(tx, event).await?;
                account_status::apply_history(tx, event).await
            }
            Projection::DeletionRequests => deletion::apply(tx, event).await,
            Projection::CustomerCounts => account_status::apply_counts(tx, event).await,
            Projection::CustomerUsers => users::apply(tx, event).await,
            Projection::Assignments => assignments::apply(tx, event).await,
            Projection::Sessions => sessions::apply(tx, event).await,
            Projection::WebhookEndpoints => webhooks::apply(tx, event).await,
        }
    }
}

/// Applies every inline projection to many events of one transaction (a bulk command),
/// projection by projection, each with its batch path: the same rows as `apply_inline`.
pub(crate) async fn apply_inline_batch(tx: &mut Tx, events: &[Envelope]) -> Result<(), StoreError> {
    for projection in Projection::ALL.into_iter().filter(|p| p.is_inline()) {
        projection.apply_batch(tx, events).await?;
    }
    Ok(())
}

/// Applies every inline projection to the typed events being committed in `tx`.
pub(crate) async fn apply_inline(tx: &mut Tx, events: &[Envelope]) -> Result<(), StoreError> {
    for event in events {
        for projection in Projection::ALL.into_iter().filter(|p| p.is_inline()) {
            projection.apply(tx, event).await?;
        }
    }
    Ok(())
}
