//! The events one subscription receives: the log replayed from the store after its cursor,
//! then the live feed, joined with no gap and no duplicate at the seam.
//!
//! Every subscription reads the live feed (`clientele_store::feed`), which follows the log
//! itself, so a subscriber on any instance sees the events of every instance, in global
//! order.

use std::collections::VecDeque;
use std::sync::Arc;

use clientele_store::feed::{Feed, Topic};
use clientele_store::{LogPosition, Store, StoredEvent};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use crate::auth::Role;
use crate::context::RequestContext;
use crate::error::{ApiError, ApiResult};
use crate::guard;
use crate::types::page::encode_cursor;

/// What one subscription lets through, decided on each event.
pub(crate) struct Selection {
    pub(crate) me: RequestContext,
    pub(crate) customer: Option<String>,
    pub(crate) types: Option<Vec<String>>,
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
                .await?
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
pub(crate) struct EventStream {
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
    pub(crate) fn new(
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
                        return Some(Err(ApiError::from(error)));
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
                            }));
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        }
    }

    pub(crate) fn into_stream(self) -> impl Stream<Item = ApiResult<Arc<StoredEvent>>> {
        futures::stream::unfold(self, |mut stream| async move {
            let item = stream.next().await?;
            Some((item, stream))
        })
    }
}
