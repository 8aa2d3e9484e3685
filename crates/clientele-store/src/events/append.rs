//! Appending an aggregate's events inside the command's transaction.

use clientele_domain::customer::CustomerEvent;

use super::{Envelope, EventMetadata, LogEvent, LogPosition, StoredEvent};
use crate::db::{Arg, Tx};
use crate::vault;
use crate::StoreError;

/// The outcome of appending: a sequence clash means another writer got there first.
#[derive(Debug)]
pub(crate) enum AppendError {
    Conflict,
    Store(StoreError),
}

impl From<StoreError> for AppendError {
    fn from(error: StoreError) -> Self {
        AppendError::Store(error)
    }
}

/// Appends `events` of aggregate `aggregate_type`/`aggregate_id` after `from_version` in
/// `tx`. The primary key (type, id, sequence) refuses a second writer of the same version.
/// Returns the events as stored (personal fields in clear, as readers see them) and, for
/// the inline projections, the same events still typed: they are not decoded again.
pub(crate) async fn append(
    tx: &mut Tx,
    aggregate_type: &str,
    aggregate_id: &str,
    from_version: u64,
    events: Vec<LogEvent>,
    metadata: &EventMetadata,
) -> Result<(Vec<StoredEvent>, Vec<Envelope>), AppendError> {
    let meta_json = serde_json::to_string(metadata).expect("metadata serialises");
    let mut stored = Vec::with_capacity(events.len());
    let mut typed = Vec::with_capacity(events.len());
    let mut key = None;
    for (i, event) in events.into_iter().enumerate() {
        let sequence = (from_version + 1 + i as u64) as i64;
        let payload = serde_json::to_value(&event).expect("events serialise");
        let event_type = event.event_type();
        let mut sealed = payload.clone();
        if vault::is_personal(aggregate_type, &event_type) {
            if key.is_none() {
                key = Some(vault::key_for(tx, aggregate_id).await?);
            }
            let key = key.as_ref().expect("just set");
            vault::seal(aggregate_type, &event_type, &mut sealed, key);
        }
        let sql = match tx {
            Tx::Pg(_) => {
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata, tenant_id, occurred_at) \
                 VALUES ($1, $2, $3, $4, $5, $6::json, $7::json, $8, $9)"
            }
            Tx::Lite(_) => {
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata, tenant_id, occurred_at, position) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                 (SELECT coalesce(max(position), 0) + 1 FROM events))"
            }
        };
        let args = [
            Arg::from(aggregate_type),
            Arg::from(aggregate_id),
            Arg::Int(sequence),
            Arg::Text(event_type.clone()),
            Arg::Text(event.event_version()),
            Arg::Text(sealed.to_string()),
            Arg::Text(meta_json.clone()),
            Arg::from(metadata.tenant.as_str()),
            Arg::Int(metadata.occurred_at.timestamp_micros()),
        ];
        if let Err(error) = tx.execute(sql, &args).await {
            return Err(if is_unique_violation(&error) {
                AppendError::Conflict
            } else {
                AppendError::Store(error)
            });
        }
        // A deleted customer's key goes with it: its sealed values can never be read again.
        if let LogEvent::Customer(CustomerEvent::CustomerDeleted(_)) = &event {
            vault::shred(tx, aggregate_id).await?;
        }
        let written = StoredEvent {
            aggregate_type: aggregate_type.to_string(),
            aggregate_id: aggregate_id.to_string(),
            sequence,
            event_version: event.event_version(),
            event_type,
            payload,
            metadata: metadata.clone(),
            log_position: LogPosition::default(),
        };
        typed.push(Envelope::new(&written, event));
        stored.push(written);
    }
    Ok((stored, typed))
}

/// True for a unique or primary-key violation on either backend.
pub(crate) fn is_unique_violation(error: &StoreError) -> bool {
    match error {
        StoreError::Database(sqlx::Error::Database(db)) => db.is_unique_violation(),
        _ => false,
    }
}
