//! The `customer_counts` read model: customers per tenant and account status, followed
//! asynchronously from the global log. Not idempotent by itself: exactly-once comes from
//! the checkpoint, which moves in the same transaction as the counts.

use clientele_domain::customer::AccountStatusChanged;
use clientele_domain::AccountStatus;

use crate::db::{Arg, Tx};
use crate::events::StoredEvent;
use crate::StoreError;

pub(crate) async fn apply(tx: &mut Tx, event: &StoredEvent) -> Result<(), StoreError> {
    if event.aggregate_type != "Customer" {
        return Ok(());
    }
    let tenant = event.metadata.tenant.as_str();
    match event.event_type.as_str() {
        "CustomerCreated" => add(tx, tenant, AccountStatus::Preparation, 1).await,
        "AccountStatusChanged" => {
            let changed: AccountStatusChanged = serde_json::from_value(event.body().clone())
                .map_err(|e| {
                    StoreError::Corrupt(format!("AccountStatusChanged #{}: {e}", event.sequence))
                })?;
            add(tx, tenant, changed.from, -1).await?;
            add(tx, tenant, changed.to, 1).await
        }
        _ => Ok(()),
    }
}

async fn add(
    tx: &mut Tx,
    tenant: &str,
    status: AccountStatus,
    delta: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO customer_counts (tenant_id, account_status, customers) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, account_status) DO UPDATE SET customers = customer_counts.customers + excluded.customers",
        &[Arg::from(tenant), Arg::from(status.as_str()), Arg::Int(delta)],
    )
    .await?;
    Ok(())
}
