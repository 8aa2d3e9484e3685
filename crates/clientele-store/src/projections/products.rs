//! Product read models (projection `products`): the tenant catalogue (`tenant_products`)
//! and each customer's products (`customer_products`). The projection also keeps
//! `account_status_history` (see `account_status`). Applied inline and idempotent by
//! version.

use clientele_domain::customer::CustomerEvent;
use clientele_domain::tenant::TenantEvent;

use crate::db::{Arg, Tx};
use crate::events::{Envelope, LogEvent};
use crate::StoreError;

pub(crate) async fn apply(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    match &e.event {
        LogEvent::Customer(event) => customer_product(tx, e, event).await,
        LogEvent::Tenant(event) => catalogue(tx, e, event).await,
        LogEvent::Entity(_) | LogEvent::Dashboard(_) => Ok(()),
    }
}

async fn customer_product(
    tx: &mut Tx,
    e: &Envelope,
    event: &CustomerEvent,
) -> Result<(), StoreError> {
    match event {
        CustomerEvent::ProductVisibilitySet(set) => {
            upsert_product(tx, e, &set.product, "visible", Arg::Bool(set.visible)).await
        }
        CustomerEvent::ProductVisibilityReset(reset) => {
            // The row exists: the override being removed wrote it.
            tx.execute(
                "UPDATE customer_products SET visible = NULL, version = $4 \
                 WHERE tenant_id = $1 AND customer_id = $2 AND product = $3 AND version < $4",
                &[
                    Arg::from(e.tenant()),
                    Arg::from(e.aggregate_id.as_str()),
                    Arg::from(reset.product.as_str()),
                    Arg::Int(e.sequence),
                ],
            )
            .await?;
            Ok(())
        }
        CustomerEvent::ProductActivated(activated) => {
            let status = activated.status.as_str().into();
            upsert_product(tx, e, &activated.product, "status", status).await
        }
        CustomerEvent::ProductStatusChanged(changed) => {
            let status = changed.to.as_str().into();
            upsert_product(tx, e, &changed.product, "status", status).await
        }
        CustomerEvent::CustomerCreated(_)
        | CustomerEvent::CustomerEdited(_)
        | CustomerEvent::AccountStatusChanged(_)
        | CustomerEvent::DeletionRequested(_)
        | CustomerEvent::DeletionCancelled(_)
        | CustomerEvent::CustomerDeleted(_)
        | CustomerEvent::ImpersonationStarted(_)
        | CustomerEvent::ImpersonationEnded(_)
        | CustomerEvent::SessionEnded(_)
        | CustomerEvent::SignInLockedOut(_)
        | CustomerEvent::PasswordSet(_)
        | CustomerEvent::PasswordResetIssued(_)
        | CustomerEvent::CustomerUserAdded(_)
        | CustomerEvent::CustomerUserEdited(_)
        | CustomerEvent::CustomerUserDisabled(_)
        | CustomerEvent::CustomerUserEnabled(_)
        | CustomerEvent::CustomerUserRemoved(_)
        | CustomerEvent::ActivationIssued(_)
        | CustomerEvent::CustomerUserActivated(_)
        | CustomerEvent::CustomerMoved(_)
        | CustomerEvent::HomeDashboardSet(_)
        | CustomerEvent::AssignmentsReleased(_) => Ok(()),
    }
}

/// Sets one column of a customer's product row, creating the row if needed.
async fn upsert_product(
    tx: &mut Tx,
    e: &Envelope,
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
        Arg::from(e.tenant()),
        Arg::from(e.aggregate_id.as_str()),
        Arg::from(product),
        value,
        Arg::Int(e.sequence),
    ];
    tx.execute(&sql, &args).await?;
    Ok(())
}

/// A product added to the tenant's catalogue, or its global visibility set.
async fn catalogue(tx: &mut Tx, e: &Envelope, event: &TenantEvent) -> Result<(), StoreError> {
    let (key, name, visible) = match event {
        TenantEvent::ProductAdded { key, name } => (key, name, false),
        TenantEvent::GlobalProductVisibilitySet { key, name, visible } => (key, name, *visible),
        // The tenant's settings are the settings projection's.
        TenantEvent::RequiredCustomerFieldsSet { .. }
        | TenantEvent::DeletionGracePeriodSet { .. }
        | TenantEvent::DeletionNoticesSet { .. }
        | TenantEvent::SessionsRevoked { .. }
        | TenantEvent::WebhookEndpointRegistered(_)
        | TenantEvent::WebhookEndpointUpdated(_)
        | TenantEvent::WebhookEndpointDisabled(_)
        | TenantEvent::WebhookEndpointEnabled(_)
        | TenantEvent::WebhookEndpointDeleted(_)
        | TenantEvent::WebhookSecretRotated(_) => return Ok(()),
    };
    tx.execute(
        "INSERT INTO tenant_products (tenant_id, product, name, visible, version) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, product) DO UPDATE SET name = excluded.name, visible = excluded.visible, \
         version = excluded.version WHERE tenant_products.version < excluded.version",
        &[
            Arg::from(e.aggregate_id.as_str()),
            Arg::Text(key.clone()),
            Arg::Text(name.clone()),
            Arg::Bool(visible),
            Arg::Int(e.sequence),
        ],
    )
    .await?;
    Ok(())
}
