//! The event log: what a stored event is, appending an aggregate's events (`append`),
//! loading an aggregate (`load`), reading the whole log in global order (`log`), and
//! decoding events into their aggregates' types through the upcasters (`decoded`).

mod append;
mod decoded;
mod load;
mod log;

use chrono::{DateTime, Utc};
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use crate::db::{Backend, Executor};
use crate::vault;
use crate::StoreError;

pub(crate) use append::{append, append_many, AppendError, Appended, Write};
pub(crate) use decoded::decode_all;
pub use decoded::{Envelope, LogEvent};
pub use load::{aggregate_events, customer_log_events, fold_history};
pub(crate) use load::{load, Loaded};
pub(crate) use log::{committed_after, log_end, read_log_of_types};
pub use log::{read_log, read_log_exclusive, tenant_log};

/// Who did what, when and in which request: stored with every event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMetadata {
    pub tenant: String,
    /// The acting subject (the real person, also when impersonating), or `system:…`.
    pub actor: String,
    /// The actor's role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The customer the actor was logged in as, when impersonating.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_behalf_of: Option<String>,
    pub request_id: String,
    pub occurred_at: DateTime<Utc>,
}

/// A position in the global log: events are read in (tx, position) order.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct LogPosition {
    /// The writing transaction on PostgreSQL; always 0 on SQLite.
    pub tx: i64,
    pub position: i64,
}

/// One event as it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    pub aggregate_type: String,
    pub aggregate_id: String,
    pub sequence: i64,
    pub event_type: String,
    pub event_version: String,
    /// The serialised domain event, externally tagged as cqrs-es writes it.
    pub payload: serde_json::Value,
    pub metadata: EventMetadata,
    pub log_position: LogPosition,
}

/// The aggregate types of assignments, whose events name a customer.
pub const ASSIGNMENT_TYPES: [&str; 4] = ["Device", "Asset", "Edge", "DashboardAssignment"];

impl StoredEvent {
    /// The event's own fields, without the enum tag.
    pub fn body(&self) -> &serde_json::Value {
        self.payload.get(&self.event_type).unwrap_or(&self.payload)
    }

    /// The payload as histories, exports and subscriptions show it: a password hash
    /// (`PasswordSet`'s credential) is never shown, even sealed.
    pub fn shown_payload(&self) -> serde_json::Value {
        let mut payload = self.payload.clone();
        if let Some(credential) = payload
            .get_mut(&self.event_type)
            .and_then(|body| body.get_mut("credential"))
        {
            *credential = serde_json::Value::String("[hidden]".into());
        }
        payload
    }

    /// `body()` as histories, exports and subscriptions show it (see `shown_payload`).
    pub fn shown_body(&self) -> serde_json::Value {
        let payload = self.shown_payload();
        match payload.get(&self.event_type) {
            Some(body) => body.clone(),
            None => payload,
        }
    }

    /// The customers the event belongs to the history of: a customer event its customer; an
    /// assignment event (device, asset, edge, dashboard) the customer it names and, for a
    /// re-assignment, the previous owner; none for a tenant event.
    pub fn customers_named(&self) -> Vec<&str> {
        if self.aggregate_type == "Customer" {
            return vec![self.aggregate_id.as_str()];
        }
        if !ASSIGNMENT_TYPES.contains(&self.aggregate_type.as_str()) {
            return vec![];
        }
        let body = self.body();
        ["customerId", "previousCustomerId"]
            .iter()
            .filter_map(|field| body.get(field).and_then(|v| v.as_str()))
            .collect()
    }

    /// Deserialises into the aggregate's event type, upcasting older shapes first.
    pub fn decode<A: Aggregate>(
        &self,
        upcasters: &[Box<dyn EventUpcaster>],
    ) -> Result<A::Event, StoreError> {
        let serialized = upcast(
            SerializedEvent {
                aggregate_id: self.aggregate_id.clone(),
                sequence: self.sequence as usize,
                aggregate_type: self.aggregate_type.clone(),
                event_type: self.event_type.clone(),
                event_version: self.event_version.clone(),
                payload: self.payload.clone(),
                metadata: serde_json::Value::Null,
            },
            upcasters,
        );
        serde_json::from_value(serialized.payload).map_err(|e| {
            StoreError::Corrupt(format!(
                "{} {} #{} ({} v{}) does not decode: {e}",
                self.aggregate_type,
                self.aggregate_id,
                self.sequence,
                self.event_type,
                self.event_version
            ))
        })
    }
}

/// Runs every upcaster that takes the event's type and version, in order: each one brings
/// an older shape one step closer to the current one.
fn upcast(mut event: SerializedEvent, upcasters: &[Box<dyn EventUpcaster>]) -> SerializedEvent {
    for upcaster in upcasters {
        if upcaster.can_upcast(&event.event_type, &event.event_version) {
            event = upcaster.upcast(event);
        }
    }
    event
}

#[derive(sqlx::FromRow)]
struct EventRow {
    aggregate_type: String,
    aggregate_id: String,
    sequence: i64,
    event_type: String,
    event_version: String,
    payload: String,
    metadata: String,
    tx_id: i64,
    position: i64,
}

impl TryFrom<EventRow> for StoredEvent {
    type Error = StoreError;

    fn try_from(row: EventRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str, e: serde_json::Error| {
            StoreError::Corrupt(format!(
                "{what} of event at position {} is not JSON: {e}",
                row.position
            ))
        };
        Ok(StoredEvent {
            payload: serde_json::from_str(&row.payload).map_err(|e| corrupt("payload", e))?,
            metadata: serde_json::from_str(&row.metadata).map_err(|e| corrupt("metadata", e))?,
            aggregate_type: row.aggregate_type,
            aggregate_id: row.aggregate_id,
            sequence: row.sequence,
            event_type: row.event_type,
            event_version: row.event_version,
            log_position: LogPosition {
                tx: row.tx_id,
                position: row.position,
            },
        })
    }
}

/// Note the alias `tx_id` (a bigint): a bare `ORDER BY tx_id` would sort by it rather than
/// walk the `(tx_id, position)` index, so log reads order by `events.tx_id`.
const PG_COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, event_version, \
    payload::text AS payload, metadata::text AS metadata, tx_id::text::bigint AS tx_id, position";
const SQLITE_COLUMNS: &str = "aggregate_type, aggregate_id, sequence, event_type, event_version, \
    payload, metadata, 0 AS tx_id, position";

/// The columns of `EventRow`, as each backend reads them.
fn columns(backend: Backend) -> &'static str {
    match backend {
        Backend::Postgres => PG_COLUMNS,
        Backend::Sqlite => SQLITE_COLUMNS,
    }
}

/// Converts rows and opens their sealed values with the keys that still exist, reading the
/// keys where the rows were read (a pool or the same transaction).
async fn opened(
    on: &mut Executor<'_>,
    rows: Vec<EventRow>,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut events = rows
        .into_iter()
        .map(StoredEvent::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let keys = vault::keys(on, &vault::ids_needing_keys(&events)).await?;
    vault::open_all(&mut events, &keys);
    Ok(events)
}
