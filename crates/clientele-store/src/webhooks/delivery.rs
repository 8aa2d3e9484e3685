//! Where each endpoint's deliveries stand (`webhook_delivery_state`: the checkpoint, the
//! failures at the next event, the lease of the instance that delivers) and every attempt
//! (`webhook_deliveries`). The checkpoint moves only in the transaction that records the
//! attempt, and only for the lease holder of the current generation.

use chrono::{DateTime, Utc};

use super::{instant, micros};
use crate::db::{Arg, Tx};
use crate::events::LogPosition;
use crate::{Store, StoreError};

/// Where an endpoint's deliveries stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryState {
    /// The last position delivered or passed over.
    pub checkpoint: LogPosition,
    /// Failed attempts at the next event.
    pub failures: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub generation: i64,
}

/// One attempt at a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookDelivery {
    pub id: i64,
    pub webhook_id: String,
    pub event_type: String,
    pub event_cursor: String,
    pub attempt: i64,
    /// `SUCCEEDED` or `FAILED`.
    pub status: String,
    pub response_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    pub attempted_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
}

/// What an attempt leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Delivered: the checkpoint moves to the event.
    Delivered(LogPosition),
    /// Failed: try again at this instant; this many failures so far.
    RetryAt(DateTime<Utc>, i64),
    /// Failed for the last time: the endpoint is being disabled.
    GaveUp(i64),
}

#[derive(sqlx::FromRow)]
struct StateRow {
    tx_id: i64,
    position: i64,
    failures: i64,
    next_attempt_at: i64,
    generation: i64,
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    webhook_id: String,
    event_type: String,
    event_cursor: String,
    attempt: i64,
    status: String,
    response_code: Option<i64>,
    latency_ms: i64,
    error: Option<String>,
    attempted_at: i64,
    next_attempt_at: Option<i64>,
}

impl Store {
    /// Takes or renews the lease on an endpoint's deliveries for `owner` until `until`:
    /// true when `owner` holds it (nobody else did, or their lease ran out).
    pub async fn claim_webhook_lease(
        &self,
        tenant: &str,
        id: &str,
        owner: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let claimed = self
            .write(
                "UPDATE webhook_delivery_state SET lease_owner = $3, lease_until = $5 \
                 WHERE tenant_id = $1 AND endpoint_id = $2 AND (lease_owner = $3 OR lease_until < $4)",
                &[tenant.into(), id.into(), owner.into(), micros(now), micros(until)],
            )
            .await?;
        Ok(claimed == 1)
    }

    /// Gives up every lease `owner` holds (on shutdown), so another instance takes over at once.
    pub async fn release_webhook_leases(&self, owner: &str) -> Result<(), StoreError> {
        self.write(
                "UPDATE webhook_delivery_state SET lease_owner = NULL, lease_until = 0 WHERE lease_owner = $1",
                &[owner.into()],
            )
            .await?;
        Ok(())
    }

    pub async fn webhook_delivery_state(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<DeliveryState>, StoreError> {
        let row: Option<StateRow> = self
            .db()
            .fetch_optional(
                "SELECT tx_id, position, failures, next_attempt_at, generation FROM webhook_delivery_state \
                 WHERE tenant_id = $1 AND endpoint_id = $2",
                &[tenant.into(), id.into()],
            )
            .await?;
        Ok(row.map(|r| DeliveryState {
            checkpoint: LogPosition {
                tx: r.tx_id,
                position: r.position,
            },
            failures: r.failures,
            next_attempt_at: instant(r.next_attempt_at),
            generation: r.generation,
        }))
    }

    /// Moves the checkpoint over events the endpoint does not want. False when `owner`
    /// lost the lease or a redelivery moved the checkpoint meanwhile.
    pub async fn pass_webhook_events(
        &self,
        tenant: &str,
        id: &str,
        owner: &str,
        generation: i64,
        to: LogPosition,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db().begin().await?;
        let moved = advance(&mut tx, tenant, id, owner, generation, to).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Records an attempt and what it leads to, in one transaction: a delivery moves the
    /// checkpoint past its event, a failure schedules the next attempt. False (nothing
    /// written) when `owner` lost the lease or a redelivery moved the checkpoint meanwhile.
    pub async fn record_webhook_attempt(
        &self,
        tenant: &str,
        id: &str,
        owner: &str,
        generation: i64,
        attempt: &WebhookDelivery,
        outcome: AttemptOutcome,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db().begin().await?;
        let kept = match outcome {
            AttemptOutcome::Delivered(to) => {
                advance(&mut tx, tenant, id, owner, generation, to).await?
            }
            AttemptOutcome::RetryAt(at, failures) => {
                failed(&mut tx, tenant, id, owner, generation, failures, at).await?
            }
            AttemptOutcome::GaveUp(failures) => {
                failed(&mut tx, tenant, id, owner, generation, failures, Utc::now()).await?
            }
        };
        if !kept {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO webhook_deliveries (tenant_id, endpoint_id, webhook_id, event_type, event_cursor, \
             attempt, status, response_code, latency_ms, error, attempted_at, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            &[
                tenant.into(),
                id.into(),
                attempt.webhook_id.as_str().into(),
                attempt.event_type.as_str().into(),
                attempt.event_cursor.as_str().into(),
                Arg::Int(attempt.attempt),
                attempt.status.as_str().into(),
                Arg::OptInt(attempt.response_code),
                Arg::Int(attempt.latency_ms),
                Arg::OptText(attempt.error.clone()),
                micros(attempt.attempted_at),
                Arg::OptInt(attempt.next_attempt_at.map(|t| t.timestamp_micros())),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Delivers again everything after `after` (the start of the log when `None`): the
    /// checkpoint moves there and the failures are forgotten.
    pub async fn redeliver_webhooks(
        &self,
        tenant: &str,
        id: &str,
        after: Option<LogPosition>,
    ) -> Result<bool, StoreError> {
        let after = after.unwrap_or_default();
        let moved = self
            .write(
                "UPDATE webhook_delivery_state SET tx_id = $3, position = $4, failures = 0, next_attempt_at = 0, \
                 generation = generation + 1 WHERE tenant_id = $1 AND endpoint_id = $2",
                &[tenant.into(), id.into(), Arg::Int(after.tx), Arg::Int(after.position)],
            )
            .await?;
        self.notify_written();
        Ok(moved == 1)
    }

    /// An endpoint's attempts, newest first, `first` of them before the attempt `before`.
    pub async fn webhook_deliveries(
        &self,
        tenant: &str,
        id: &str,
        first: i64,
        before: Option<i64>,
    ) -> Result<Vec<WebhookDelivery>, StoreError> {
        let sql = format!(
            "SELECT id, webhook_id, event_type, event_cursor, attempt, status, response_code, latency_ms, \
             error, attempted_at, next_attempt_at FROM webhook_deliveries \
             WHERE tenant_id = $1 AND endpoint_id = $2 AND id < $3 ORDER BY id DESC LIMIT {first}"
        );
        let rows: Vec<DeliveryRow> = self
            .db()
            .fetch_all(
                &sql,
                &[
                    tenant.into(),
                    id.into(),
                    Arg::Int(before.unwrap_or(i64::MAX)),
                ],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| WebhookDelivery {
                id: r.id,
                webhook_id: r.webhook_id,
                event_type: r.event_type,
                event_cursor: r.event_cursor,
                attempt: r.attempt,
                status: r.status,
                response_code: r.response_code,
                latency_ms: r.latency_ms,
                error: r.error,
                attempted_at: instant(r.attempted_at),
                next_attempt_at: r.next_attempt_at.map(instant),
            })
            .collect())
    }
}

async fn advance(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    owner: &str,
    generation: i64,
    to: LogPosition,
) -> Result<bool, StoreError> {
    let moved = tx
        .execute(
            "UPDATE webhook_delivery_state SET tx_id = $5, position = $6, failures = 0, next_attempt_at = 0 \
             WHERE tenant_id = $1 AND endpoint_id = $2 AND lease_owner = $3 AND generation = $4",
            &[
                tenant.into(),
                id.into(),
                owner.into(),
                Arg::Int(generation),
                Arg::Int(to.tx),
                Arg::Int(to.position),
            ],
        )
        .await?;
    Ok(moved == 1)
}

async fn failed(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    owner: &str,
    generation: i64,
    failures: i64,
    next: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let moved = tx
        .execute(
            "UPDATE webhook_delivery_state SET failures = $5, next_attempt_at = $6 \
             WHERE tenant_id = $1 AND endpoint_id = $2 AND lease_owner = $3 AND generation = $4",
            &[
                tenant.into(),
                id.into(),
                owner.into(),
                Arg::Int(generation),
                Arg::Int(failures),
                micros(next),
            ],
        )
        .await?;
    Ok(moved == 1)
}
