//! The `deletion_requests` read model (projection `deletion_requests`): every request and
//! how it ended. Applied inline, idempotent by version.

use clientele_domain::customer::CustomerEvent;

use crate::db::{Arg, Tx};
use crate::events::{Envelope, LogEvent};
use crate::StoreError;

pub(crate) async fn apply(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    let event = match &e.event {
        LogEvent::Customer(event) => event,
        LogEvent::Tenant(_) | LogEvent::Entity(_) | LogEvent::Dashboard(_) => return Ok(()),
    };
    match event {
        CustomerEvent::DeletionRequested(requested) => {
            tx.execute(
                "INSERT INTO deletion_requests (tenant_id, customer_id, request_id, requested_by, requested_at, reason, \
                 due_at, status, version, delete_inner_customers) VALUES ($1, $2, $3, $4, $5, $6, $7, 'OPEN', $8, $9) \
                 ON CONFLICT (tenant_id, customer_id, request_id) DO NOTHING",
                &[
                    Arg::from(e.tenant()),
                    Arg::from(e.aggregate_id.as_str()),
                    Arg::Text(requested.request_id.clone()),
                    Arg::Text(requested.requested_by.clone()),
                    Arg::Int(e.occurred_at().timestamp_micros()),
                    Arg::OptText(requested.reason.clone()),
                    Arg::Int(requested.due_at.timestamp_micros()),
                    Arg::Int(e.sequence),
                    Arg::Bool(requested.delete_inner_customers),
                ],
            )
            .await?;
            Ok(())
        }
        CustomerEvent::DeletionCancelled(cancelled) => {
            let closed = Closed {
                status: "CANCELLED",
                by: &cancelled.cancelled_by,
                note: Some(cancelled.note.clone()),
                automatic: false,
            };
            close(tx, e, &cancelled.request_id, closed).await
        }
        CustomerEvent::CustomerDeleted(deleted) => match &deleted.request_id {
            Some(request) => {
                let closed = Closed {
                    status: "CARRIED_OUT",
                    by: &deleted.deleted_by,
                    note: None,
                    automatic: deleted.automatic,
                };
                close(tx, e, request, closed).await
            }
            None => Ok(()),
        },
        CustomerEvent::CustomerCreated(_)
        | CustomerEvent::CustomerEdited(_)
        | CustomerEvent::ProductVisibilitySet(_)
        | CustomerEvent::ProductVisibilityReset(_)
        | CustomerEvent::ProductActivated(_)
        | CustomerEvent::ProductStatusChanged(_)
        | CustomerEvent::AccountStatusChanged(_)
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

/// How a request ended.
struct Closed<'a> {
    /// CANCELLED or CARRIED_OUT.
    status: &'static str,
    by: &'a str,
    note: Option<String>,
    automatic: bool,
}

/// Closes a request (CANCELLED or CARRIED_OUT), if the row is older than the event.
async fn close(
    tx: &mut Tx,
    e: &Envelope,
    request_id: &str,
    closed: Closed<'_>,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE deletion_requests SET status = $4, closed_by = $5, closed_at = $6, note = $7, automatic = $8, version = $9 \
         WHERE tenant_id = $1 AND customer_id = $2 AND request_id = $3 AND version < $9",
        &[
            Arg::from(e.tenant()),
            Arg::from(e.aggregate_id.as_str()),
            Arg::from(request_id),
            Arg::from(closed.status),
            Arg::from(closed.by),
            Arg::Int(e.occurred_at().timestamp_micros()),
            Arg::OptText(closed.note),
            Arg::Bool(closed.automatic),
            Arg::Int(e.sequence),
        ],
    )
    .await?;
    Ok(())
}
