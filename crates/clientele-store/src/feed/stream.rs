//! One subscription's events: the log after a cursor, replayed from the store, then the
//! live feed, joined so the seam has no gap and no duplicate.
//!
//! The stream subscribes to the feed's ring before it replays anything, and drops live
//! events at or before the last one replayed. If the ring overtakes it while it is still
//! at the seam (its own replay was slow), it subscribes again and replays from where it
//! is. A live subscriber that falls further behind than the ring holds is cut off with
//! `StreamError::Lagged`, which names the last position it passed.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;

use futures::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::{Feed, Topic};
use crate::events::{LogPosition, StoredEvent};
use crate::StoreError;

/// Events replayed from the store per read.
const REPLAY_BATCH: i64 = 500;

/// Why a subscription's stream ended with an error (it yields nothing after one).
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    /// The subscriber fell further behind the live feed than the ring holds. Everything up
    /// to `last_cursor` was passed (delivered or filtered out); a subscription resumed
    /// after it misses nothing.
    #[error("the subscriber fell {missed} events behind and was cut off")]
    Lagged {
        last_cursor: LogPosition,
        missed: u64,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Decides, event by event, whether a subscription receives it (its tenant, its customer,
/// the types it asked for, what the subscriber may see). Closures
/// `FnMut(Arc<StoredEvent>) -> impl Future<Output = Result<bool, StoreError>>` are filters.
pub trait EventFilter: Send {
    fn accepts(
        &mut self,
        event: &Arc<StoredEvent>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

impl<F, Fut> EventFilter for F
where
    F: FnMut(Arc<StoredEvent>) -> Fut + Send,
    Fut: Future<Output = Result<bool, StoreError>> + Send,
{
    fn accepts(
        &mut self,
        event: &Arc<StoredEvent>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self(event.clone())
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

/// The events one subscription receives, in global order, each at most once.
pub struct EventStream<F> {
    feed: Feed,
    topic: Topic,
    filter: F,
    receiver: broadcast::Receiver<Arc<StoredEvent>>,
    closing: watch::Receiver<bool>,
    phase: Phase,
    pending: VecDeque<Arc<StoredEvent>>,
    /// The last position this subscription has passed (delivered or filtered out).
    last: LogPosition,
}

impl<F: EventFilter> EventStream<F> {
    /// Follows `topic`. With `after`, every event after that position is replayed from the
    /// store first; without, the stream starts at the feed's head. It subscribes to the
    /// feed at once, so nothing committed from now on falls between replay and live.
    pub fn new(feed: Feed, topic: Topic, after: Option<LogPosition>, filter: F) -> Self {
        // Taken before subscribing: a resume from it may repeat an event the client never
        // saw, never skip one.
        let head = feed.head();
        let receiver = feed.subscribe(topic.clone());
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
            topic,
            filter,
            receiver,
            closing,
            phase,
            pending: VecDeque::new(),
            last: after.unwrap_or(head),
        }
    }

    /// The last position the stream has passed, delivered or filtered out.
    pub fn last_position(&self) -> LogPosition {
        self.last
    }

    /// The next event the filter accepts; `None` once the stream has ended (the feed
    /// closed, or an error was yielded).
    pub async fn next(&mut self) -> Option<Result<Arc<StoredEvent>, StreamError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                self.last = event.log_position;
                match self.filter.accepts(&event).await {
                    Ok(true) => return Some(Ok(event)),
                    Ok(false) => continue,
                    Err(error) => return Some(Err(self.end(error.into()))),
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
                    Err(error) => return Some(Err(self.end(error.into()))),
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
                            self.receiver = self.feed.subscribe(self.topic.clone());
                            self.phase = Phase::Replay(self.last);
                        }
                        Err(RecvError::Lagged(missed)) => {
                            tracing::info!(topic = ?self.topic, missed, "a subscriber fell behind and was cut off");
                            let lagged = StreamError::Lagged {
                                last_cursor: self.last,
                                missed,
                            };
                            return Some(Err(self.end(lagged)));
                        }
                        Err(RecvError::Closed) => return None,
                    }
                }
            }
        }
    }

    /// Ends the stream after `error`: nothing more is delivered.
    fn end(&mut self, error: StreamError) -> StreamError {
        self.phase = Phase::Done;
        self.pending.clear();
        error
    }

    /// As a `Stream`, for a subscription resolver.
    pub fn into_stream(self) -> impl Stream<Item = Result<Arc<StoredEvent>, StreamError>> + Send
    where
        F: 'static,
    {
        futures::stream::unfold(self, |mut stream| async move {
            let item = stream.next().await?;
            Some((item, stream))
        })
    }
}

#[cfg(test)]
mod tests;
