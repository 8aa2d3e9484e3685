//! Webhooks: the commands that also write a secret (in the command's transaction), the
//! endpoints as read and their secrets; `delivery` keeps where each endpoint stands in the
//! log and every attempt.

use chrono::{DateTime, TimeZone, Utc};
use clientele_domain::tenant::webhooks::WebhookCommand;
use clientele_domain::tenant::{Tenant, TenantCommand, TenantError};

mod delivery;

pub use delivery::{AttemptOutcome, DeliveryState, WebhookDelivery};

use crate::commands::{retryable, Attempt, ATTEMPTS};
use crate::db::{Arg, Executor, Tx};
use crate::events::{EventMetadata, LogPosition};
use crate::{CommandError, Committed, Store, StoreError};

/// An endpoint as the `webhook_endpoints` read model holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpointRecord {
    pub tenant_id: String,
    pub endpoint_id: String,
    pub url: String,
    /// Empty: every deliverable type.
    pub event_types: Vec<String>,
    pub description: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The secrets that sign an endpoint's deliveries now: the current one and, during a
/// rotation, the previous one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSecrets {
    pub current: String,
    pub previous: Option<String>,
}

#[derive(sqlx::FromRow)]
struct EndpointRow {
    tenant_id: String,
    endpoint_id: String,
    url: String,
    event_types: String,
    description: String,
    enabled: bool,
    disabled_reason: Option<String>,
    disabled_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct SecretRow {
    secret: String,
    previous_secret: Option<String>,
    previous_until: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct EndRow {
    tx_id: i64,
    position: i64,
}

const ENDPOINT_COLUMNS: &str = "tenant_id, endpoint_id, url, event_types, description, enabled, \
     disabled_reason, disabled_by, created_at, updated_at";

fn micros(at: DateTime<Utc>) -> Arg {
    Arg::Int(at.timestamp_micros())
}

fn instant(micros: i64) -> DateTime<Utc> {
    Utc.timestamp_micros(micros).single().unwrap_or_default()
}

impl From<EndpointRow> for WebhookEndpointRecord {
    fn from(r: EndpointRow) -> Self {
        WebhookEndpointRecord {
            tenant_id: r.tenant_id,
            endpoint_id: r.endpoint_id,
            url: r.url,
            event_types: serde_json::from_str(&r.event_types).unwrap_or_default(),
            description: r.description,
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            disabled_by: r.disabled_by,
            created_at: instant(r.created_at),
            updated_at: instant(r.updated_at),
        }
    }
}

impl Store {
    /// Runs a webhook command on the tenant. With `secret`, a registration or rotation
    /// stores it in the same transaction (a rotation keeps the old one until the event's
    /// `oldValidUntil`); a registration starts delivering after its own event; a deletion drops
    /// the secret and the delivery state.
    pub async fn webhook_command(
        &self,
        command: WebhookCommand,
        secret: Option<&str>,
        metadata: &EventMetadata,
    ) -> Result<Committed<Tenant>, CommandError<TenantError>> {
        let tenant = metadata.tenant.as_str();
        for _ in 0..ATTEMPTS {
            let mut tx = self.db().begin().await?;
            let outcome = self
                .attempt::<Tenant>(
                    &mut tx,
                    tenant,
                    TenantCommand::Webhook(command.clone()),
                    metadata,
                )
                .await;
            let committed = match retryable(outcome)? {
                Attempt::Done(committed) => committed,
                Attempt::Retry => continue,
            };
            if committed.events.is_empty() {
                tx.rollback().await?;
                return Ok(committed);
            }
            after_command(&mut tx, tenant, &command, secret, committed.version).await?;
            self.commit(tx, committed.events.len(), &committed.ending)
                .await?;
            return Ok(committed);
        }
        Err(CommandError::Contended)
    }

    /// The tenant's endpoints, oldest first.
    pub async fn webhook_endpoints(
        &self,
        tenant: &str,
    ) -> Result<Vec<WebhookEndpointRecord>, StoreError> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 ORDER BY created_at, endpoint_id");
        let rows: Vec<EndpointRow> = self.db().fetch_all(&sql, &[tenant.into()]).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    pub async fn webhook_endpoint(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>, StoreError> {
        let sql = format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE tenant_id = $1 AND endpoint_id = $2"
        );
        let row: Option<EndpointRow> = self
            .db()
            .fetch_optional(&sql, &[tenant.into(), id.into()])
            .await?;
        Ok(row.map(Into::into))
    }

    /// Every enabled endpoint of every tenant: what the delivery worker follows.
    pub async fn enabled_webhook_endpoints(
        &self,
    ) -> Result<Vec<WebhookEndpointRecord>, StoreError> {
        let sql = format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE enabled = true");
        let rows: Vec<EndpointRow> = self.db().fetch_all(&sql, &[]).await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// The secrets that sign at `now` (the previous one only until its rotation's end).
    pub async fn webhook_secrets(
        &self,
        tenant: &str,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<WebhookSecrets>, StoreError> {
        let row: Option<SecretRow> = self
            .db()
            .fetch_optional(
                "SELECT secret, previous_secret, previous_until FROM webhook_secrets WHERE tenant_id = $1 AND endpoint_id = $2",
                &[tenant.into(), id.into()],
            )
            .await?;
        Ok(row.map(|r| WebhookSecrets {
            current: r.secret,
            previous: r
                .previous_secret
                .filter(|_| r.previous_until.is_some_and(|u| u > now.timestamp_micros())),
        }))
    }
}

impl Store {
    /// One statement outside a transaction (on SQLite through the one writer).
    async fn write(&self, sql: &str, args: &[Arg]) -> Result<u64, StoreError> {
        Executor::Pool(self.db()).execute(sql, args).await
    }
}

/// The secret, the start of deliveries, or their end, as the command asks.
async fn after_command(
    tx: &mut Tx,
    tenant: &str,
    command: &WebhookCommand,
    secret: Option<&str>,
    version: u64,
) -> Result<(), StoreError> {
    match (command, secret) {
        (WebhookCommand::Register { endpoint_id, .. }, Some(secret)) => {
            let end = registered_at(tx, tenant, version).await?;
            tx.execute(
                "INSERT INTO webhook_secrets (tenant_id, endpoint_id, secret) VALUES ($1, $2, $3)",
                &[tenant.into(), endpoint_id.as_str().into(), secret.into()],
            )
            .await?;
            tx.execute(
                "INSERT INTO webhook_delivery_state (tenant_id, endpoint_id, tx_id, position) VALUES ($1, $2, $3, $4)",
                &[tenant.into(), endpoint_id.as_str().into(), Arg::Int(end.tx), Arg::Int(end.position)],
            )
            .await?;
        }
        (
            WebhookCommand::RotateSecret {
                endpoint_id,
                old_valid_until,
            },
            Some(secret),
        ) => {
            tx.execute(
                "UPDATE webhook_secrets SET previous_secret = secret, previous_until = $4, secret = $3 \
                 WHERE tenant_id = $1 AND endpoint_id = $2",
                &[tenant.into(), endpoint_id.as_str().into(), secret.into(), micros(*old_valid_until)],
            )
            .await?;
        }
        (WebhookCommand::Delete { endpoint_id }, _) => {
            for table in ["webhook_secrets", "webhook_delivery_state"] {
                let sql = format!("DELETE FROM {table} WHERE tenant_id = $1 AND endpoint_id = $2");
                tx.execute(&sql, &[tenant.into(), endpoint_id.as_str().into()])
                    .await?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Where the registration event (the tenant's event `version`) sits in the log: deliveries
/// start after it, so with the commands that began after the registration (on PostgreSQL
/// the log is ordered by writing transaction first).
async fn registered_at(tx: &mut Tx, tenant: &str, version: u64) -> Result<LogPosition, StoreError> {
    let sql = match tx {
        Tx::Pg(_) => {
            "SELECT tx_id::text::bigint AS tx_id, position FROM events \
             WHERE aggregate_type = 'Tenant' AND aggregate_id = $1 AND sequence = $2"
        }
        Tx::Lite(_) => {
            "SELECT 0 AS tx_id, position FROM events \
             WHERE aggregate_type = 'Tenant' AND aggregate_id = $1 AND sequence = $2"
        }
    };
    let args = [tenant.into(), Arg::Int(version as i64)];
    let end: Option<EndRow> = tx.fetch_optional(sql, &args).await?;
    end.map(|e| LogPosition {
        tx: e.tx_id,
        position: e.position,
    })
    .ok_or_else(|| StoreError::Corrupt(format!("tenant {tenant} #{version} is not in the log")))
}
