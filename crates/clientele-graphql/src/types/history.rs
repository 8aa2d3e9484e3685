//! A customer's history: its events, in order.

use async_graphql::{Json, SimpleObject};
use chrono::{DateTime, Utc};
use clientele_store::StoredEvent;

use super::customer::PageInfo;

/// One event of a customer's history.
#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryEvent {
    /// The event type, e.g. `CustomerCreated`.
    #[graphql(name = "type")]
    pub event_type: String,
    /// The customer's version after this event (1 for its creation).
    pub version: i64,
    /// The shape version of the stored event.
    pub event_version: String,
    pub occurred_at: DateTime<Utc>,
    /// Who did it: the real person, also when impersonating.
    pub actor: String,
    /// The actor's role.
    pub role: Option<String>,
    /// The customer the actor was logged in as, when impersonating.
    pub on_behalf_of: Option<String>,
    pub request_id: String,
    /// The event's fields as stored (for an edit, only the changed fields and `cleared`).
    pub payload: Json<serde_json::Value>,
}

impl From<StoredEvent> for HistoryEvent {
    fn from(e: StoredEvent) -> Self {
        HistoryEvent {
            payload: Json(e.body().clone()),
            event_type: e.event_type,
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

#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryEdge {
    pub cursor: String,
    pub node: HistoryEvent,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct HistoryConnection {
    pub edges: Vec<HistoryEdge>,
    pub page_info: PageInfo,
}
