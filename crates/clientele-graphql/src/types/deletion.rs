//! Deletion requests, as auditors see them, and the tenant-wide list of them.

use async_graphql::{ComplexObject, Context, Enum, InputObject, SimpleObject, ID};
use chrono::{DateTime, Utc};
use clientele_store::{DeletionRequestPage, DeletionRequestRecord};

use super::customer::Customer;
use super::page::PageInfo;
use crate::error::ApiResult;
use crate::guard;

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
    /// The request's id.
    pub id: String,
    /// The customer to be deleted.
    pub customer_id: ID,
    /// The subject who asked.
    pub requested_by: String,
    /// When it was asked.
    pub requested_at: DateTime<Utc>,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// When the service deletes the customer if the request is still open.
    pub due_at: DateTime<Utc>,
    /// Open, cancelled or carried out.
    pub status: DeletionRequestStatus,
    /// Who cancelled it or carried it out (`system:deletion-scheduler` when automatic).
    pub closed_by: Option<String>,
    /// When it was cancelled or carried out; null while open.
    pub closed_at: Option<DateTime<Utc>>,
    /// The note saved when it was cancelled.
    pub note: Option<String>,
    /// True when the service deleted the customer because the request fell due.
    pub automatic: bool,
    /// Whether the customer's inner customers are deleted with it when it falls due.
    pub delete_inner_customers: bool,
}

impl DeletionRequestStatus {
    /// The status as the read model stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            DeletionRequestStatus::Open => "OPEN",
            DeletionRequestStatus::Cancelled => "CANCELLED",
            DeletionRequestStatus::CarriedOut => "CARRIED_OUT",
        }
    }
}

/// Which deletion requests the tenant-wide list holds.
#[derive(InputObject, Debug, Default)]
pub struct DeletionRequestFilter {
    /// Omitted: every status.
    pub status: Option<DeletionRequestStatus>,
    /// Only requests due before this instant (for example the end of this week).
    pub due_before: Option<DateTime<Utc>>,
    /// Only this customer's requests.
    pub customer_id: Option<ID>,
}

/// A request in the list, with today's customer (the node stays what the request is, so
/// `customerAsOf` can give the same type of one instant).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct DeletionRequestEdge {
    /// Pass as `after` to page from this request.
    pub cursor: String,
    /// The request.
    pub node: DeletionRequest,
}

#[ComplexObject]
impl DeletionRequestEdge {
    /// The customer the request is about, as it is now (null if the caller cannot see it).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        Ok(guard::visible_customer(ctx, &self.node.customer_id)
            .await?
            .map(Into::into))
    }
}

/// A page of deletion requests, soonest due first.
#[derive(SimpleObject, Debug, Clone)]
pub struct DeletionRequestConnection {
    /// The requests of this page.
    pub edges: Vec<DeletionRequestEdge>,
    /// Where this page sits in the list.
    pub page_info: PageInfo,
}

impl DeletionRequestConnection {
    pub fn new(page: DeletionRequestPage, after: bool) -> Self {
        let edges: Vec<DeletionRequestEdge> = page
            .items
            .into_iter()
            .map(|(cursor, customer, record)| DeletionRequestEdge {
                cursor: cursor.encode(),
                node: DeletionRequest::of(customer, record),
            })
            .collect();
        DeletionRequestConnection {
            page_info: PageInfo::of(&edges, |e| e.cursor.clone(), page.has_next_page, after),
            edges,
        }
    }
}

impl DeletionRequest {
    /// A request of `customer`, as the read model holds it.
    pub fn of(customer: String, r: DeletionRequestRecord) -> Self {
        DeletionRequest {
            id: r.request_id,
            customer_id: ID(customer),
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
