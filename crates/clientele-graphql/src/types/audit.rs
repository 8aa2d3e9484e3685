//! The audit trail: a customer's history page by page, and the events subscriptions
//! deliver live.

use async_graphql::{InputObject, Json, SimpleObject, ID};
use chrono::{DateTime, Utc};
use clientele_store::StoredEvent;

use super::page::{encode_cursor, PageInfo};

/// One event of a customer's history.
#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryEvent {
    /// The event type, e.g. `CustomerCreated`.
    #[graphql(name = "type")]
    pub event_type: String,
    /// The aggregate the event belongs to: `Customer`, or for an assignment `Device`,
    /// `Asset`, `Edge` or `DashboardAssignment`.
    pub aggregate_type: String,
    /// The customer's id, or the assignment aggregate's (`tenant/entity`).
    pub aggregate_id: String,
    /// The aggregate's version after this event (1 for its creation).
    pub version: i64,
    /// The shape version of the stored event.
    pub event_version: String,
    /// When the event was committed.
    pub occurred_at: DateTime<Utc>,
    /// Who did it: the real person, also when impersonating.
    pub actor: String,
    /// The actor's role.
    pub role: Option<String>,
    /// The customer the actor was logged in as, when impersonating.
    pub on_behalf_of: Option<String>,
    /// The id of the request that wrote it (the `x-request-id` of the call).
    pub request_id: String,
    /// The event's fields as stored (for an edit, only the changed fields and `cleared`).
    pub payload: Json<serde_json::Value>,
}

impl From<StoredEvent> for HistoryEvent {
    fn from(e: StoredEvent) -> Self {
        HistoryEvent {
            payload: Json(e.shown_body()),
            event_type: e.event_type,
            aggregate_type: e.aggregate_type,
            aggregate_id: e.aggregate_id,
            version: e.sequence,
            event_version: e.event_version,
            occurred_at: e.metadata.occurred_at,
            actor: e.metadata.actor,
            role: e.metadata.role,
            on_behalf_of: e.metadata.on_behalf_of,
            request_id: e.metadata.request_id,
        }
    }
}

/// A history event, with its cursor.
#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryEdge {
    /// Pass as `after` to page from this event.
    pub cursor: String,
    /// The event.
    pub node: HistoryEvent,
}

/// A page of a customer's history, oldest first.
#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryConnection {
    /// The events of this page.
    pub edges: Vec<HistoryEdge>,
    /// Where this page sits in the history.
    pub page_info: PageInfo,
}

/// Which events a `customerEvents` subscription receives.
#[derive(InputObject, Default)]
pub struct CustomerEventFilter {
    /// Only this customer's events.
    pub customer_id: Option<ID>,
    /// Only events of these types, e.g. `CustomerEdited`.
    pub types: Option<Vec<String>>,
}

/// One committed event of a customer.
#[derive(SimpleObject)]
pub struct CustomerEvent {
    /// Its place in the global log: subscribe with `after` set to it to resume right after.
    pub cursor: String,
    /// The event type, e.g. `CustomerEdited`.
    #[graphql(name = "type")]
    pub event_type: String,
    /// The customer the event is of; for an assignment event, the customer it names (the
    /// new owner; `payload.previousCustomerId` names the previous one).
    pub customer_id: ID,
    /// `Customer`, or for an assignment `Device`, `Asset`, `Edge` or `DashboardAssignment`.
    pub aggregate_type: String,
    /// The customer's id, or the assignment aggregate's (`tenant/entity`).
    pub aggregate_id: String,
    /// The aggregate's version after this event.
    pub version: i64,
    /// The shape version of the stored event.
    pub event_version: String,
    /// When the event was committed.
    pub occurred_at: DateTime<Utc>,
    /// Who did it: the real person, also when impersonating.
    pub actor: String,
    /// The actor's role.
    pub role: Option<String>,
    /// The customer the actor was logged in as, when impersonating.
    pub on_behalf_of: Option<String>,
    /// The id of the request that wrote it.
    pub request_id: String,
    /// The event's fields as stored.
    pub payload: Json<serde_json::Value>,
}

impl From<&StoredEvent> for CustomerEvent {
    fn from(e: &StoredEvent) -> Self {
        CustomerEvent {
            cursor: encode_cursor(e.log_position),
            event_type: e.event_type.clone(),
            customer_id: ID(e
                .customers_named()
                .first()
                .map_or_else(|| e.aggregate_id.clone(), |id| id.to_string())),
            aggregate_type: e.aggregate_type.clone(),
            aggregate_id: e.aggregate_id.clone(),
            version: e.sequence,
            event_version: e.event_version.clone(),
            occurred_at: e.metadata.occurred_at,
            actor: e.metadata.actor.clone(),
            role: e.metadata.role.clone(),
            on_behalf_of: e.metadata.on_behalf_of.clone(),
            request_id: e.metadata.request_id.clone(),
            payload: Json(e.shown_body()),
        }
    }
}
