//! The `deletion_requests` read model: every request and how it ended. Applied inline,
//! idempotent by version.

use clientele_domain::customer::{CustomerDeleted, DeletionCancelled, DeletionRequested};

use crate::db::{Arg, Tx};
use crate::events::StoredEvent;
use crate::StoreError;

fn body<T: serde::de::DeserializeOwned>(event: &StoredEvent) -> Result<T, StoreError> {
    serde_json::from_value(event.body().clone()).map_err(|e| {
        StoreError::Corrupt(format!(
            "{} #{} does not decode: {e}",
            event.event_type, event.sequence
        ))
    })
}

/// Closes a request: CANCELLED or CARRIED_OUT.
async fn close(
    tx: &mut Tx,
    event: &StoredEvent,
    request_id: &str,
    status: &str,
    closed_by: &str,
    note: Option<String>,
    automatic: bool,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE deletion_requests SET status = $4, closed_by = $5, closed_at = $6, note = $7, automatic = $8, version = $9 \
         WHERE tenant_id = $1 AND customer_id = $2 AND request_id = $3 AND version < $9",
        &[
            Arg::from(event.metadata.tenant.as_str()),
            Arg::from(event.aggregate_id.as_str()),
            Arg::from(request_id),
            Arg::from(status),
            Arg::from(closed_by),
            Arg::Int(event.metadata.occurred_at.timestamp_micros()),
            Arg::OptText(note),
            Arg::Bool(automatic),
            Arg::Int(event.sequence),
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn apply(tx: &mut Tx, event: &StoredEvent) -> Result<(), StoreError> {
    if event.aggregate_type != "Customer" {
        return Ok(());
    }
    match event.event_type.as_str() {
        "DeletionRequested" => {
            let requested: DeletionRequested = body(event)?;
            tx.execute(
                "INSERT INTO deletion_requests (tenant_id, customer_id, request_id, requested_by, requested_at, reason, \
                 due_at, status, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 'OPEN', $8) \
                 ON CONFLICT (tenant_id, customer_id, request_id) DO NOTHING",
                &[
                    Arg::from(event.metadata.tenant.as_str()),
                    Arg::from(event.aggregate_id.as_str()),
                    Arg::Text(requested.request_id),
                    Arg::Text(requested.requested_by),
                    Arg::Int(event.metadata.occurred_at.timestamp_micros()),
                    Arg::OptText(requested.reason),
                    Arg::Int(requested.due_at.timestamp_micros()),
                    Arg::Int(event.sequence),
                ],
            )
            .await?;
            Ok(())
        }
        "DeletionCancelled" => {
            let cancelled: DeletionCancelled = body(event)?;
            let note = Some(cancelled.note);
            close(
                tx,
                event,
                &cancelled.request_id,
                "CANCELLED",
                &cancelled.cancelled_by,
                note,
                false,
            )
            .await
        }
        "CustomerDeleted" => {
            let deleted: CustomerDeleted = body(event)?;
            match &deleted.request_id {
                Some(request) => {
                    close(
                        tx,
                        event,
                        request,
                        "CARRIED_OUT",
                        &deleted.deleted_by,
                        None,
                        deleted.automatic,
                    )
                    .await
                }
                None => Ok(()),
            }
        }
        _ => Ok(()),
    }
}
