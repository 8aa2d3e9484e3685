//! The batch path of the assignments projection: runs of ownership events folded in memory
//! and written a thousand rows a statement (bulk assignment, the runner, `rebuild`).

use std::collections::{BTreeMap, HashMap};

use clientele_domain::assignment::EntityKind;

use super::{apply, count, kind_type, named, ownership};
use crate::db::{Arg, Executor, Tx};
use crate::events::{Envelope, LogEvent};
use crate::StoreError;

/// Rows a batch statement takes at once.
const ROWS: usize = 1000;

/// Applies a batch of the log: runs of consecutive device, asset and edge events are
/// folded in memory and written with a few statements (what a bulk assignment, the runner
/// and `rebuild` produce); every other event is applied by itself. The same rows as `apply`
/// on each event.
pub(crate) async fn apply_batch(tx: &mut Tx, events: &[Envelope]) -> Result<(), StoreError> {
    let mut start = 0;
    while start < events.len() {
        let end = start
            + events[start..]
                .iter()
                .take_while(|e| matches!(e.event, LogEvent::Entity(_)))
                .count();
        if end == start {
            apply(tx, &events[start]).await?;
            start += 1;
        } else {
            for run in events[start..end].chunks(ROWS) {
                owned_run(tx, run).await?;
            }
            start = end;
        }
    }
    Ok(())
}

/// The state of one entity's row while a run is folded.
#[derive(Clone)]
struct Row {
    customer_id: Option<String>,
    assigned_at: i64,
    version: i64,
    changed: bool,
}

/// Folds a run of ownership events (at most `ROWS`) into `assigned_entities`,
/// `assignment_counts` and `customer_assignment_log`.
async fn owned_run(tx: &mut Tx, run: &[Envelope]) -> Result<(), StoreError> {
    // (tenant, kind, entity) → row, loaded for the entities the run names.
    let mut rows: BTreeMap<(String, EntityKind, String), Row> = BTreeMap::new();
    let mut wanted: BTreeMap<(String, EntityKind), Vec<String>> = BTreeMap::new();
    for e in run {
        let LogEvent::Entity(event) = &e.event else {
            unreachable!("a run holds ownership events only")
        };
        let (kind, entity_id, _) = ownership(event);
        wanted
            .entry((e.tenant().to_string(), kind))
            .or_default()
            .push(entity_id.to_string());
    }
    for ((tenant, kind), mut ids) in wanted {
        ids.sort();
        ids.dedup();
        let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
        let sql = format!(
            "SELECT entity_id, customer_id, assigned_at, version FROM assigned_entities \
             WHERE tenant_id = $1 AND kind = $2 AND entity_id IN ({})",
            marks.join(", ")
        );
        let mut args = vec![Arg::from(tenant.as_str()), Arg::from(kind.as_str())];
        args.extend(ids.iter().map(|id| Arg::from(id.as_str())));
        // Planned for these ids: a generic plan, made while the table was small, scans it.
        let found: Vec<(String, Option<String>, i64, i64)> =
            Executor::Tx(tx).fetch_all_planned(&sql, &args).await?;
        for (entity_id, customer_id, assigned_at, version) in found {
            let row = Row {
                customer_id,
                assigned_at,
                version,
                changed: false,
            };
            rows.insert((tenant.clone(), kind, entity_id), row);
        }
    }
    let mut deltas: HashMap<(String, String, EntityKind), i64> = HashMap::new();
    let mut log: Vec<[Arg; 5]> = Vec::new();
    for e in run {
        let LogEvent::Entity(event) = &e.event else {
            unreachable!("a run holds ownership events only")
        };
        let (kind, entity_id, to) = ownership(event);
        let tenant = e.tenant().to_string();
        for customer in named(event) {
            log.push([
                Arg::from(tenant.as_str()),
                Arg::from(customer),
                Arg::from(kind_type(kind)),
                Arg::from(e.aggregate_id.as_str()),
                Arg::Int(e.sequence),
            ]);
        }
        let key = (tenant.clone(), kind, entity_id.to_string());
        let row = rows.entry(key).or_insert(Row {
            customer_id: None,
            assigned_at: 0,
            version: 0,
            changed: false,
        });
        if row.version >= e.sequence {
            continue;
        }
        if let Some(from) = row.customer_id.take() {
            *deltas.entry((tenant.clone(), from, kind)).or_default() -= 1;
        }
        if let Some(to) = to {
            *deltas
                .entry((tenant.clone(), to.to_string(), kind))
                .or_default() += 1;
        }
        *row = Row {
            customer_id: to.map(str::to_string),
            assigned_at: e.occurred_at().timestamp_micros(),
            version: e.sequence,
            changed: true,
        };
    }
    let changed: Vec<_> = rows.into_iter().filter(|(_, row)| row.changed).collect();
    if !changed.is_empty() {
        let values: Vec<String> = (0..changed.len())
            .map(|i| {
                let p = |c: usize| i * 6 + c;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${})",
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO assigned_entities (tenant_id, kind, entity_id, customer_id, assigned_at, version) \
             VALUES {} ON CONFLICT (tenant_id, kind, entity_id) DO UPDATE SET \
             customer_id = excluded.customer_id, assigned_at = excluded.assigned_at, version = excluded.version",
            values.join(", ")
        );
        let mut args = Vec::with_capacity(changed.len() * 6);
        for ((tenant, kind, entity_id), row) in changed {
            args.extend([
                Arg::Text(tenant),
                Arg::from(kind.as_str()),
                Arg::Text(entity_id),
                Arg::OptText(row.customer_id),
                Arg::Int(row.assigned_at),
                Arg::Int(row.version),
            ]);
        }
        tx.execute(&sql, &args).await?;
    }
    let mut deltas: Vec<_> = deltas.into_iter().filter(|(_, d)| *d != 0).collect();
    deltas.sort();
    for ((tenant, customer, kind), delta) in deltas {
        count(tx, &tenant, &customer, kind, delta).await?;
    }
    if !log.is_empty() {
        let values: Vec<String> = (0..log.len())
            .map(|i| {
                let p = |c: usize| i * 5 + c;
                format!("(${}, ${}, ${}, ${}, ${})", p(1), p(2), p(3), p(4), p(5))
            })
            .collect();
        let sql = format!(
            "INSERT INTO customer_assignment_log (tenant_id, customer_id, aggregate_type, aggregate_id, sequence) \
             VALUES {} ON CONFLICT DO NOTHING",
            values.join(", ")
        );
        let args: Vec<Arg> = log.into_iter().flatten().collect();
        tx.execute(&sql, &args).await?;
    }
    Ok(())
}
