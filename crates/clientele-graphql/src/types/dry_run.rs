//! Dry runs: what `deleteCustomer(dryRun: true)` and `moveCustomer(dryRun: true)` would do.
//! Both mutations still answer the `Customer` (as it is: a dry run writes nothing); the
//! preview is one more field of that answer, null everywhere else.

use async_graphql::{SimpleObject, ID};
use clientele_store::DeletionPreview as StoreDeletionPreview;

/// How many ids at most a preview lists; `count` is always the whole number.
pub const PREVIEW_IDS: usize = 100;

/// Some things a mutation would touch: how many, and the first of them.
#[derive(SimpleObject, Debug, Clone, Default)]
pub struct AffectedIds {
    /// How many there are.
    pub count: i32,
    /// The first 100 of their ids, in the order the mutation would touch them.
    pub ids: Vec<ID>,
}

impl AffectedIds {
    /// All of `ids`, counted, the first `PREVIEW_IDS` listed.
    pub fn of(ids: &[String]) -> Self {
        AffectedIds {
            count: ids.len() as i32,
            ids: ids.iter().take(PREVIEW_IDS).cloned().map(ID).collect(),
        }
    }
}

/// An open deletion request a deletion would carry out (close).
#[derive(SimpleObject, Debug, Clone)]
pub struct ClosedDeletionRequest {
    /// The customer whose request it is.
    pub customer_id: ID,
    /// The request's id (as `deletionRequests` lists it).
    pub request_id: String,
}

/// What `deleteCustomer` would do; nothing was written. Each list covers the customer
/// and, with `deleteInnerCustomers: true`, every inner customer deleted with it.
#[derive(SimpleObject, Debug, Clone)]
pub struct DeletionPreview {
    /// The inner customers that would be deleted with it, deepest first.
    pub inner_customers: AffectedIds,
    /// The users that would be removed.
    pub users: AffectedIds,
    /// The devices that would be released (left without a customer).
    pub devices: AffectedIds,
    /// The assets that would be released.
    pub assets: AffectedIds,
    /// The edges that would be released.
    pub edges: AffectedIds,
    /// The dashboards that would be released (unassigned from the deleted customers).
    pub dashboards: AffectedIds,
    /// How many open deletion requests the deletion would carry out (close).
    pub closed_request_count: i32,
    /// The first 100 of those requests.
    pub closed_requests: Vec<ClosedDeletionRequest>,
    /// How many events the deletion would write.
    pub events: i32,
}

impl From<StoreDeletionPreview> for DeletionPreview {
    fn from(p: StoreDeletionPreview) -> Self {
        DeletionPreview {
            inner_customers: AffectedIds::of(&p.inner_customers),
            users: AffectedIds::of(&p.users),
            devices: AffectedIds::of(&p.devices),
            assets: AffectedIds::of(&p.assets),
            edges: AffectedIds::of(&p.edges),
            dashboards: AffectedIds::of(&p.dashboards),
            closed_request_count: p.closed_requests.len() as i32,
            closed_requests: p
                .closed_requests
                .into_iter()
                .take(PREVIEW_IDS)
                .map(|r| ClosedDeletionRequest {
                    customer_id: ID(r.customer_id),
                    request_id: r.request_id,
                })
                .collect(),
            events: p.events as i32,
        }
    }
}

/// What `moveCustomer` would do; nothing was written. A move releases nothing and closes
/// no request: the customer takes its whole subtree, users and assignments with it.
#[derive(SimpleObject, Debug, Clone)]
pub struct MovePreview {
    /// The parent it has now; null at the top.
    pub from_parent_id: Option<ID>,
    /// The parent it would have; null: the top.
    pub to_parent_id: Option<ID>,
    /// False when it is already there: the move would write nothing.
    pub changed: bool,
    /// The live inner customers that would move with it: all of them counted; of the
    /// first 100 by id, those the caller may see listed.
    pub inner_customers: AffectedIds,
    /// How many events the move would write.
    pub events: i32,
}

/// The preview a dry run answers with, as a part of the `Customer` type.
#[derive(SimpleObject, Debug, Clone, Default)]
pub struct CustomerPreview {
    /// What `deleteCustomer(dryRun: true)` found the deletion would do; null on every
    /// other answer.
    pub deletion_preview: Option<DeletionPreview>,
    /// What `moveCustomer(dryRun: true)` found the move would do; null on every other
    /// answer.
    pub move_preview: Option<MovePreview>,
}
