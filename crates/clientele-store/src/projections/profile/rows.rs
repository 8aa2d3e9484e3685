//! Reading and writing `customers` rows, and the changes applied one event at a time.

use std::collections::{BTreeMap, HashMap};

use super::super::{assignments, tree};
use super::change::{created_record, Alone, Fold, RowChange, Tracked};
use crate::db::{enum_text, Arg, Tx};
use crate::events::Envelope;
use crate::profile::{search_text, CustomerRecord, CustomerRow, COLUMNS, READ_COLUMNS};
use crate::StoreError;

/// Applies one event's change to the table (the inline path, and events a batch applies
/// alone). Idempotent: an event the row already reflects (by version) changes nothing, so
/// the inline path and a rebuild never double-apply.
pub(super) async fn apply_change(
    tx: &mut Tx,
    e: &Envelope,
    change: RowChange<'_>,
) -> Result<(), StoreError> {
    let fold = match change {
        RowChange::Alone(alone) => return apply_alone(tx, e, alone).await,
        RowChange::Tracked(Tracked::Insert(created)) => {
            return insert_rows(tx, &[&created_record(e, created)]).await
        }
        RowChange::Tracked(Tracked::Fold(fold)) => fold,
    };
    match fold {
        Fold::Edit(_) | Fold::Erase => {
            let key = (e.tenant().to_string(), e.aggregate_id.clone());
            let mut found = load_rows(tx, std::slice::from_ref(&key)).await?;
            let Some(mut record) = found.remove(&key) else {
                return Err(no_row(e));
            };
            if record.version >= e.sequence {
                return Ok(());
            }
            fold.apply(&mut record, e);
            write_row(tx, &record, false).await
        }
        Fold::Status(status) => touch(tx, e, Some(status.as_str())).await,
        Fold::Version => touch(tx, e, None).await,
    }
}

/// Applies a change that is always applied by itself.
pub(super) async fn apply_alone(
    tx: &mut Tx,
    e: &Envelope,
    alone: Alone<'_>,
) -> Result<(), StoreError> {
    match alone {
        Alone::Moved(moved) => tree::moved(tx, e, moved).await,
        Alone::HomeDashboard(set) => assignments::home_dashboard(tx, e, set).await,
    }
}

/// The read model has no row for a customer whose event needs one.
pub(super) fn no_row(e: &Envelope) -> StoreError {
    StoreError::Corrupt(format!(
        "{} #{} of {} has no customer row",
        e.event.event_type(),
        e.sequence,
        e.aggregate_id
    ))
}

/// Moves the row's version and update time, and its account status when one is given.
async fn touch(tx: &mut Tx, e: &Envelope, status: Option<&str>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE customers SET version = $3, updated_at = $4, account_status = coalesce($5, account_status) \
         WHERE tenant_id = $1 AND id = $2 AND version < $3",
        &[
            Arg::from(e.tenant()),
            Arg::from(e.aggregate_id.as_str()),
            Arg::Int(e.sequence),
            Arg::Int(e.occurred_at().timestamp_micros()),
            Arg::OptText(status.map(str::to_string)),
        ],
    )
    .await?;
    Ok(())
}

/// Writes the whole row: inserted (left alone if it exists), or updated over an older row.
pub(super) async fn write_row(
    tx: &mut Tx,
    record: &CustomerRecord,
    insert: bool,
) -> Result<(), StoreError> {
    if insert {
        return insert_rows(tx, &[record]).await;
    }
    let args = row_args(record);
    let sets: Vec<String> = COLUMNS
        .split(", ")
        .chain(["search_text"])
        .enumerate()
        .skip(2)
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE customers SET {} WHERE tenant_id = $1 AND id = $2 AND version < $3",
        sets.join(", ")
    );
    tx.execute(&sql, &args).await?;
    Ok(())
}

/// Inserts new rows (an existing one is left alone), many to a statement.
pub(super) async fn insert_rows(
    tx: &mut Tx,
    records: &[&CustomerRecord],
) -> Result<(), StoreError> {
    // 34 values a row: 300 rows stay far below either backend's limit on parameters.
    for chunk in records.chunks(300) {
        let mut args = Vec::with_capacity(chunk.len() * 34);
        let mut tuples = Vec::with_capacity(chunk.len());
        for record in chunk {
            let first = args.len();
            args.extend(row_args(record));
            let placeholders: Vec<String> =
                (first + 1..=args.len()).map(|i| format!("${i}")).collect();
            tuples.push(format!("({})", placeholders.join(", ")));
        }
        let sql = format!(
            "INSERT INTO customers ({COLUMNS}, search_text) VALUES {} ON CONFLICT (tenant_id, id) DO NOTHING",
            tuples.join(", ")
        );
        tx.execute(&sql, &args).await?;
    }
    Ok(())
}

/// The values of COLUMNS and search_text, in order.
fn row_args(record: &CustomerRecord) -> Vec<Arg> {
    let p = &record.profile;
    vec![
        Arg::from(record.tenant.as_str()),
        Arg::from(record.id.as_str()),
        Arg::Int(record.version),
        Arg::Text(p.name.clone()),
        Arg::OptText(p.email.clone()),
        Arg::OptText(p.given_name.clone()),
        Arg::OptText(p.family_name.clone()),
        Arg::OptText(p.organization.clone()),
        Arg::OptText(p.shortname.clone()),
        Arg::OptText(p.customer_type.as_ref().map(enum_text)),
        Arg::OptText(p.service_status.as_ref().map(enum_text)),
        Arg::OptInt(p.contractual_flows_per_second),
        Arg::Bool(p.multi_account),
        Arg::Bool(p.internal),
        Arg::Bool(p.test_account),
        Arg::OptInt(p.data_retention_days.map(i64::from)),
        Arg::OptInt(p.rollup_retention_days.map(i64::from)),
        Arg::Text(p.language.clone()),
        Arg::OptText(p.seller.clone()),
        Arg::OptText(p.custom_id.clone()),
        Arg::OptText(p.title.clone()),
        Arg::OptText(p.country.clone()),
        Arg::OptText(p.city.clone()),
        Arg::OptText(p.address.clone()),
        Arg::OptText(p.phone.clone()),
        Arg::from(record.account_status.as_str()),
        Arg::Int(record.created_at.timestamp_micros()),
        Arg::Int(record.updated_at.timestamp_micros()),
        Arg::Bool(record.own_company),
        Arg::OptText(p.state.clone()),
        Arg::OptText(p.zip.clone()),
        Arg::OptText(p.address2.clone()),
        Arg::OptText(record.requested_name.clone()),
        Arg::Text(search_text(p)),
    ]
}

/// The rows of `keys` (tenant, id), read a few hundred to a query (one tenant a query, so
/// it is a lookup in the primary key).
pub(super) async fn load_rows(
    tx: &mut Tx,
    keys: &[(String, String)],
) -> Result<HashMap<(String, String), CustomerRecord>, StoreError> {
    let mut by_tenant: BTreeMap<&str, Vec<&str>> = Default::default();
    for (tenant, id) in keys {
        by_tenant.entry(tenant).or_default().push(id);
    }
    let mut found = HashMap::with_capacity(keys.len());
    for (tenant, ids) in by_tenant {
        for chunk in ids.chunks(500) {
            let mut args = vec![Arg::from(tenant)];
            args.extend(chunk.iter().map(|id| Arg::from(*id)));
            let placeholders: Vec<String> = (2..=args.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {READ_COLUMNS} FROM customers WHERE tenant_id = $1 AND id IN ({})",
                placeholders.join(", ")
            );
            // Planned for the ids given: each list length is a statement of its own, and a
            // plan cached while the table was small scans it once it has grown.
            let rows: Vec<CustomerRow> = tx.fetch_all_planned(&sql, &args).await?;
            for row in rows {
                let record = CustomerRecord::try_from(row)?;
                found.insert((record.tenant.clone(), record.id.clone()), record);
            }
        }
    }
    Ok(found)
}
