//! Bulk assignment: many devices, assets or edges to one customer in one transaction, each
//! decided by its own aggregate exactly as a single `assign`, with loads and writes of up
//! to a thousand rows per statement.

use std::collections::{BTreeSet, HashMap, HashSet};

use clientele_domain::assignment::{AssignmentError, Exclusive, Owned, OwnershipCommand};
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

use super::{entity_aggregate_id, BulkAssigned};
use crate::aggregates::customer_state;
use crate::commands::StoredAggregate;
use crate::db::{Arg, Executor, Tx};
use crate::events::{append_many, load, AppendError, Appended, EventMetadata};
use crate::projections::apply_inline_batch;
use crate::{CommandError, Store, StoreError};

/// Entities loaded, decided and written per statement.
const ROWS: usize = 1000;

/// Decides and writes the bulk in `tx` (the caller commits). `None`: another writer
/// created one of the entities first; decide again in a new transaction.
pub(super) async fn assign<K: Exclusive>(
    store: &Store,
    tx: &mut Tx,
    customer_id: &str,
    ids: &[&str],
    metadata: &EventMetadata,
) -> Result<Option<BulkAssigned>, CommandError<AssignmentError>> {
    let tenant = metadata.tenant.as_str();
    // Share-locked until commit, as by each single assignment: it cannot be deleted first.
    let target = customer_state(tx, tenant, customer_id, true).await?;
    let mut done = BulkAssigned::default();
    let mut items = Vec::new();
    for chunk in ids.chunks(ROWS) {
        let aggregate_ids: Vec<String> = chunk
            .iter()
            .map(|id| entity_aggregate_id(tenant, id))
            .collect();
        let loaded = load_many::<K>(store, tx, &aggregate_ids).await?;
        let owners: BTreeSet<&str> = loaded
            .iter()
            .filter_map(|(aggregate, _)| aggregate.owner.as_deref())
            .collect();
        let live = live_customers(tx, tenant, &owners).await?;
        for ((mut aggregate, version), (entity_id, aggregate_id)) in
            loaded.into_iter().zip(chunk.iter().zip(aggregate_ids))
        {
            // As `prepare` says for one entity: an owner that is not live released it.
            let owner_deleted = aggregate
                .owner
                .as_deref()
                .is_some_and(|owner| !live.contains(owner));
            let command = OwnershipCommand::Assign {
                tenant: tenant.to_string(),
                entity_id: entity_id.to_string(),
                customer_id: customer_id.to_string(),
                target,
                owner_deleted,
            };
            let sink = EventSink::default();
            aggregate
                .handle(command, &(), &sink)
                .await
                .map_err(CommandError::Rejected)?;
            let events = sink.collect().await;
            if events.is_empty() {
                done.unchanged += 1;
                continue;
            }
            done.assigned += 1;
            items.push(Appended {
                aggregate_id,
                from_version: version,
                events: events.into_iter().map(Owned::<K>::logged).collect(),
                snapshot: serde_json::to_string(&aggregate).expect("aggregates serialise"),
            });
        }
    }
    if items.is_empty() {
        return Ok(Some(done));
    }
    let typed = match append_many(tx, Owned::<K>::TYPE, items, metadata).await {
        Ok(typed) => typed,
        Err(AppendError::Conflict) => return Ok(None),
        Err(AppendError::Store(error)) => return Err(error.into()),
        Err(AppendError::Duplicate(_)) => unreachable!("entities claim no unique values"),
    };
    apply_inline_batch(tx, &typed).await?;
    Ok(Some(done))
}

/// The entities' aggregates and versions, in the order of `aggregate_ids`: from their
/// snapshots (locked on PostgreSQL, as a single load locks one), or, where a snapshot is
/// missing, behind the log or of an older shape, loaded one by one as a command would.
async fn load_many<K: Exclusive>(
    store: &Store,
    tx: &mut Tx,
    aggregate_ids: &[String],
) -> Result<Vec<(Owned<K>, u64)>, StoreError> {
    let marks: Vec<String> = (0..aggregate_ids.len())
        .map(|i| format!("${}", i + 2))
        .collect();
    let lock = if matches!(tx, Tx::Pg(_)) {
        " FOR UPDATE"
    } else {
        ""
    };
    let mut args = vec![Arg::from(Owned::<K>::TYPE)];
    args.extend(aggregate_ids.iter().map(|id| Arg::from(id.as_str())));
    // Planned for these ids (a generic plan, made while the tables were small, scans them).
    let snapshots: Vec<(String, i64, String)> = Executor::Tx(tx)
        .fetch_all_planned(
            &format!(
                "SELECT aggregate_id, version, payload FROM aggregate_snapshots \
                 WHERE aggregate_type = $1 AND aggregate_id IN ({}){lock}",
                marks.join(", ")
            ),
            &args,
        )
        .await?;
    let heads: Vec<(String, i64)> = Executor::Tx(tx)
        .fetch_all_planned(
            &format!(
                "SELECT aggregate_id, max(sequence) FROM events \
                 WHERE aggregate_type = $1 AND aggregate_id IN ({}) GROUP BY aggregate_id",
                marks.join(", ")
            ),
            &args,
        )
        .await?;
    let heads: HashMap<String, i64> = heads.into_iter().collect();
    let mut snapshots: HashMap<String, (i64, String)> = snapshots
        .into_iter()
        .map(|(id, version, payload)| (id, (version, payload)))
        .collect();
    let mut out = Vec::with_capacity(aggregate_ids.len());
    for id in aggregate_ids {
        let head = heads.get(id).copied().unwrap_or(0);
        let from_snapshot = match snapshots.remove(id) {
            Some((version, payload)) if version == head => {
                serde_json::from_str::<Owned<K>>(&payload)
                    .ok()
                    .map(|aggregate| (aggregate, version as u64))
            }
            None if head == 0 => Some((Owned::<K>::default(), 0)),
            _ => None,
        };
        match from_snapshot {
            Some(loaded) => out.push(loaded),
            None => {
                let loaded = load::<Owned<K>>(tx, id, store.upcasters()).await?;
                out.push((loaded.aggregate, loaded.version));
            }
        }
    }
    Ok(out)
}

/// Which of `ids` are live customers of the tenant.
async fn live_customers(
    tx: &mut Tx,
    tenant: &str,
    ids: &BTreeSet<&str>,
) -> Result<HashSet<String>, StoreError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let mut args = vec![Arg::from(tenant)];
    args.extend(ids.iter().map(|id| Arg::from(*id)));
    let rows: Vec<(String, String)> = Executor::Tx(tx)
        .fetch_all_planned(
            &format!(
                "SELECT id, account_status FROM customers WHERE tenant_id = $1 AND id IN ({})",
                marks.join(", ")
            ),
            &args,
        )
        .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, status)| status != "DELETED")
        .map(|(id, _)| id)
        .collect())
}
