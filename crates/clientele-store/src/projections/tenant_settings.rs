//! The `tenant_settings` read model: each tenant's settings, kept in the command's transaction.

use clientele_domain::tenant::TenantEvent;

use crate::db::{Arg, Tx};
use crate::events::StoredEvent;
use crate::StoreError;

pub(crate) async fn apply(tx: &mut Tx, event: &StoredEvent) -> Result<(), StoreError> {
    if event.aggregate_type != "Tenant" {
        return Ok(());
    }
    let decoded: TenantEvent = serde_json::from_value(event.payload.clone()).map_err(|e| {
        StoreError::Corrupt(format!(
            "tenant event #{} does not decode: {e}",
            event.sequence
        ))
    })?;
    match decoded {
        TenantEvent::RequiredCustomerFieldsSet { fields } => {
            let fields = serde_json::to_string(&fields).expect("fields serialise");
            tx.execute(
                "INSERT INTO tenant_settings (tenant_id, version, required_fields) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, \
                 required_fields = excluded.required_fields WHERE tenant_settings.version < excluded.version",
                &[event.aggregate_id.as_str().into(), Arg::Int(event.sequence), Arg::Text(fields)],
            )
            .await?;
        }
        TenantEvent::DeletionGracePeriodSet { days } => {
            tx.execute(
                "INSERT INTO tenant_settings (tenant_id, version, required_fields, deletion_grace_days) \
                 VALUES ($1, $2, '[]', $3) ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, \
                 deletion_grace_days = excluded.deletion_grace_days WHERE tenant_settings.version < excluded.version",
                &[event.aggregate_id.as_str().into(), Arg::Int(event.sequence), Arg::Int(i64::from(days))],
            )
            .await?;
        }
        // The catalogue is the products projection's.
        TenantEvent::ProductAdded { .. } | TenantEvent::GlobalProductVisibilitySet { .. } => {}
    }
    Ok(())
}
