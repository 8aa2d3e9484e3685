//! Appending an aggregate's events inside the command's transaction.

use clientele_domain::customer::CustomerEvent;

use super::{Envelope, EventMetadata, LogEvent, LogPosition, StoredEvent};
use crate::db::{Arg, Batch, Tx};
use crate::vault;
use crate::StoreError;

/// The outcome of writing: a sequence clash means another writer got there first; a
/// unique value another aggregate holds refuses the command.
#[derive(Debug)]
pub(crate) enum AppendError {
    Conflict,
    Duplicate(&'static str),
    Store(StoreError),
}

impl From<StoreError> for AppendError {
    fn from(error: StoreError) -> Self {
        AppendError::Store(error)
    }
}

/// What one command writes for one aggregate, besides its inline read models.
pub(crate) struct Write<'a> {
    pub aggregate_type: &'a str,
    pub aggregate_id: &'a str,
    /// The version the command was decided on.
    pub from_version: u64,
    /// The aggregate was not loaded: the command creates it under an id nobody else can
    /// have chosen, so it has no events and no key (were it otherwise, the primary keys
    /// refuse the write with `Conflict`, and the command is decided again on a load).
    pub fresh: bool,
    pub events: Vec<LogEvent>,
    pub metadata: &'a EventMetadata,
    /// Unique values the aggregate gives up and claims: (kind, value).
    pub released: Vec<(&'static str, String)>,
    pub claimed: Vec<(&'static str, String)>,
    /// The aggregate after the events, serialised.
    pub snapshot: String,
}

/// Writes a command's events after `from_version`, its unique values and its snapshot in
/// `tx`: on PostgreSQL one statement (a batch), on SQLite one statement each. The primary
/// key (type, id, sequence) refuses a second writer of the same version.
///
/// Returns the events as stored (personal fields in clear, as readers see them) and, for
/// the inline projections, the same events still typed: they are not decoded again.
pub(crate) async fn append(
    tx: &mut Tx,
    write: Write<'_>,
) -> Result<(Vec<StoredEvent>, Vec<Envelope>), AppendError> {
    let Write {
        aggregate_type,
        aggregate_id,
        from_version,
        fresh,
        events,
        metadata,
        released,
        claimed,
        snapshot,
    } = write;
    let meta_json = serde_json::to_string(metadata).expect("metadata serialises");
    let mut batch = Batch::default();
    let mut key = None;
    let personal = events
        .iter()
        .any(|e| vault::is_personal(aggregate_type, &e.event_type()));
    if personal {
        if fresh {
            let (new, sql, args) = vault::new_key(aggregate_id);
            batch.push(sql, args);
            key = Some(new);
        } else {
            // A writer racing on the same new aggregate may store its key first: that is
            // the same conflict as its events' (retry, and decide against what it wrote).
            key = Some(match vault::key_for(tx, aggregate_id).await {
                Ok(key) => key,
                Err(error) if is_unique_violation(&error) => return Err(AppendError::Conflict),
                Err(error) => return Err(AppendError::Store(error)),
            });
        }
    }
    let postgres = matches!(tx, Tx::Pg(_));
    let mut rows = Vec::with_capacity(events.len());
    let mut stored = Vec::with_capacity(events.len());
    let mut typed = Vec::with_capacity(events.len());
    let mut deleted = false;
    for (i, event) in events.into_iter().enumerate() {
        let sequence = (from_version + 1 + i as u64) as i64;
        let payload = serde_json::to_value(&event).expect("events serialise");
        let event_type = event.event_type();
        let mut sealed = payload.clone();
        if let Some(key) = &key {
            if vault::is_personal(aggregate_type, &event_type) {
                vault::seal(aggregate_type, &event_type, &mut sealed, key);
            }
        }
        deleted |= matches!(
            &event,
            LogEvent::Customer(CustomerEvent::CustomerDeleted(_))
        );
        let (row, written) = event_row(
            aggregate_type,
            aggregate_id,
            sequence,
            &event,
            payload,
            &sealed,
            &meta_json,
            metadata,
        );
        rows.push(row);
        typed.push(Envelope::new(&written, event));
        stored.push(written);
    }
    for (sql, args) in event_inserts(postgres, rows) {
        batch.push(sql, args);
    }
    let tenant = metadata.tenant.as_str();
    for (kind, value) in &released {
        batch.push(
            "DELETE FROM unique_keys WHERE tenant_id = $1 AND kind = $2 AND value = $3 AND aggregate_id = $4",
            vec![tenant.into(), (*kind).into(), value.as_str().into(), aggregate_id.into()],
        );
    }
    if !claimed.is_empty() {
        let values: Vec<String> = (0..claimed.len())
            .map(|i| format!("($1, $2, ${}, ${})", 3 + 2 * i, 4 + 2 * i))
            .collect();
        let mut args = vec![Arg::from(tenant), Arg::from(aggregate_id)];
        for (kind, value) in &claimed {
            args.push((*kind).into());
            args.push(value.as_str().into());
        }
        // A value another aggregate holds is not inserted (and not returned): after a
        // concurrent claim commits, this one sees it and does nothing.
        batch.push_returning(
            format!(
                "INSERT INTO unique_keys (tenant_id, aggregate_id, kind, value) VALUES {} \
                 ON CONFLICT DO NOTHING RETURNING kind || '/' || value AS value",
                values.join(", ")
            ),
            args,
        );
    }
    batch.push(
        "INSERT INTO aggregate_snapshots (aggregate_type, aggregate_id, version, payload) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET version = excluded.version, payload = excluded.payload",
        vec![
            aggregate_type.into(),
            aggregate_id.into(),
            Arg::Int(from_version as i64 + stored.len() as i64),
            Arg::Text(snapshot),
        ],
    );
    let inserted = match batch.run(tx).await {
        Ok(inserted) => inserted,
        Err(error) if is_unique_violation(&error) => return Err(AppendError::Conflict),
        Err(error) => return Err(AppendError::Store(error)),
    };
    if let Some((kind, _)) = claimed
        .iter()
        .find(|(kind, value)| !inserted.contains(&format!("{kind}/{value}")))
    {
        return Err(AppendError::Duplicate(kind));
    }
    // A deleted customer's key goes with it: its sealed values can never be read again.
    if deleted {
        vault::shred(tx, aggregate_id).await?;
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

/// One aggregate's part of a bulk write: its new events after `from_version`, and its
/// state after them, serialised.
pub(crate) struct Appended {
    pub aggregate_id: String,
    pub from_version: u64,
    pub events: Vec<LogEvent>,
    pub snapshot: String,
}

/// Appends the events of many aggregates of one type that hold no personal fields and no
/// unique values (devices, assets, edges), with their snapshots: on PostgreSQL a few
/// statements of up to 1,000 rows each. The primary key refuses a second writer of any
/// version (`Conflict`: the whole bulk is decided again).
pub(crate) async fn append_many(
    tx: &mut Tx,
    aggregate_type: &str,
    items: Vec<Appended>,
    metadata: &EventMetadata,
) -> Result<Vec<Envelope>, AppendError> {
    const ROWS: usize = 1000;
    let meta_json = serde_json::to_string(metadata).expect("metadata serialises");
    let mut rows = Vec::new();
    let mut snapshots = Vec::new();
    let mut typed = Vec::new();
    for item in items {
        let version = item.from_version + item.events.len() as u64;
        for (i, event) in item.events.into_iter().enumerate() {
            let sequence = (item.from_version + 1 + i as u64) as i64;
            let event_type = event.event_type();
            debug_assert!(!vault::is_personal(aggregate_type, &event_type));
            let payload = serde_json::to_value(&event).expect("events serialise");
            let (row, written) = event_row(
                aggregate_type,
                &item.aggregate_id,
                sequence,
                &event,
                payload.clone(),
                &payload,
                &meta_json,
                metadata,
            );
            rows.push(row);
            typed.push(Envelope::new(&written, event));
        }
        snapshots.push(vec![
            Arg::from(aggregate_type),
            Arg::Text(item.aggregate_id),
            Arg::Int(version as i64),
            Arg::Text(item.snapshot),
        ]);
    }
    let postgres = matches!(tx, Tx::Pg(_));
    let result: Result<(), StoreError> = async {
        for (sql, args) in event_inserts(postgres, rows) {
            tx.execute(&sql, &args).await?;
        }
        for chunk in snapshots.chunks(ROWS) {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| format!("(${}, ${}, ${}, ${})", r * 4 + 1, r * 4 + 2, r * 4 + 3, r * 4 + 4))
                .collect();
            let sql = format!(
                "INSERT INTO aggregate_snapshots (aggregate_type, aggregate_id, version, payload) VALUES {} \
                 ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET version = excluded.version, payload = excluded.payload",
                values.join(", ")
            );
            let args: Vec<Arg> = chunk.iter().flatten().cloned().collect();
            tx.execute(&sql, &args).await?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(typed),
        Err(error) if is_unique_violation(&error) => Err(AppendError::Conflict),
        Err(error) => Err(AppendError::Store(error)),
    }
}

/// An event's row for the log (its payload `sealed`) and the event as readers see it
/// (`payload`, personal fields in clear).
#[allow(clippy::too_many_arguments)]
fn event_row(
    aggregate_type: &str,
    aggregate_id: &str,
    sequence: i64,
    event: &LogEvent,
    payload: serde_json::Value,
    sealed: &serde_json::Value,
    meta_json: &str,
    metadata: &EventMetadata,
) -> (Vec<Arg>, StoredEvent) {
    let row = vec![
        Arg::from(aggregate_type),
        Arg::from(aggregate_id),
        Arg::Int(sequence),
        Arg::Text(event.event_type()),
        Arg::Text(event.event_version()),
        Arg::Text(sealed.to_string()),
        Arg::Text(meta_json.to_string()),
        Arg::from(metadata.tenant.as_str()),
        Arg::Int(metadata.occurred_at.timestamp_micros()),
    ];
    let written = StoredEvent {
        aggregate_type: aggregate_type.to_string(),
        aggregate_id: aggregate_id.to_string(),
        sequence,
        event_version: event.event_version(),
        event_type: event.event_type(),
        payload,
        metadata: metadata.clone(),
        log_position: LogPosition::default(),
    };
    (row, written)
}

/// The statements that insert `rows` (from `event_row`) into the log: on PostgreSQL one
/// multi-row INSERT per 1,000 rows (the position is the column's default, in row order);
/// on SQLite one each, as the position is the log's end plus one, event by event.
fn event_inserts(postgres: bool, rows: Vec<Vec<Arg>>) -> Vec<(String, Vec<Arg>)> {
    const ROWS: usize = 1000;
    if !postgres {
        return rows
            .into_iter()
            .map(|row| {
                let sql = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                     payload, metadata, tenant_id, occurred_at, position) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
                     (SELECT coalesce(max(position), 0) + 1 FROM events))";
                (sql.to_string(), row)
            })
            .collect();
    }
    rows.chunks(ROWS)
        .map(|chunk| {
            let values: Vec<String> = (0..chunk.len())
                .map(|r| {
                    let p = |c: usize| r * 9 + c;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${}::json, ${}::json, ${}, ${})",
                        p(1), p(2), p(3), p(4), p(5), p(6), p(7), p(8), p(9)
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
                 payload, metadata, tenant_id, occurred_at) VALUES {}",
                values.join(", ")
            );
            (sql, chunk.iter().flatten().cloned().collect())
        })
        .collect()
}
