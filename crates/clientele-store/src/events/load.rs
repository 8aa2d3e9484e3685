//! Loading an aggregate: from its snapshot plus the events after it for a command, or from
//! its full history (the reference a snapshot must equal).

use clientele_domain::customer::Customer;
use cqrs_es::persist::EventUpcaster;
use cqrs_es::Aggregate;

use super::{columns, opened, upcast, EventRow, StoredEvent};
use crate::db::{Db, Executor, Tx};
use crate::vault;
use crate::StoreError;

/// Events of one aggregate after `after_sequence`, in order, read on a pool (one query for
/// the events, one for the keys of the personal fields among them) or in a transaction.
pub async fn aggregate_events<'a>(
    on: impl Into<Executor<'a>>,
    aggregate_type: &str,
    aggregate_id: &str,
    after_sequence: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut on = on.into();
    let sql = format!(
        "SELECT {} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 AND sequence > $3 \
         ORDER BY sequence LIMIT $4",
        columns(on.backend())
    );
    let args = [
        aggregate_type.into(),
        aggregate_id.into(),
        after_sequence.into(),
        limit.into(),
    ];
    let rows: Vec<EventRow> = on.fetch_all(&sql, &args).await?;
    opened(&mut on, rows).await
}

/// A customer's whole history after global position `after`, at most `limit`, in position
/// order: its own events and the assignment events that name it (`customer_assignment_log`:
/// a device arriving, leaving, or moving on to another customer).
pub async fn customer_log_events<'a>(
    on: impl Into<Executor<'a>>,
    tenant: &str,
    customer_id: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<StoredEvent>, StoreError> {
    let mut on = on.into();
    let columns = columns(on.backend());
    let sql = format!(
        "SELECT * FROM (\
           SELECT {columns} FROM events WHERE aggregate_type = $1 AND aggregate_id = $2 \
           UNION ALL \
           SELECT {columns} FROM events WHERE (aggregate_type, aggregate_id, sequence) IN \
             (SELECT aggregate_type, aggregate_id, sequence FROM customer_assignment_log \
              WHERE tenant_id = $4 AND customer_id = $2)\
         ) AS history WHERE position > $3 ORDER BY position LIMIT $5"
    );
    let args = [
        Customer::TYPE.into(),
        customer_id.into(),
        after.into(),
        tenant.into(),
        limit.into(),
    ];
    let rows: Vec<EventRow> = on.fetch_all(&sql, &args).await?;
    opened(&mut on, rows).await
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
        let events =
            aggregate_events(&mut *tx, A::TYPE, aggregate_id, version as i64, 1000).await?;
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
    let keys = vault::keys(&mut Executor::Pool(db), &[aggregate_id.to_string()]).await?;
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
        let event = upcast(event, upcasters);
        version = event.sequence as u64;
        let decoded = serde_json::from_value(event.payload).map_err(|e| {
            StoreError::Corrupt(format!("{aggregate_id} #{version} does not decode: {e}"))
        })?;
        aggregate.apply(decoded);
    }
    Ok((aggregate, version))
}
