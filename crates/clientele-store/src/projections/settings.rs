//! The `tenant_settings` read model (projection `tenant_settings`): each tenant's required
//! customer fields, deletion grace period and who is told about deletion requests, kept in the command's transaction.

use clientele_domain::tenant::TenantEvent;

use crate::db::{Arg, Tx};
use crate::events::{Envelope, LogEvent};
use crate::StoreError;

pub(crate) async fn apply(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    let event = match &e.event {
        LogEvent::Tenant(event) => event,
        LogEvent::Customer(_) | LogEvent::Entity(_) | LogEvent::Dashboard(_) => return Ok(()),
    };
    // The tenant's id is its aggregate's.
    let tenant = e.aggregate_id.as_str();
    match event {
        TenantEvent::RequiredCustomerFieldsSet { fields } => {
            let fields = serde_json::to_string(fields).expect("fields serialise");
            tx.execute(
                "INSERT INTO tenant_settings (tenant_id, version, required_fields) VALUES ($1, $2, $3) \
                 ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, \
                 required_fields = excluded.required_fields WHERE tenant_settings.version < excluded.version",
                &[tenant.into(), Arg::Int(e.sequence), Arg::Text(fields)],
            )
            .await?;
        }
        TenantEvent::DeletionGracePeriodSet { days } => {
            tx.execute(
                "INSERT INTO tenant_settings (tenant_id, version, required_fields, deletion_grace_days) \
                 VALUES ($1, $2, '[]', $3) ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, \
                 deletion_grace_days = excluded.deletion_grace_days WHERE tenant_settings.version < excluded.version",
                &[tenant.into(), Arg::Int(e.sequence), Arg::Int(i64::from(*days))],
            )
            .await?;
        }
        TenantEvent::DeletionNoticesSet {
            recipients,
            language,
        } => {
            let recipients = serde_json::to_string(recipients).expect("addresses serialise");
            tx.execute(
                "INSERT INTO tenant_settings (tenant_id, version, required_fields, deletion_notice_recipients, \
                 deletion_notice_language, deletion_notices_since) VALUES ($1, $2, '[]', $3, $4, $5) \
                 ON CONFLICT (tenant_id) DO UPDATE SET version = excluded.version, \
                 deletion_notice_recipients = excluded.deletion_notice_recipients, \
                 deletion_notice_language = excluded.deletion_notice_language, \
                 deletion_notices_since = excluded.deletion_notices_since \
                 WHERE tenant_settings.version < excluded.version",
                &[
                    tenant.into(),
                    Arg::Int(e.sequence),
                    Arg::Text(recipients),
                    language.as_str().into(),
                    Arg::Int(e.metadata.occurred_at.timestamp_micros()),
                ],
            )
            .await?;
        }
        // The catalogue is the products projection's.
        TenantEvent::ProductAdded { .. } | TenantEvent::GlobalProductVisibilitySet { .. } => {}
        // Sessions are the sessions projection's.
        TenantEvent::SessionsRevoked { .. } => {}
        // Webhook endpoints are the webhooks projection's.
        TenantEvent::WebhookEndpointRegistered(_)
        | TenantEvent::WebhookEndpointUpdated(_)
        | TenantEvent::WebhookEndpointDisabled(_)
        | TenantEvent::WebhookEndpointEnabled(_)
        | TenantEvent::WebhookEndpointDeleted(_)
        | TenantEvent::WebhookSecretRotated(_) => {}
    }
    Ok(())
}
