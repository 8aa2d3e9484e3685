//! Deletion requests, as auditors see them.

use async_graphql::{Enum, SimpleObject};
use chrono::{DateTime, Utc};
use clientele_store::DeletionRequestRecord;

/// How a deletion request stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum DeletionRequestStatus {
    /// Still open: the customer will be deleted at `dueAt` unless it is cancelled.
    Open,
    /// Cancelled, with a note.
    Cancelled,
    /// The customer was deleted (by a person, or automatically when it fell due).
    CarriedOut,
}

/// One deletion request of a customer.
#[derive(SimpleObject, Debug, Clone)]
pub struct DeletionRequest {
    pub id: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub reason: Option<String>,
    /// When the service deletes the customer if the request is still open.
    pub due_at: DateTime<Utc>,
    pub status: DeletionRequestStatus,
    /// Who cancelled it or carried it out (`system:deletion-scheduler` when automatic).
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    /// The note saved when it was cancelled.
    pub note: Option<String>,
    /// True when the service deleted the customer because the request fell due.
    pub automatic: bool,
    /// Whether the customer's inner customers are deleted with it when it falls due.
    pub delete_inner_customers: bool,
}

impl From<DeletionRequestRecord> for DeletionRequest {
    fn from(r: DeletionRequestRecord) -> Self {
        DeletionRequest {
            id: r.request_id,
            requested_by: r.requested_by,
            requested_at: r.requested_at,
            reason: r.reason,
            due_at: r.due_at,
            status: match r.status.as_str() {
                "OPEN" => DeletionRequestStatus::Open,
                "CANCELLED" => DeletionRequestStatus::Cancelled,
                _ => DeletionRequestStatus::CarriedOut,
            },
            closed_by: r.closed_by,
            closed_at: r.closed_at,
            note: r.note,
            automatic: r.automatic,
            delete_inner_customers: r.delete_inner_customers,
        }
    }
}
