//! Subscriptions: the tenant's events as they are committed, account-status changes and
//! live status counts.
//!
//! Every subscription reads the live feed (`clientele_store::feed`), which follows the log
//! itself, so a subscriber on any instance sees the events of every instance, in global
//! order. With `after`, a subscription first replays the log after that cursor from the
//! store, then goes live with no gap and no duplicate at the seam.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Context, InputObject, Json, SimpleObject, Subscription, ID};
use chrono::{DateTime, Utc};
use clientele_domain::customer::EVENT_TYPES;
use clientele_domain::Rule;
use clientele_store::feed::{Feed, Topic};
use clientele_store::{LogPosition, Store, StoredEvent};
use futures::{Stream, StreamExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use crate::auth::Role;
use crate::context::RequestContext;
use crate::error::{ApiError, ApiResult};
use crate::guard;
use crate::query::{StatusCount, ALL_ROLES, HISTORY_READERS};
use crate::types::enums::AccountStatus;

pub struct SubscriptionRoot;

/// Which events a `customerEvents` subscription receives.
#[derive(InputObject, Default)]
pub struct CustomerEventFilter {
    /// Only this customer's events.
    pub customer_id: Option<ID>,
    /// Only events of these types, e.g. `CustomerEdited`.
    pub types: Option<Vec<String>>,
}

/// Which changes an `accountStatusChanged` subscription receives.
#[derive(InputObject, Default)]
pub struct AccountStatusChangeFilter {
    /// Only this customer's changes.
    pub customer_id: Option<ID>,
    /// Only changes to one of these statuses.
    pub to: Option<Vec<AccountStatus>>,
}

/// One committed event of a customer.
#[derive(SimpleObject)]
pub struct CustomerEvent {
    /// Its place in the global log: subscribe with `after` set to it to resume right after.
    pub cursor: String,
    /// The event type, e.g. `CustomerEdited`.
    #[graphql(name = "type")]
    pub event_type: String,
    pub customer_id: ID,
    /// The customer's version after this event.
    pub version: i64,
    /// The shape version of the stored event.
    pub event_version: String,
    pub occurred_at: DateTime<Utc>,
    /// Who did it: the real person, also when impersonating.
    pub actor: String,
    pub role: Option<String>,
    /// The customer the actor was logged in as, when impersonating.
    pub on_behalf_of: Option<String>,
    pub request_id: String,
    /// The event's fields as stored.
    pub payload: Json<serde_json::Value>,
}

/// A customer's derived account status changed.
#[derive(SimpleObject)]
pub struct AccountStatusChange {
    /// The cursor of the `AccountStatusChanged` event (see `customerEvents`).
    pub cursor: String,
    pub customer_id: ID,
    pub from: AccountStatus,
    pub to: AccountStatus,
    /// The type of the event that caused the change.
    pub cause: String,
    /// The customer's version after the change.
    pub version: i64,
    pub occurred_at: DateTime<Utc>,
}

/// A cursor as subscriptions give it out: `<transaction>-<position>`.
pub fn encode_cursor(position: LogPosition) -> String {
    format!("{}-{}", position.tx, position.position)
}

fn decode_cursor(cursor: &str) -> ApiResult<LogPosition> {
    let invalid = || {
        ApiError::argument(
            "after",
            Rule::Format,
            "after is not a cursor a subscription gave out",
        )
    };
    let (tx, position) = cursor.split_once('-').ok_or_else(invalid)?;
    let tx = tx.parse::<i64>().map_err(|_| invalid())?;
    let position = position.parse::<i64>().map_err(|_| invalid())?;
    if tx < 0 || position < 0 {
        return Err(invalid().into());
    }
    Ok(LogPosition { tx, position })
}

impl From<&StoredEvent> for CustomerEvent {
    fn from(e: &StoredEvent) -> Self {
        CustomerEvent {
            cursor: encode_cursor(e.log_position),
            event_type: e.event_type.clone(),
            customer_id: ID(e.aggregate_id.clone()),
            version: e.sequence,
            event_version: e.event_version.clone(),
            occurred_at: e.metadata.occurred_at,
            actor: e.metadata.actor.clone(),
            role: e.metadata.role.clone(),
            on_behalf_of: e.metadata.on_behalf_of.clone(),
            request_id: e.metadata.request_id.clone(),
            payload: Json(e.body().clone()),
        }
    }
}

/// What one subscription lets through, decided on each event.
struct Selection {
    me: RequestContext,
    customer: Option<String>,
    types: Option<Vec<String>>,
}

impl Selection {
    /// The narrowest channel that carries every event this selection may accept.
    /// (A customer-bound role without a filter also sees its inner customers, so it takes
    /// the tenant's topic.)
    fn topic(&self) -> Topic {
        match self.customer.as_ref() {
            Some(id) => Topic::Customer(self.me.tenant.clone(), id.clone()),
            None => Topic::Tenant(self.me.tenant.clone()),
        }
    }

    async fn accepts(&self, store: &Store, event: &StoredEvent) -> ApiResult<bool> {
        if event.aggregate_type != "Customer" || event.metadata.tenant != self.me.tenant {
            return Ok(false);
        }
        if self
            .customer
            .as_ref()
            .is_some_and(|id| *id != event.aggregate_id)
        {
            return Ok(false);
        }
        if self
            .types
            .as_ref()
            .is_some_and(|types| !types.contains(&event.event_type))
        {
            return Ok(false);
        }
        Ok(match self.me.role {
            Role::TenantAdmin | Role::Reseller | Role::Auditor => true,
            Role::CustomerAdmin | Role::CustomerUser
                if self.me.customer.as_deref() == Some(event.aggregate_id.as_str()) =>
            {
                true
            }
            // A seller's customers can change hands, and inner customers can move: asked of
            // the read model each time.
            Role::Seller | Role::CustomerAdmin | Role::CustomerUser => store
                .customer(&self.me.tenant, &event.aggregate_id)
                .await
                .map_err(ApiError::from)?
                .is_some_and(|record| guard::can_see(&self.me, &record)),
        })
    }
}

enum Phase {
    /// Reading the log from the store after this position.
    Replay(LogPosition),
    /// Delivering the feed's events; `seam` until the first one arrives after a replay.
    Live {
        skip_through: LogPosition,
        seam: bool,
    },
    Done,
}

/// The events one subscription receives, in global order.
struct EventStream {
    feed: Feed,
    store: Store,
    selection: Selection,
    receiver: broadcast::Receiver<Arc<StoredEvent>>,
    closing: watch::Receiver<bool>,
    phase: Phase,
    pending: VecDeque<Arc<StoredEvent>>,
    /// The last position this subscription has passed (delivered or filtered out).
    last: LogPosition,
}

/// Events replayed from the store per read.
const REPLAY_BATCH: i64 = 500;

impl EventStream {
    fn new(
        feed: Feed,
        store: Store,
        selection: Selection,
        after: Option<LogPosition>,
    ) -> EventStream {
        // Taken before subscribing: a resume from it may repeat an event the client never
        // saw, never skip one.
        let head = feed.head();
        let receiver = feed.subscribe(selection.topic());
        let closing = feed.closing();
        let phase = match after {
            Some(after) => Phase::Replay(after),
            None => Phase::Live {
                skip_through: LogPosition::default(),
                seam: false,
            },
        };
        EventStream {
            feed,
            store,
            selection,
            receiver,
            closing,
            phase,
            pending: VecDeque::new(),
            last: after.unwrap_or(head),
        }
    }

    async fn next(&mut self) -> Option<ApiResult<Arc<StoredEvent>>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.last = event.log_position;
                match self.selection.accepts(&self.store, &event).await {
                    Ok(true) => return Some(Ok(event)),
                    Ok(false) => continue,
                    Err(error) => {
                        self.phase = Phase::Done;
                        return Some(Err(error));
                    }
                }
            }
            if *self.closing.borrow() {
                return None;
            }
            match self.phase {
                Phase::Done => return None,
                Phase::Replay(after) => match self.feed.replay(after, REPLAY_BATCH).await {
                    Ok(events) => match events.last().map(|e| e.log_position) {
                        Some(last) => {
                            self.pending.extend(events.into_iter().map(Arc::new));
                            self.phase = Phase::Replay(last);
                        }
                        None => {
                            self.phase = Phase::Live {
                                skip_through: after,
                                seam: true,
                            }
                        }
                    },
                    Err(error) => {
                        self.phase = Phase::Done;
                        return Some(Err(ApiError::from(error).into()));
                    }
                },
                Phase::Live { skip_through, seam } => {
                    let received = tokio::select! {
                        received = self.receiver.recv() => received,
                        _ = self.closing.changed() => return None,
                    };
                    match received {
                        Ok(event) => {
                            self.phase = Phase::Live {
                                skip_through,
                                seam: false,
                            };
                            if event.log_position > skip_through {
                                self.pending.push_back(event);
                            }
                        }
                        // Overtaken while replaying: that is the server's own slowness, so
                        // it reads the store again rather than give up.
                        Err(RecvError::Lagged(_)) if seam => {
                            self.receiver = self.feed.subscribe(self.selection.topic());
                            self.phase = Phase::Replay(self.last);
                        }
                        Err(RecvError::Lagged(missed)) => {
                            self.phase = Phase::Done;
                            tracing::info!(
                                tenant = %self.selection.me.tenant,
                                missed,
                                "a subscriber fell behind and was cut off"
                            );
                            return Some(Err(ApiError::Lagged {
                                last_cursor: Some(encode_cursor(self.last)),
                                missed,
                            }
                            .into()));
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        }
    }

    fn into_stream(self) -> impl Stream<Item = ApiResult<Arc<StoredEvent>>> {
        futures::stream::unfold(self, |mut stream| async move {
            let item = stream.next().await?;
            Some((item, stream))
        })
    }
}

/// The feed, or INTERNAL when the schema was built without one (never in the server).
fn feed<'a>(ctx: &Context<'a>) -> ApiResult<&'a Feed> {
    ctx.data::<Feed>().map_err(|_| {
        ApiError::Internal("subscriptions are not available: no live feed".into()).into()
    })
}

fn types_filter(types: Option<Vec<String>>) -> ApiResult<Option<Vec<String>>> {
    if let Some(unknown) = types
        .iter()
        .flatten()
        .find(|t| !EVENT_TYPES.contains(&t.as_str()))
    {
        return Err(ApiError::argument(
            "filter.types",
            Rule::AllowedValues,
            format!(
                "unknown event type {unknown}; known types: {}",
                EVENT_TYPES.join(", ")
            ),
        )
        .into());
    }
    Ok(types)
}

/// Checks a customer filter: NOT_FOUND unless the principal may read that customer.
async fn customer_filter(
    ctx: &Context<'_>,
    customer_id: Option<ID>,
    roles: &[Role],
) -> ApiResult<Option<String>> {
    match customer_id {
        Some(id) => Ok(Some(guard::readable_customer(ctx, &id, roles).await?.id)),
        None => Ok(None),
    }
}

/// How often `customerCountsByStatus` looks again even when no event woke it.
const COUNTS_POLL: Duration = Duration::from_secs(2);

#[Subscription(name = "Subscription")]
impl SubscriptionRoot {
    /// The tenant's customer events as they are committed, in global order. With `after`
    /// (a `cursor` this subscription gave out), it first replays every event after it,
    /// then continues live. A subscriber that falls too far behind gets a
    /// `SUBSCRIBER_LAGGED` error with `extensions.lastCursor` and resumes from it.
    async fn customer_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerEventFilter>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<CustomerEvent>>> {
        let me = guard::require(ctx, HISTORY_READERS)?.clone();
        let filter = filter.unwrap_or_default();
        let selection = Selection {
            customer: customer_filter(ctx, filter.customer_id, HISTORY_READERS).await?,
            types: types_filter(filter.types)?,
            me,
        };
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let store = ctx.data_unchecked::<Store>().clone();
        let stream = EventStream::new(feed(ctx)?.clone(), store, selection, after);
        Ok(stream
            .into_stream()
            .map(|item| item.map(|event| CustomerEvent::from(event.as_ref()))))
    }

    /// Account-status changes of the customers the principal may see, as they happen.
    async fn account_status_changed(
        &self,
        ctx: &Context<'_>,
        filter: Option<AccountStatusChangeFilter>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<AccountStatusChange>>> {
        let me = guard::require(ctx, ALL_ROLES)?.clone();
        let filter = filter.unwrap_or_default();
        let selection = Selection {
            customer: customer_filter(ctx, filter.customer_id, ALL_ROLES).await?,
            types: Some(vec!["AccountStatusChanged".into()]),
            me,
        };
        let to = filter.to;
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let store = ctx.data_unchecked::<Store>().clone();
        let stream = EventStream::new(feed(ctx)?.clone(), store, selection, after);
        Ok(stream.into_stream().filter_map(move |item| {
            let item = item.and_then(|event| {
                let change: clientele_domain::customer::AccountStatusChanged =
                    serde_json::from_value(event.body().clone()).map_err(|e| {
                        async_graphql::Error::from(ApiError::Internal(format!(
                            "AccountStatusChanged {} does not decode: {e}",
                            event.aggregate_id
                        )))
                    })?;
                Ok(AccountStatusChange {
                    cursor: encode_cursor(event.log_position),
                    customer_id: ID(event.aggregate_id.clone()),
                    from: change.from.into(),
                    to: change.to.into(),
                    cause: change.cause,
                    version: event.sequence,
                    occurred_at: event.metadata.occurred_at,
                })
            });
            let wanted = match (&item, &to) {
                (Ok(change), Some(to)) => to.contains(&change.to),
                _ => true,
            };
            std::future::ready(wanted.then_some(item))
        }))
    }

    /// The tenant's customers per account status: the current counts at once, then a fresh
    /// list whenever they change.
    async fn customer_counts_by_status(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Vec<StatusCount>>>> {
        let me = guard::require(ctx, guard::TENANT_READERS)?.clone();
        let store = ctx.data_unchecked::<Store>().clone();
        let feed = feed(ctx)?.clone();
        let state = CountsState {
            head: feed.head_changes(),
            closing: feed.closing(),
            store,
            tenant: me.tenant,
            last: None,
        };
        Ok(futures::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        }))
    }
}

struct CountsState {
    head: watch::Receiver<LogPosition>,
    closing: watch::Receiver<bool>,
    store: Store,
    tenant: String,
    last: Option<Vec<(clientele_domain::AccountStatus, i64)>>,
}

impl CountsState {
    /// The next counts that differ from the last ones sent. The counts follow the log
    /// asynchronously, so a change is looked for on every new event and on a short poll.
    async fn next(&mut self) -> Option<async_graphql::Result<Vec<StatusCount>>> {
        loop {
            if *self.closing.borrow() {
                return None;
            }
            if self.last.is_some() {
                tokio::select! {
                    changed = self.head.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                        // Let the projection runner apply what woke us.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    _ = tokio::time::sleep(COUNTS_POLL) => {}
                    _ = self.closing.changed() => return None,
                }
            }
            let counts = match self.store.customer_counts(&self.tenant).await {
                Ok(counts) => counts,
                Err(error) => return Some(Err(ApiError::from(error).into())),
            };
            if self.last.as_ref() != Some(&counts) {
                self.last = Some(counts.clone());
                return Some(Ok(counts
                    .into_iter()
                    .map(|(status, count)| StatusCount {
                        status: status.into(),
                        count,
                    })
                    .collect()));
            }
        }
    }
}
