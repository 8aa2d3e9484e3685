//! The tree's columns of `customers` (`parent_id`, `ancestry`): a move rewrites the paths
//! of the customer's whole subtree in the same transaction. Part of the `customers`
//! projection.

use clientele_domain::customer::CustomerMoved;

use crate::db::{Arg, Tx};
use crate::events::Envelope;
use crate::tree::subtree_range;
use crate::StoreError;

/// Puts a customer under its new parent, and moves the paths of its whole subtree with it.
pub(super) async fn moved(
    tx: &mut Tx,
    e: &Envelope,
    moved: &CustomerMoved,
) -> Result<(), StoreError> {
    let tenant = e.tenant();
    let me = e.aggregate_id.as_str();
    let Some(old) = ancestry(tx, tenant, me).await? else {
        return Err(StoreError::Corrupt(format!(
            "CustomerMoved #{} of {me} has no customer row",
            e.sequence
        )));
    };
    let new = match &moved.to {
        None => "/".to_string(),
        Some(parent) => match ancestry(tx, tenant, parent).await? {
            Some(above) => format!("{above}{parent}/"),
            None => {
                return Err(StoreError::Corrupt(format!(
                    "CustomerMoved #{} of {me} names an unknown parent {parent}",
                    e.sequence
                )))
            }
        },
    };
    let changed = tx
        .execute(
            "UPDATE customers SET version = $3, updated_at = $4, parent_id = $5, ancestry = $6 \
             WHERE tenant_id = $1 AND id = $2 AND version < $3",
            &[
                Arg::from(tenant),
                Arg::from(me),
                Arg::Int(e.sequence),
                Arg::Int(e.occurred_at().timestamp_micros()),
                Arg::OptText(moved.to.clone()),
                Arg::Text(new.clone()),
            ],
        )
        .await?;
    if changed == 1 {
        let (old_start, old_end) = subtree_range(&old, me);
        let new_start = format!("{new}{me}/");
        tx.execute(
            "UPDATE customers SET ancestry = $4 || substr(ancestry, CAST($5 AS integer)) \
             WHERE tenant_id = $1 AND ancestry >= $2 AND ancestry < $3",
            &[
                Arg::from(tenant),
                Arg::Text(old_start.clone()),
                Arg::Text(old_end),
                Arg::Text(new_start),
                Arg::Int(old_start.chars().count() as i64 + 1),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn ancestry(tx: &mut Tx, tenant: &str, id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = tx
        .fetch_optional(
            "SELECT ancestry FROM customers WHERE tenant_id = $1 AND id = $2",
            &[tenant.into(), id.into()],
        )
        .await?;
    Ok(row.map(|(a,)| a))
}
