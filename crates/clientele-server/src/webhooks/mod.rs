//! Webhook deliveries: every enabled endpoint is followed by one task that reads the
//! global log after the endpoint's checkpoint (`read_log`'s horizon: nothing committed late
//! is skipped), POSTs each wanted event signed (`sign`) through the guarded client
//! (`outbound`), and moves the checkpoint in the transaction that records the delivery.
//!
//! - In log order per endpoint: a failed event is retried with backoff and holds back the
//!   endpoint's later events (so each customer's order holds); other endpoints go on.
//! - At least once: the checkpoint moves only after a 2xx; a crash in between delivers the
//!   event again, with the same `webhook-id`.
//! - One instance at a time: a lease per endpoint, renewed at every step; another instance
//!   takes over once it runs out (at once after a clean shutdown, which releases it).
//! - Woken by the live feed's head (local commits, PostgreSQL NOTIFY), with a poll besides.
//! - After the last retry the endpoint is disabled (actor `system`) and the tenant's notice
//!   addresses are mailed.

mod outbound;
pub mod sign;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clientele_domain::tenant::webhooks::WebhookCommand;
use clientele_graphql::{encode_cursor, Clock, Mail, Mailer};
use clientele_store::feed::Feed;
use clientele_store::{
    AttemptOutcome, EventMetadata, Store, StoreError, StoredEvent, WebhookDelivery,
    WebhookEndpointRecord,
};
use serde_json::json;
use tokio::sync::watch;

pub use outbound::Outbound;

/// How long a lease lasts without renewal.
const LEASE: chrono::Duration = chrono::Duration::seconds(30);
/// How many events of the log one step reads.
const BATCH: i64 = 200;
/// The waits after each failure, in multiples of the base (5 s by default): 5 s, 5 min,
/// 30 min, 2 h, 5 h, 10 h, 10 h (Standard Webhooks' suggestion); the attempt after the last
/// one that fails disables the endpoint.
const SCHEDULE: [u32; 7] = [1, 60, 360, 1440, 3600, 7200, 7200];

/// How the worker runs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub allow_private_addresses: bool,
    /// The first wait after a failure; the schedule is multiples of it.
    pub retry_base: Duration,
    /// How often the endpoints are looked up, and the log when no wake-up came.
    pub poll: Duration,
    /// The whole request's timeout.
    pub timeout: Duration,
}

struct Worker {
    store: Store,
    feed: Feed,
    clock: Clock,
    mailer: Option<Arc<dyn Mailer>>,
    outbound: Outbound,
    settings: WorkerSettings,
    /// This instance, as leases name it.
    owner: String,
}

/// Runs until shutdown; then releases this instance's leases.
pub fn spawn(
    store: Store,
    feed: Feed,
    clock: Clock,
    mailer: Option<Arc<dyn Mailer>>,
    settings: WorkerSettings,
    mut shutdown: watch::Receiver<bool>,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let outbound = Outbound::new(settings.allow_private_addresses, settings.timeout)?;
    let worker = Arc::new(Worker {
        store,
        feed,
        clock,
        mailer,
        outbound,
        settings,
        owner: format!("instance-{}", uuid::Uuid::new_v4()),
    });
    Ok(tokio::spawn(async move {
        let mut tasks: HashMap<(String, String), tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            tasks.retain(|_, task| !task.is_finished());
            match worker.store.enabled_webhook_endpoints().await {
                Ok(endpoints) => {
                    for endpoint in endpoints {
                        let key = (endpoint.tenant_id, endpoint.endpoint_id);
                        if let std::collections::hash_map::Entry::Vacant(slot) = tasks.entry(key) {
                            let (tenant, id) = slot.key().clone();
                            let task =
                                tokio::spawn(follow(worker.clone(), tenant, id, shutdown.clone()));
                            slot.insert(task);
                        }
                    }
                }
                Err(error) => tracing::error!(%error, "cannot list webhook endpoints; will retry"),
            }
            tokio::select! {
                _ = tokio::time::sleep(worker.settings.poll) => {}
                _ = shutdown.changed() => {}
            }
            if *shutdown.borrow() {
                break;
            }
        }
        for (_, task) in tasks {
            let _ = task.await;
        }
        if let Err(error) = worker.store.release_webhook_leases(&worker.owner).await {
            tracing::warn!(%error, "could not release the webhook leases");
        }
    }))
}

/// What a step leaves to do.
enum Next {
    /// Go on at once.
    Go,
    /// Wait this long, or for new events.
    Wait(Duration),
    /// The endpoint is disabled or gone.
    Stop,
}

/// Follows one endpoint until it is disabled or deleted, or the service stops.
async fn follow(
    worker: Arc<Worker>,
    tenant: String,
    id: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut head = worker.feed.head_changes();
    let mut failures = 0u32;
    loop {
        if *shutdown.borrow() {
            return;
        }
        head.borrow_and_update();
        let next = tokio::select! {
            next = step(&worker, &tenant, &id) => next,
            _ = shutdown.changed() => return,
        };
        let wait = match next {
            Ok(Next::Go) => {
                failures = 0;
                continue;
            }
            Ok(Next::Stop) => return,
            Ok(Next::Wait(wait)) => {
                failures = 0;
                wait
            }
            Err(error) => {
                failures = failures.saturating_add(1);
                tracing::error!(%error, endpoint = %id, failures, "webhook delivery step failed; will retry");
                worker.settings.poll * failures.clamp(1, 10)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            changed = head.changed() => if changed.is_err() { return },
            _ = shutdown.changed() => return,
        }
    }
}

/// One step: take the lease, then deliver the next wanted event (or pass over unwanted ones).
async fn step(worker: &Worker, tenant: &str, id: &str) -> Result<Next, StoreError> {
    let store = &worker.store;
    let now = worker.clock.now();
    let Some(endpoint) = store
        .webhook_endpoint(tenant, id)
        .await?
        .filter(|e| e.enabled)
    else {
        return Ok(Next::Stop);
    };
    if !store
        .claim_webhook_lease(tenant, id, &worker.owner, now, now + LEASE)
        .await?
    {
        return Ok(Next::Wait(worker.settings.poll));
    }
    let Some(state) = store.webhook_delivery_state(tenant, id).await? else {
        return Ok(Next::Stop);
    };
    if state.next_attempt_at > now {
        let wait = (state.next_attempt_at - now).to_std().unwrap_or_default();
        // Wake up before the lease runs out, to renew it.
        return Ok(Next::Wait(wait.min(Duration::from_secs(10))));
    }
    let events = worker.feed.replay(state.checkpoint, BATCH).await?;
    let Some(last) = events.last() else {
        return Ok(Next::Wait(worker.settings.poll));
    };
    let Some(event) = events.iter().find(|e| wanted(&endpoint, e)) else {
        let to = last.log_position;
        store
            .pass_webhook_events(tenant, id, &worker.owner, state.generation, to)
            .await?;
        return Ok(Next::Go);
    };
    let Some(secrets) = store.webhook_secrets(tenant, id, now).await? else {
        return Ok(Next::Stop);
    };
    let cursor = encode_cursor(event.log_position);
    let webhook_id = format!("msg_{cursor}");
    let body = serde_json::to_vec(&body(event, &cursor)).expect("json serialises");
    let timestamp = now.timestamp();
    let mut keys = vec![secrets.current.as_str()];
    keys.extend(secrets.previous.as_deref());
    let headers = [
        ("webhook-id", webhook_id.clone()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            sign::signature_header(&keys, &webhook_id, timestamp, &body),
        ),
    ];
    let answer = worker.outbound.post(&endpoint.url, &headers, body).await;
    let attempt = state.failures + 1;
    let mut record = WebhookDelivery {
        id: 0,
        webhook_id,
        event_type: event.event_type.clone(),
        event_cursor: cursor,
        attempt,
        status: "SUCCEEDED".into(),
        response_code: answer.status.map(i64::from),
        latency_ms: answer.latency.as_millis().min(i64::MAX as u128) as i64,
        error: None,
        attempted_at: now,
        next_attempt_at: None,
    };
    metrics::histogram!("clientele_webhook_delivery_seconds").record(answer.latency.as_secs_f64());
    if answer.delivered() {
        let outcome = AttemptOutcome::Delivered(event.log_position);
        store
            .record_webhook_attempt(
                tenant,
                id,
                &worker.owner,
                state.generation,
                &record,
                outcome,
            )
            .await?;
        return Ok(Next::Go);
    }
    record.status = "FAILED".into();
    record.error = Some(match (answer.status, answer.detail) {
        (Some(status), Some(detail)) => format!("HTTP {status}: {detail}"),
        (Some(status), None) => format!("HTTP {status}"),
        (None, detail) => detail.unwrap_or_else(|| "no answer".into()),
    });
    let Some(wait) = backoff(&worker.settings, attempt) else {
        let outcome = AttemptOutcome::GaveUp(attempt);
        let kept = store
            .record_webhook_attempt(
                tenant,
                id,
                &worker.owner,
                state.generation,
                &record,
                outcome,
            )
            .await?;
        if kept {
            give_up(worker, &endpoint, attempt, record.error.as_deref()).await?;
        }
        return Ok(Next::Stop);
    };
    let next = now + chrono::Duration::from_std(wait).unwrap_or(LEASE);
    record.next_attempt_at = Some(next);
    store
        .record_webhook_attempt(
            tenant,
            id,
            &worker.owner,
            state.generation,
            &record,
            AttemptOutcome::RetryAt(next, attempt),
        )
        .await?;
    tracing::warn!(endpoint = %id, attempt, error = record.error.as_deref().unwrap_or_default(), "webhook delivery failed; will retry");
    Ok(Next::Wait(wait.min(Duration::from_secs(10))))
}

/// Whether the endpoint wants the event: its tenant's, of a customer's history, of one of
/// its types (all when it names none).
fn wanted(endpoint: &WebhookEndpointRecord, event: &StoredEvent) -> bool {
    event.metadata.tenant == endpoint.tenant_id
        && !event.customers_named().is_empty()
        && (endpoint.event_types.is_empty() || endpoint.event_types.contains(&event.event_type))
}

/// The delivery's body: the event as the GraphQL history shows it.
fn body(event: &StoredEvent, cursor: &str) -> serde_json::Value {
    json!({
        "type": event.event_type,
        "timestamp": event.metadata.occurred_at,
        "data": {
            "tenant": event.metadata.tenant,
            "customerId": event.customers_named().first(),
            "aggregateType": event.aggregate_type,
            "aggregateId": event.aggregate_id,
            "sequence": event.sequence,
            "position": cursor,
            "actor": event.metadata.actor,
            "payload": event.shown_body(),
        }
    })
}

/// The wait after the `attempt`th failure, ±20 %; none after the last.
fn backoff(settings: &WorkerSettings, attempt: i64) -> Option<Duration> {
    let factor = *SCHEDULE.get(usize::try_from(attempt - 1).ok()?)?;
    let base = settings.retry_base * factor;
    // uuid v4 is 122 random bits: enough for a jitter, with no other dependency.
    let random = (uuid::Uuid::new_v4().as_u128() % 10_000) as f64 / 10_000.0;
    Some(base.mul_f64(0.8 + 0.4 * random))
}

/// Disables an endpoint that kept failing, as `system`, and tells the tenant.
async fn give_up(
    worker: &Worker,
    endpoint: &WebhookEndpointRecord,
    attempts: i64,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let now = worker.clock.now();
    let reason = format!(
        "deliveries kept failing ({attempts} attempts); last error: {}",
        error.unwrap_or("none")
    );
    let metadata = EventMetadata {
        tenant: endpoint.tenant_id.clone(),
        actor: "system".into(),
        role: None,
        on_behalf_of: None,
        request_id: format!("webhooks-{}", uuid::Uuid::now_v7()),
        occurred_at: now,
    };
    let command = WebhookCommand::Disable {
        endpoint_id: endpoint.endpoint_id.clone(),
        reason: Some(reason.clone()),
    };
    if let Err(error) = worker.store.webhook_command(command, None, &metadata).await {
        tracing::error!(%error, endpoint = %endpoint.endpoint_id, "could not disable a failing webhook endpoint");
        return Ok(());
    }
    tracing::warn!(endpoint = %endpoint.endpoint_id, %reason, "webhook endpoint disabled");
    let Some(mailer) = &worker.mailer else {
        return Ok(());
    };
    let notices = worker.store.notice_settings(&endpoint.tenant_id).await?;
    for to in notices.recipients {
        let mail = disabled_mail(endpoint, &to, &notices.language, &reason, now);
        if let Err(error) = mailer.send(mail).await {
            tracing::error!(%error, endpoint = %endpoint.endpoint_id, "could not mail that a webhook endpoint was disabled");
        }
    }
    Ok(())
}

/// The mail telling a tenant's notice address that an endpoint was disabled
/// (`mail/templates/<lang>/webhook_disabled.txt`).
pub fn disabled_mail(
    endpoint: &WebhookEndpointRecord,
    to: &str,
    language: &str,
    reason: &str,
    at: DateTime<Utc>,
) -> Mail {
    Mail {
        kind: "webhook_disabled",
        tenant: endpoint.tenant_id.clone(),
        to: to.to_string(),
        language: language.to_string(),
        values: vec![
            ("url", endpoint.url.clone()),
            ("endpointId", endpoint.endpoint_id.clone()),
            ("reason", reason.to_string()),
            ("at", at.format("%Y-%m-%d %H:%M UTC").to_string()),
        ],
    }
}
