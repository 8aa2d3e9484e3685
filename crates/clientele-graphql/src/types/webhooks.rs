//! Webhook endpoints, the secret given out once, and each endpoint's delivery log.

use async_graphql::{ComplexObject, Context, Enum, InputObject, SimpleObject, ID};
use chrono::{DateTime, Utc};
use clientele_domain::Rule;
use clientele_store::{Store, WebhookDelivery as DeliveryRecord, WebhookEndpointRecord};

use super::page::{first as first_page, PageInfo};
use crate::error::{ApiError, ApiResult};

/// A URL the tenant's events are POSTed to, signed as the Standard Webhooks specification
/// says (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct WebhookEndpoint {
    /// The endpoint's id.
    pub id: ID,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The event types delivered, e.g. `CustomerCreated`; empty: every type.
    pub event_types: Vec<String>,
    /// What the endpoint is for, as the tenant wrote it.
    pub description: String,
    /// False once disabled, by a person or by the service after deliveries kept failing.
    pub enabled: bool,
    /// Why it was disabled, when it is.
    pub disabled_reason: Option<String>,
    /// Who disabled it (`system` when the service did), when it is disabled.
    pub disabled_by: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    #[graphql(skip)]
    pub tenant: String,
}

impl From<WebhookEndpointRecord> for WebhookEndpoint {
    fn from(r: WebhookEndpointRecord) -> Self {
        WebhookEndpoint {
            id: ID(r.endpoint_id),
            url: r.url,
            event_types: r.event_types,
            description: r.description,
            enabled: r.enabled,
            disabled_reason: r.disabled_reason,
            disabled_by: r.disabled_by,
            created_at: r.created_at,
            updated_at: r.updated_at,
            tenant: r.tenant_id,
        }
    }
}

#[ComplexObject]
impl WebhookEndpoint {
    /// The endpoint's delivery attempts, newest first (at most 100 a page, 20 by default).
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many attempts to return (0 to 100, 20 by default).")] first: Option<
            i32,
        >,
        #[graphql(desc = "The cursor of the last attempt of the previous page.")] after: Option<
            String,
        >,
    ) -> ApiResult<WebhookDeliveryConnection> {
        let size = first_page(first)?;
        let before = after
            .as_deref()
            .map(|c| {
                c.parse::<i64>().map_err(|_| {
                    ApiError::argument(
                        "after",
                        Rule::Format,
                        "after is not a cursor this list gave out",
                    )
                })
            })
            .transpose()?;
        let store = ctx.data_unchecked::<Store>();
        let mut rows = store
            .webhook_deliveries(&self.tenant, &self.id, size as i64 + 1, before)
            .await?;
        let has_next_page = rows.len() > size;
        rows.truncate(size);
        let edges: Vec<WebhookDeliveryEdge> = rows
            .into_iter()
            .map(|r| WebhookDeliveryEdge {
                cursor: r.id.to_string(),
                node: r.into(),
            })
            .collect();
        let page_info = PageInfo::of(
            &edges,
            |e| e.cursor.clone(),
            has_next_page,
            before.is_some(),
        );
        Ok(WebhookDeliveryConnection { edges, page_info })
    }
}

/// An endpoint and its signing secret, which is shown this once and never again.
#[derive(SimpleObject, Debug, Clone)]
pub struct WebhookEndpointWithSecret {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The signing secret (`whsec_` and base64): keep it; it is never shown again.
    pub secret: String,
}

/// How a delivery attempt ended.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum WebhookDeliveryStatus {
    /// The receiver answered 2xx: the event is delivered.
    Succeeded,
    /// No 2xx answer (an error status, a timeout, a refused address): tried again later.
    Failed,
}

/// One attempt at delivering one event to an endpoint.
#[derive(SimpleObject, Debug, Clone)]
pub struct WebhookDelivery {
    /// 1 for the first attempt at this event, 2 for the first retry, and so on.
    pub attempt: i32,
    /// The event's type, e.g. `CustomerCreated`.
    pub event_type: String,
    /// The `webhook-id` header: the same for every attempt at the event.
    pub webhook_id: String,
    /// The event's place in the log (a cursor `redeliverWebhooks` accepts).
    pub event_cursor: String,
    /// How the attempt ended.
    pub status: WebhookDeliveryStatus,
    /// The receiver's HTTP status code, when it answered.
    pub response_code: Option<i32>,
    /// From sending the request to the end of the answer, in milliseconds.
    pub latency_ms: i32,
    /// What went wrong, for a failed attempt (and the start of the receiver's answer).
    pub error: Option<String>,
    /// When the attempt was made.
    pub attempted_at: DateTime<Utc>,
    /// When the event is tried again, after a failed attempt (none once the endpoint is
    /// disabled for failing).
    pub next_attempt_at: Option<DateTime<Utc>>,
}

impl From<DeliveryRecord> for WebhookDelivery {
    fn from(r: DeliveryRecord) -> Self {
        WebhookDelivery {
            attempt: r.attempt as i32,
            event_type: r.event_type,
            webhook_id: r.webhook_id,
            event_cursor: r.event_cursor,
            status: if r.status == "SUCCEEDED" {
                WebhookDeliveryStatus::Succeeded
            } else {
                WebhookDeliveryStatus::Failed
            },
            response_code: r.response_code.map(|c| c as i32),
            latency_ms: r.latency_ms.min(i64::from(i32::MAX)) as i32,
            error: r.error,
            attempted_at: r.attempted_at,
            next_attempt_at: r.next_attempt_at,
        }
    }
}

/// One attempt and its cursor.
#[derive(SimpleObject, Debug, Clone)]
pub struct WebhookDeliveryEdge {
    /// Pass as `after` to read the attempts before this one.
    pub cursor: String,
    /// The attempt.
    pub node: WebhookDelivery,
}

/// A page of an endpoint's delivery attempts, newest first.
#[derive(SimpleObject, Debug, Clone)]
pub struct WebhookDeliveryConnection {
    /// The attempts of this page.
    pub edges: Vec<WebhookDeliveryEdge>,
    /// Where the page sits in the whole list.
    pub page_info: PageInfo,
}

/// A new webhook endpoint.
#[derive(InputObject, Debug)]
pub struct RegisterWebhookEndpointInput {
    /// Where to POST deliveries: https (http only where private addresses are allowed).
    pub url: String,
    /// The event types to deliver, e.g. `["CustomerCreated", "CustomerEdited"]`; empty or
    /// omitted: every type.
    #[graphql(default)]
    pub event_types: Vec<String>,
    /// What the endpoint is for.
    #[graphql(default)]
    pub description: String,
}

/// Changes to an endpoint; an omitted field keeps its value.
#[derive(InputObject, Debug)]
pub struct UpdateWebhookEndpointInput {
    /// The new URL.
    pub url: Option<String>,
    /// The new event types (empty: every type).
    pub event_types: Option<Vec<String>>,
    /// The new description.
    pub description: Option<String>,
}
