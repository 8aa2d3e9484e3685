//! The deletion scheduler: carries out deletion requests when they fall due.
//!
//! Every instance runs one. Due requests are read from the `deletion_requests` read model,
//! which the store keeps in the command's transaction, so a request due while the service
//! was down is found on start. Each deletion is a command on the customer: the aggregate
//! deletes only an open request that is due, and the row lock queues instances, so when
//! several instances race for one request exactly one deletes and the others are refused.

use std::time::Duration;

use clientele_domain::customer::{Confirmation, CustomerError};
use clientele_graphql::Clock;
use clientele_store::{CommandError, EventMetadata, Store};
use tokio::sync::watch;
use tracing::Instrument;

/// The actor recorded on automatic deletions.
pub const SCHEDULER_ACTOR: &str = "system:deletion-scheduler";

/// Runs until shutdown, looking for due requests every `poll`.
pub fn spawn(
    store: Store,
    clock: Clock,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = run_once(&store, &clock).await {
                tracing::error!(%error, "deletion scheduler failed; will retry");
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    })
}

/// Deletes every customer whose request is due now. Returns how many it deleted.
pub async fn run_once(store: &Store, clock: &Clock) -> Result<usize, clientele_store::StoreError> {
    let now = clock.now();
    let mut deleted = 0;
    for due in store.due_deletion_requests(now, 100).await? {
        let metadata = EventMetadata {
            tenant: due.tenant_id.clone(),
            actor: SCHEDULER_ACTOR.into(),
            role: None,
            on_behalf_of: None,
            request_id: format!("scheduler-{}", uuid::Uuid::now_v7()),
            occurred_at: now,
        };
        let confirmation = Confirmation::DueRequest {
            request_id: due.request_id.clone(),
            now,
        };
        // Its log lines carry the request id its events are stamped with.
        let span = tracing::info_span!("scheduled_deletion", request_id = %metadata.request_id);
        // The account goes with its inner customers: they cannot outlive it.
        let outcome = store
            .delete_customer(
                &due.customer_id,
                confirmation,
                // The rule decided when the request was made: inner customers go with it
                // only if the request said so (a customer that has gained inner customers
                // since is refused, and the refusal is logged each time it is tried).
                due.delete_inner_customers,
                SCHEDULER_ACTOR,
                &metadata,
            )
            .instrument(span.clone())
            .await;
        let _entered = span.enter();
        match outcome {
            Ok(_) => {
                deleted += 1;
                tracing::info!(customer = %due.customer_id, request = %due.request_id, "deleted: the deletion request fell due");
            }
            // Another instance got there first, or the request was cancelled meanwhile.
            Err(CommandError::Rejected(CustomerError::NotDue | CustomerError::Deleted)) => {}
            Err(error) => {
                tracing::error!(customer = %due.customer_id, %error, "automatic deletion failed; will retry")
            }
        }
    }
    Ok(deleted)
}
