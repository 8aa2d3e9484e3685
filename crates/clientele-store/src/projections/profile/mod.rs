//! The `customers` read model (projection `customers`): one row per customer, kept in the
//! command's transaction. Each event's change to the row is decided in `change`; `rows`
//! reads and writes rows, and `batch` applies a batch of the log with fewer statements.

mod batch;
mod change;
mod rows;

use crate::db::Tx;
use crate::events::{Envelope, LogEvent};
use crate::StoreError;

pub(crate) use batch::apply_batch;

/// Folds one event into the read model. Idempotent: an event the row already reflects
/// (by version) changes nothing, so the inline path and a rebuild never double-apply.
pub(crate) async fn apply(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    match &e.event {
        LogEvent::Customer(event) => rows::apply_change(tx, e, change::row_change(event)).await,
        LogEvent::Tenant(_) | LogEvent::Entity(_) | LogEvent::Dashboard(_) => Ok(()),
    }
}
