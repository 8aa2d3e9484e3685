//! Applying a batch of the log to `customers`, reading and writing each customer's row once
//! per batch (`rebuild` and the runner use it). The rows it leaves are those the inline path
//! leaves event by event: both take each event's change from `row_change`.

use std::collections::{HashMap, HashSet};

use clientele_domain::customer::CustomerEvent;

use super::change::{created_record, row_change, RowChange, Tracked};
use super::rows::{apply_alone, insert_rows, load_rows, no_row, write_row};
use crate::db::Tx;
use crate::events::{Envelope, LogEvent};
use crate::profile::CustomerRecord;
use crate::StoreError;

type Key = (String, String);

/// One customer's row while a batch is applied: as read (or created), and whether it must
/// be inserted or updated at the end.
struct Pending {
    record: CustomerRecord,
    insert: bool,
    dirty: bool,
}

/// Applies events in order, as `apply` would one by one.
pub(crate) async fn apply_batch(tx: &mut Tx, events: &[Envelope]) -> Result<(), StoreError> {
    let customer_events: Vec<(&Envelope, &CustomerEvent)> = events
        .iter()
        .filter_map(|e| match &e.event {
            LogEvent::Customer(event) => Some((e, event)),
            LogEvent::Tenant(_) | LogEvent::Entity(_) | LogEvent::Dashboard(_) => None,
        })
        .collect();
    let mut rows: HashMap<Key, Pending> = HashMap::new();
    let mut order: Vec<Key> = Vec::new();
    // The rows of the customers met up to the next event applied alone, read in one go.
    let mut fetched: Option<HashMap<Key, CustomerRecord>> = None;
    for (i, &(e, event)) in customer_events.iter().enumerate() {
        let change = match row_change(event) {
            RowChange::Tracked(change) => change,
            RowChange::Alone(alone) => {
                // These touch columns (or, for a move, other customers' rows) the batch does
                // not track: write what is pending, apply the event alone, read afresh after.
                flush(tx, &mut rows, &mut order).await?;
                apply_alone(tx, e, alone).await?;
                fetched = None;
                continue;
            }
        };
        let key = (e.tenant().to_string(), e.aggregate_id.clone());
        if !rows.contains_key(&key) {
            // A row created earlier in this batch is in `rows`; otherwise ask the table.
            if fetched.is_none() {
                fetched = Some(load_rows(tx, &segment_keys(&customer_events[i..])).await?);
            }
            let found = fetched
                .as_mut()
                .and_then(|read| read.remove(&change.key(e)));
            if let Some(record) = found {
                let pending = Pending {
                    record,
                    insert: false,
                    dirty: false,
                };
                rows.insert(key.clone(), pending);
                order.push(key.clone());
            }
        }
        match change {
            Tracked::Insert(created) => {
                if rows.contains_key(&key) {
                    continue; // ON CONFLICT DO NOTHING
                }
                let pending = Pending {
                    record: created_record(e, created),
                    insert: true,
                    dirty: true,
                };
                rows.insert(key.clone(), pending);
                order.push(key);
            }
            Tracked::Fold(fold) => {
                let Some(pending) = rows.get_mut(&key) else {
                    if fold.needs_row() {
                        return Err(no_row(e));
                    }
                    continue; // the UPDATE of the inline path finds no row either
                };
                if pending.record.version < e.sequence {
                    fold.apply(&mut pending.record, e);
                    pending.dirty = true;
                }
            }
        }
    }
    flush(tx, &mut rows, &mut order).await
}

/// The rows the events up to the next one applied alone are found by, each once.
fn segment_keys(events: &[(&Envelope, &CustomerEvent)]) -> Vec<Key> {
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    for (e, event) in events {
        let RowChange::Tracked(change) = row_change(event) else {
            break;
        };
        let key = change.key(e);
        if seen.insert(key.clone()) {
            keys.push(key);
        }
    }
    keys
}

/// Writes the rows a batch changed, in the order it first met them, and forgets them all.
async fn flush(
    tx: &mut Tx,
    rows: &mut HashMap<Key, Pending>,
    order: &mut Vec<Key>,
) -> Result<(), StoreError> {
    let mut inserts = Vec::new();
    for key in order.iter() {
        let pending = &rows[key];
        if pending.dirty && pending.insert {
            inserts.push(&pending.record);
        }
    }
    insert_rows(tx, &inserts).await?;
    for key in order.drain(..) {
        let pending = &rows[&key];
        if pending.dirty && !pending.insert {
            write_row(tx, &pending.record, false).await?;
        }
    }
    rows.clear();
    Ok(())
}
