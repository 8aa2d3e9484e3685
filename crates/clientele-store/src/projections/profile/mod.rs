//! The `customers` read model (projection `customers`): one row per customer, kept in the
//! command's transaction. Each event's change to the row is decided in `change`; `rows`
//! reads and writes rows, and `batch` applies a batch of the log with fewer statements.

mod batch;
mod change;
mod rows;

use crate::db::Tx;
use crate::events::{Envelope, LogEvent};
use crate::profile::CustomerRecord;
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

/// The row that `events`, a command's events, leave for the customer they create, folded in
/// memory exactly as the inline path writes it, so the command can answer without reading
/// the row back. `None` unless they begin with the creation and need nothing of other rows
/// (a move under a parent, a home dashboard): the caller then reads the row.
pub(crate) fn created_row(events: &[Envelope]) -> Option<CustomerRecord> {
    let mut record = None;
    for e in events {
        let LogEvent::Customer(event) = &e.event else {
            return None;
        };
        match (change::row_change(event), record.as_mut()) {
            (change::RowChange::Tracked(change::Tracked::Insert(created)), None) => {
                record = Some(change::created_record(e, created));
            }
            (change::RowChange::Tracked(change::Tracked::Fold(fold)), Some(record)) => {
                fold.apply(record, e);
            }
            _ => return None,
        }
    }
    record
}
