//! The `webhook_endpoints` read model (projection `webhook_endpoints`): each tenant's
//! webhook endpoints as their events leave them, kept in the command's transaction. The
//! secrets and the delivery state are not projected (see `crate::webhooks`).

use clientele_domain::tenant::TenantEvent;

use crate::db::{Arg, Tx};
use crate::events::{Envelope, LogEvent};
use crate::StoreError;

pub(crate) async fn apply(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    let LogEvent::Tenant(event) = &e.event else {
        return Ok(());
    };
    let tenant = e.aggregate_id.as_str();
    let at = Arg::Int(e.metadata.occurred_at.timestamp_micros());
    let version = Arg::Int(e.sequence);
    let (sql, args) = match event {
        TenantEvent::WebhookEndpointRegistered(r) => (
            "INSERT INTO webhook_endpoints (tenant_id, endpoint_id, version, url, event_types, description, \
             enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, true, $7, $7) \
             ON CONFLICT (tenant_id, endpoint_id) DO NOTHING",
            vec![
                tenant.into(),
                r.endpoint_id.as_str().into(),
                version,
                r.url.as_str().into(),
                Arg::Text(serde_json::to_string(&r.event_types).expect("types serialise")),
                r.description.as_str().into(),
                at,
            ],
        ),
        TenantEvent::WebhookEndpointUpdated(u) => (
            "UPDATE webhook_endpoints SET version = $3, url = $4, event_types = $5, description = $6, \
             updated_at = $7 WHERE tenant_id = $1 AND endpoint_id = $2 AND version < $3",
            vec![
                tenant.into(),
                u.endpoint_id.as_str().into(),
                version,
                u.url.as_str().into(),
                Arg::Text(serde_json::to_string(&u.event_types).expect("types serialise")),
                u.description.as_str().into(),
                at,
            ],
        ),
        TenantEvent::WebhookEndpointDisabled(d) => (
            "UPDATE webhook_endpoints SET version = $3, enabled = false, disabled_reason = $4, \
             disabled_by = $5, updated_at = $6 WHERE tenant_id = $1 AND endpoint_id = $2 AND version < $3",
            vec![
                tenant.into(),
                d.endpoint_id.as_str().into(),
                version,
                Arg::OptText(d.reason.clone()),
                e.metadata.actor.as_str().into(),
                at,
            ],
        ),
        TenantEvent::WebhookEndpointEnabled(d) => (
            "UPDATE webhook_endpoints SET version = $3, enabled = true, disabled_reason = NULL, \
             disabled_by = NULL, updated_at = $4 WHERE tenant_id = $1 AND endpoint_id = $2 AND version < $3",
            vec![tenant.into(), d.endpoint_id.as_str().into(), version, at],
        ),
        TenantEvent::WebhookEndpointDeleted(d) => (
            "DELETE FROM webhook_endpoints WHERE tenant_id = $1 AND endpoint_id = $2",
            vec![tenant.into(), d.endpoint_id.as_str().into()],
        ),
        TenantEvent::WebhookSecretRotated(r) => (
            "UPDATE webhook_endpoints SET version = $3, updated_at = $4 \
             WHERE tenant_id = $1 AND endpoint_id = $2 AND version < $3",
            vec![tenant.into(), r.endpoint_id.as_str().into(), version, at],
        ),
        // The tenant's other settings are other projections'.
        TenantEvent::RequiredCustomerFieldsSet { .. }
        | TenantEvent::ProductAdded { .. }
        | TenantEvent::GlobalProductVisibilitySet { .. }
        | TenantEvent::DeletionGracePeriodSet { .. }
        | TenantEvent::SessionsRevoked { .. }
        | TenantEvent::DeletionNoticesSet { .. } => return Ok(()),
    };
    tx.execute(sql, &args).await?;
    Ok(())
}
