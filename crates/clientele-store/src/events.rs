//! The event log: appending an aggregate's events, loading an aggregate, and reading the
//! whole log in global order.

use chrono::{DateTime, Utc};
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use crate::db::{Arg, Db, Tx};
use crate::vault;
use crate::StoreError;

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

impl StoredEvent {
    /// The event's own fields, without the enum tag.
    pub fn body(&self) -> &serde_json::Value {
        self.payload.get(&self.event_type).unwrap_or(&self.payload)
    }

    /// Deserialises into the aggregate's event type, upcasting older shapes first.
    pub fn decode<A: Aggregate>(
        &self,
        upcasters: &[Box<dyn EventUpcaster>],
    ) -> Result<A::Event, StoreError> {
        let mut serialized = SerializedEvent {
            aggregate_id: self.aggregate_id.clone(),
            sequence: self.sequence as usize,
            aggregate_type: self.aggregate_type.clone(),
            event_type: self.event_type.clone(),
            event_version: self.event_version.clone(),
            payload: self.payload.clone(),
            metadata: serde_json::Value::Null,
        };
        for upcaster in upcasters {
            if upcaster.can_upcast(&serialized.event_type, &serialized.event_version) {
                serialized = upcaster.upcast(serialized);
            }
        }
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

fn columns(db: &Db) -> &'static str {
    match db {
        Db::Postgres(_) => PG_COLUMNS,
        Db::Sqlite { .. } => SQLITE_COLUMNS,
    }
}

/// The outcome of appending: a sequence clash means another writer got there first.
#[derive(Debug)]
pub(crate) enum AppendError {
    Conflict,
    Database(sqlx::Error),
    Store(StoreError),
}

/// Appends `events` after `from_version` in `tx`. The primary key (type, id, sequence)
/// refuses a second writer of the same version.
pub(crate) async fn append<A: Aggregate>(
    tx: &mut Tx,
    aggregate_id: &str,
    from_version: u64,
    events: &[A::Event],
    metadata: &EventMetadata,
) -> Result<Vec<StoredEvent>, AppendError> {
    let meta_json = serde_json::to_string(metadata).expect("metadata serialises");
    let mut stored = Vec::with_capacity(events.len());
    let mut key = None;
    for (i, event) in events.iter().enumerate() {
        let sequence = (from_version + 1 + i as u64) as i64;
        let payload = serde_json::to_value(event).expect("events serialise");
        let event_type = event.event_type();
        let mut sealed = payload.clone();
        if vault::is_personal(A::TYPE, &event_type) {
            if key.is_none() {
                key = Some(
                    vault::key_for(tx, aggregate_id)
                        .await
                        .map_err(AppendError::Store)?,
                );
            }
            vault::seal(
                A::TYPE,
                &event_type,
                &mut sealed,
                key.as_ref().expect("just set"),
            );
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
            Arg::from(A::TYPE),
            Arg::from(aggregate_id),
            Arg::Int(sequence),
            Arg::Text(event.event_type()),
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
                AppendError::Database(error)
            });
        }
        if A::TYPE == "Customer" && event_type == "CustomerDeleted" {
            vault::shred(tx, aggregate_id)
                .await
                .map_err(AppendError::Store)?;
        }
        stored.push(StoredEvent {
            aggregate_type: A::TYPE.to_string(),
            aggregate_id: aggregate_id.to_string(),
            sequence,
            event_type: event.event_type(),
            event_version: event.event_version(),
            payload,
            metadata: metadata.clone(),
            log_position: LogPosition::default(),
        });
    }
    Ok(stored)
}

/// True for a unique or primary-key violation on either backend.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Database(db) => db.is_unique_violation(),
        _ => false,
    }
}

const AGGREGATE_EVENTS_WHERE: &str =
    "FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 ORDER BY sequence LIMIT $4";

/// Events of one aggregate after `after_sequence`, in order.
pub async fn aggregate_events(
    db: &Db,
    aggregate_type: &str,
    aggregate_id: &str,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let sql = format!("SELECT {} {AGGREGATE_EVENTS_WHERE}", columns(db));
    let args = [
        aggregate_type.into(),
        aggregate_id.into(),
        after_sequence.into(),
        limit.into(),
    ];
    let rows: Vec<EventRow> = db.fetch_all(&sql, &args).await?;
    opened_from(db, rows).await
}

/// Converts rows read from a pool and opens their sealed values with the keys that exist.
async fn opened_from(db: &Db, rows: Vec<EventRow>) -> Result<Vec<StoredEvent>, StoreError> {
    let mut events = rows
        .into_iter()
        .map(StoredEvent::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let keys = vault::keys(db, &vault::ids_needing_keys(&events)).await?;
    vault::open_all(&mut events, &keys);
    Ok(events)
}

/// As `aggregate_events`, inside a transaction.
async fn aggregate_events_in(
    tx: &mut Tx,
    aggregate_type: &str,
    aggregate_id: &str,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let columns = match tx {
        Tx::Pg(_) => PG_COLUMNS,
        Tx::Lite(_) => SQLITE_COLUMNS,
    };
    let sql = format!("SELECT {columns} {AGGREGATE_EVENTS_WHERE}");
    let args = [
        aggregate_type.into(),
        aggregate_id.into(),
        after_sequence.into(),
        limit.into(),
    ];
    let rows: Vec<EventRow> = tx.fetch_all(&sql, &args).await?;
    opened(tx, rows).await
}

/// Converts rows and opens their sealed values with the keys that still exist.
async fn opened(tx: &mut Tx, rows: Vec<EventRow>) -> Result<Vec<StoredEvent>, StoreError> {
    let mut events = rows
        .into_iter()
        .map(StoredEvent::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    let keys = vault::keys_in(tx, &vault::ids_needing_keys(&events)).await?;
    vault::open_all(&mut events, &keys);
    Ok(events)
}

/// Up to `limit` events after `after` in global order, never skipping one committed late.
///
/// On PostgreSQL only transactions older than every running transaction are read
/// (`tx_id < pg_snapshot_xmin`): a transaction still running may commit with an older
/// position than events already visible, and this waits for it rather than skip it.
pub async fn read_log(
    tx: &mut Tx,
    after: LogPosition,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<EventRow> = match tx {
        Tx::Pg(_) => {
            let sql = format!(
                "SELECT {PG_COLUMNS} FROM events \
                 WHERE (tx_id, position) > ($1::text::xid8, $2) \
                   AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) \
                 ORDER BY events.tx_id, events.position LIMIT {limit}"
            );
            // The limit is written into the text: with `LIMIT $n`, PostgreSQL's generic plan
            // (used after five runs of a prepared statement) cannot count on a small limit and
            // may sort the whole log instead of walking the index.
            tx.fetch_all(
                &sql,
                &[Arg::Text(after.tx.to_string()), after.position.into()],
            )
            .await?
        }
        Tx::Lite(_) => {
            let sql = format!("SELECT {SQLITE_COLUMNS} FROM events WHERE position > $1 ORDER BY position LIMIT $2");
            tx.fetch_all(&sql, &[after.position.into(), limit.into()])
                .await?
        }
    };
    opened(tx, rows).await
}

/// As `read_log`, for a reader that may hold up writers: on PostgreSQL it first takes a
/// SHARE lock on `events`, which waits for every transaction still writing events to end
/// and keeps new ones out until this transaction ends. Every event is then committed, so
/// no horizon is needed, and long transactions elsewhere in the cluster (other databases)
/// do not hold the reader back. Meant for `rebuild`, which runs on a stopped service.
pub async fn read_log_exclusive(
    tx: &mut Tx,
    after: LogPosition,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let rows: Vec<EventRow> = match tx {
        Tx::Pg(_) => {
            tx.execute("LOCK TABLE events IN SHARE MODE", &[]).await?;
            let sql = format!(
                "SELECT {PG_COLUMNS} FROM events \
                 WHERE (tx_id, position) > ($1::text::xid8, $2) \
                 ORDER BY events.tx_id, events.position LIMIT {limit}"
            );
            tx.fetch_all(
                &sql,
                &[Arg::Text(after.tx.to_string()), after.position.into()],
            )
            .await?
        }
        Tx::Lite(_) => return read_log(tx, after, limit).await,
    };
    opened(tx, rows).await
}

/// An aggregate as loaded for a command: its state and its version.
pub(crate) struct Loaded<A> {
    pub aggregate: A,
    pub version: u64,
}

#[derive(sqlx::FromRow)]
struct SnapshotRow {
    version: i64,
    payload: String,
}

/// Loads an aggregate, inside the command's transaction, from its snapshot plus any
/// events after it (normally none: the snapshot is written with the events).
///
/// On PostgreSQL the snapshot row is locked (`FOR UPDATE`), so commands on one aggregate
/// queue up instead of colliding; on SQLite the one write connection does the same.
pub(crate) async fn load<A: Aggregate>(
    tx: &mut Tx,
    aggregate_id: &str,
    upcasters: &[Box<dyn EventUpcaster>],
) -> Result<Loaded<A>, StoreError> {
    let sql = match tx {
        Tx::Pg(_) => {
            "SELECT version, payload FROM aggregate_snapshots WHERE aggregate_type = $1 AND aggregate_id = $2 FOR UPDATE"
        }
        Tx::Lite(_) => "SELECT version, payload FROM aggregate_snapshots WHERE aggregate_type = $1 AND aggregate_id = $2",
    };
    let snapshot: Option<SnapshotRow> = tx
        .fetch_optional(sql, &[A::TYPE.into(), aggregate_id.into()])
        .await?;
    let (mut aggregate, mut version) = match snapshot {
        // A snapshot of an older shape is ignored and the history folded instead.
        Some(row) => match serde_json::from_str::<A>(&row.payload) {
            Ok(aggregate) => (aggregate, row.version as u64),
            Err(error) => {
                tracing::warn!(aggregate_id, %error, "snapshot does not decode; folding the full history");
                (A::default(), 0)
            }
        },
        None => (A::default(), 0),
    };
    loop {
        let events = aggregate_events_in(tx, A::TYPE, aggregate_id, version as i64, 1000).await?;
        if events.is_empty() {
            break;
        }
        for event in &events {
            aggregate.apply(event.decode::<A>(upcasters)?);
            version = event.sequence as u64;
        }
    }
    Ok(Loaded { aggregate, version })
}

/// Folds an aggregate from its full history with postgres-es's or sqlite-es's own
/// repository, ignoring snapshots: the reference that a snapshot must equal.
pub async fn fold_history<A: Aggregate>(
    db: &Db,
    aggregate_id: &str,
    upcasters: &[Box<dyn EventUpcaster>],
) -> Result<(A, u64), StoreError> {
    use cqrs_es::persist::PersistedEventRepository;
    let events = match db {
        Db::Postgres(pool) => {
            postgres_es::PostgresEventRepository::new(pool.clone())
                .get_events::<A>(aggregate_id)
                .await
        }
        Db::Sqlite { read, .. } => {
            sqlite_es::SqliteEventRepository::new(read.clone())
                .get_events::<A>(aggregate_id)
                .await
        }
    }
    .map_err(|e| StoreError::Corrupt(format!("reading {aggregate_id}'s history: {e}")))?;
    let keys = vault::keys(db, &[aggregate_id.to_string()]).await?;
    let mut aggregate = A::default();
    let mut version = 0;
    for mut event in events {
        vault::open(
            A::TYPE,
            aggregate_id,
            &event.event_type,
            &mut event.payload,
            &keys,
        );
        for upcaster in upcasters {
            if upcaster.can_upcast(&event.event_type, &event.event_version) {
                event = upcaster.upcast(event);
            }
        }
        version = event.sequence as u64;
        let decoded = serde_json::from_value(event.payload).map_err(|e| {
            StoreError::Corrupt(format!("{aggregate_id} #{version} does not decode: {e}"))
        })?;
        aggregate.apply(decoded);
    }
    Ok((aggregate, version))
}

/// Writes the aggregate's state at `version` in the command's transaction.
pub(crate) async fn save_snapshot<A: Aggregate>(
    tx: &mut Tx,
    aggregate_id: &str,
    aggregate: &A,
    version: u64,
) -> Result<(), sqlx::Error> {
    let payload = serde_json::to_string(aggregate).expect("aggregates serialise");
    tx.execute(
        "INSERT INTO aggregate_snapshots (aggregate_type, aggregate_id, version, payload) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET version = excluded.version, payload = excluded.payload",
        &[A::TYPE.into(), aggregate_id.into(), Arg::Int(version as i64), Arg::Text(payload)],
    )
    .await?;
    Ok(())
}

/// A tenant's events in global order after `after`, at most `limit` (for exports).
pub async fn tenant_log(
    db: &Db,
    tenant: &str,
    after: LogPosition,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let (sql, args) = match db {
        Db::Postgres(_) => (
            format!(
                "SELECT {PG_COLUMNS} FROM events WHERE tenant_id = $1 AND (tx_id, position) > ($2::text::xid8, $3) \
                 ORDER BY events.tx_id, events.position LIMIT {limit}"
            ),
            vec![tenant.into(), Arg::Text(after.tx.to_string()), after.position.into()],
        ),
        Db::Sqlite { .. } => (
            format!("SELECT {SQLITE_COLUMNS} FROM events WHERE tenant_id = $1 AND position > $2 ORDER BY position LIMIT $3"),
            vec![tenant.into(), after.position.into(), limit.into()],
        ),
    };
    let rows: Vec<EventRow> = db.fetch_all(&sql, &args).await?;
    opened_from(db, rows).await
}
