//! Product read models: the tenant catalogue (`tenant_products`), each customer's products
//! (`customer_products`) and account-status transitions (`account_status_history`).
//! Applied inline and idempotent by version.

use clientele_domain::customer::{
    AccountStatusChanged, ProductActivated, ProductStatusChanged, ProductVisibilitySet,
};
use clientele_domain::tenant::TenantEvent;

use crate::db::{Arg, Tx};
use crate::events::StoredEvent;
use crate::StoreError;

fn body<T: serde::de::DeserializeOwned>(event: &StoredEvent) -> Result<T, StoreError> {
    serde_json::from_value(event.body().clone()).map_err(|e| {
        StoreError::Corrupt(format!(
            "{} #{} of {} does not decode: {e}",
            event.event_type, event.sequence, event.aggregate_id
        ))
    })
}

/// Sets one column of a customer's product row, creating the row if needed.
async fn upsert_product(
    tx: &mut Tx,
    event: &StoredEvent,
    product: &str,
    column: &str,
    value: Arg,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO customer_products (tenant_id, customer_id, product, {column}, version) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, customer_id, product) DO UPDATE SET {column} = excluded.{column}, version = excluded.version \
         WHERE customer_products.version < excluded.version"
    );
    let args = [
        Arg::from(event.metadata.tenant.as_str()),
        Arg::from(event.aggregate_id.as_str()),
        Arg::from(product),
        value,
        Arg::Int(event.sequence),
    ];
    tx.execute(&sql, &args).await?;
    Ok(())
}

pub(crate) async fn apply(tx: &mut Tx, event: &StoredEvent) -> Result<(), StoreError> {
    match (event.aggregate_type.as_str(), event.event_type.as_str()) {
        ("Customer", "ProductVisibilitySet") => {
            let set: ProductVisibilitySet = body(event)?;
            upsert_product(tx, event, &set.product, "visible", Arg::Bool(set.visible)).await
        }
        ("Customer", "ProductActivated") => {
            let activated: ProductActivated = body(event)?;
            upsert_product(
                tx,
                event,
                &activated.product,
                "status",
                activated.status.as_str().into(),
            )
            .await
        }
        ("Customer", "ProductStatusChanged") => {
            let changed: ProductStatusChanged = body(event)?;
            upsert_product(
                tx,
                event,
                &changed.product,
                "status",
                changed.to.as_str().into(),
            )
            .await
        }
        ("Customer", "CustomerCreated") => {
            record_transition(
                tx,
                event,
                None,
                "PREPARATION",
                "CustomerCreated",
                event.sequence,
            )
            .await
        }
        ("Customer", "AccountStatusChanged") => {
            let changed: AccountStatusChanged = body(event)?;
            let from = Some(changed.from.as_str());
            record_transition(
                tx,
                event,
                from,
                changed.to.as_str(),
                &changed.cause,
                event.sequence - 1,
            )
            .await
        }
        ("Tenant", "ProductAdded" | "GlobalProductVisibilitySet") => {
            let (key, name, visible) =
                match serde_json::from_value::<TenantEvent>(event.payload.clone()) {
                    Ok(TenantEvent::ProductAdded { key, name }) => (key, name, false),
                    Ok(TenantEvent::GlobalProductVisibilitySet { key, name, visible }) => {
                        (key, name, visible)
                    }
                    _ => {
                        return Err(StoreError::Corrupt(format!(
                            "tenant event #{} does not decode",
                            event.sequence
                        )))
                    }
                };
            tx.execute(
                "INSERT INTO tenant_products (tenant_id, product, name, visible, version) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (tenant_id, product) DO UPDATE SET name = excluded.name, visible = excluded.visible, \
                 version = excluded.version WHERE tenant_products.version < excluded.version",
                &[
                    Arg::from(event.aggregate_id.as_str()),
                    Arg::Text(key),
                    Arg::Text(name),
                    Arg::Bool(visible),
                    Arg::Int(event.sequence),
                ],
            )
            .await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn record_transition(
    tx: &mut Tx,
    event: &StoredEvent,
    from: Option<&str>,
    to: &str,
    cause: &str,
    cause_version: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO account_status_history (tenant_id, customer_id, version, from_status, to_status, cause, cause_version, occurred_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, customer_id, version) DO NOTHING",
        &[
            Arg::from(event.metadata.tenant.as_str()),
            Arg::from(event.aggregate_id.as_str()),
            Arg::Int(event.sequence),
            Arg::OptText(from.map(str::to_string)),
            Arg::from(to),
            Arg::from(cause),
            Arg::Int(cause_version),
            Arg::Int(event.metadata.occurred_at.timestamp_micros()),
        ],
    )
    .await?;
    Ok(())
}
