//! The live feed: follows the global log and hands each event, once and in order, to the
//! subscriptions of this instance.
//!
//! The log is the source of truth. Waking up is only a hint: a local commit, a PostgreSQL
//! `NOTIFY` from any instance sharing the database, or a short poll when both were missed
//! (a notification sent while the listener reconnects is lost). Whatever woke it, the feed
//! reads the log after the last position it broadcast, with the same rule as the projection
//! runner (`read_log`), so it never skips an event committed late and never repeats one.
//!
//! Events are routed by topic: a tenant's events, or one customer's. A subscriber gets a
//! bounded `broadcast` receiver of its topic, so it is only woken for events it may want
//! (a dashboard following one customer is not woken by a thousand others). One that falls
//! further behind than the buffer holds loses its place (`Lagged`) instead of slowing the
//! writers, the feed or the other subscribers, and is told which cursor to resume from.
//!
//! `EventStream` (in `stream`) is one subscription: it replays the log after a cursor, then
//! goes live with no gap and no duplicate at the seam.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::db::Db;
use crate::events::{
    committed_after, log_end, read_log, read_log_of_types, LogPosition, StoredEvent,
};
use crate::{Store, StoreError};
use clientele_domain::session::SESSION_ENDING_TYPES;

mod counts;
mod stream;

pub use counts::{Counts, LatestCounts};
pub use stream::{EventFilter, EventStream, StreamError};

/// The PostgreSQL channel every commit notifies.
pub const CHANNEL: &str = "clientele_events";

/// What a subscriber follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Every event of a tenant.
    Tenant(String),
    /// The events of one customer (tenant, customer id).
    Customer(String, String),
}

/// Follows the log and broadcasts it to local subscribers.
#[derive(Clone)]
pub struct Feed {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    /// One channel per topic somebody follows; dropped when its last receiver is.
    topics: Mutex<HashMap<Topic, broadcast::Sender<Arc<StoredEvent>>>>,
    /// Buffer of a tenant's channel; a customer's is a sixteenth of it (at least 16).
    capacity: usize,
    /// The last position broadcast.
    head: watch::Sender<LogPosition>,
    /// Raised once when the service shuts down: every subscription then ends.
    closing: watch::Sender<bool>,
    batch: i64,
    /// The shared live counts, by (tenant, filter).
    counts: Mutex<HashMap<counts::CountsKey, watch::Receiver<LatestCounts>>>,
}

impl Feed {
    /// A feed whose subscribers may fall `capacity` events behind before they are cut off.
    pub fn new(store: Store, capacity: usize) -> Feed {
        let capacity = capacity.max(16);
        Feed {
            inner: Arc::new(Inner {
                store,
                topics: Mutex::new(HashMap::new()),
                capacity,
                head: watch::channel(LogPosition::default()).0,
                closing: watch::channel(false).0,
                // A batch is broadcast at once: keep it well inside the buffer, so a
                // subscriber that keeps up is never cut off by a burst.
                batch: (capacity / 4).clamp(4, 500) as i64,
                counts: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The topic's events from now on. Subscribe before replaying from the store, so
    /// nothing falls between the replay and the live events.
    pub fn subscribe(&self, topic: Topic) -> broadcast::Receiver<Arc<StoredEvent>> {
        let capacity = match topic {
            Topic::Tenant(_) => self.inner.capacity,
            Topic::Customer(..) => (self.inner.capacity / 16).max(16),
        };
        let mut topics = self.inner.topics.lock().expect("not poisoned");
        topics
            .entry(topic)
            .or_insert_with(|| broadcast::channel(capacity).0)
            .subscribe()
    }

    /// Sends each event to its tenant's and its customer's channels, and forgets channels
    /// nobody listens to any more.
    fn broadcast(&self, events: Vec<StoredEvent>) {
        let mut topics = self.inner.topics.lock().expect("not poisoned");
        if topics.is_empty() {
            return;
        }
        for event in events {
            let tenant = event.metadata.tenant.clone();
            // A customer's topic carries its own events and the assignment events that
            // name it (a re-assignment names the new and the previous owner).
            let mut customers: Vec<Topic> = event
                .customers_named()
                .into_iter()
                .map(|id| Topic::Customer(tenant.clone(), id.to_string()))
                .collect();
            customers.dedup();
            let event = Arc::new(event);
            // No receiver is not an error: nobody follows the topic right now.
            if let Some(sender) = topics.get(&Topic::Tenant(tenant)) {
                let _ = sender.send(event.clone());
            }
            for topic in customers {
                if let Some(sender) = topics.get(&topic) {
                    let _ = sender.send(event.clone());
                }
            }
        }
        topics.retain(|_, sender| sender.receiver_count() > 0);
    }

    /// The last position broadcast.
    pub fn head(&self) -> LogPosition {
        *self.inner.head.borrow()
    }

    /// Waits for the head to move past `position` (or the feed to close).
    pub fn head_changes(&self) -> watch::Receiver<LogPosition> {
        self.inner.head.subscribe()
    }

    /// True once the service is shutting down.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.inner.closing.subscribe()
    }

    /// Ends every subscription of this instance (they finish cleanly).
    pub fn close(&self) {
        self.inner.closing.send_replace(true);
    }

    /// Up to `limit` events after `after` from the store, in global order: what a
    /// subscription resuming from a cursor replays before it goes live.
    pub async fn replay(
        &self,
        after: LogPosition,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut tx = self.inner.store.db().begin_read().await?;
        let events = read_log(&mut tx, after, limit).await?;
        tx.rollback().await?;
        Ok(events)
    }

    /// The position of the last committed, readable event. A resume cursor beyond it was
    /// never given out; a subscription from it would skip every event up to it.
    pub async fn log_end(&self) -> Result<LogPosition, StoreError> {
        log_end(self.inner.store.db()).await
    }

    /// Places the feed at the current end of the log: subscribers get what is committed
    /// from now on (or replay from a cursor).
    pub async fn seek_to_end(&self) -> Result<(), StoreError> {
        let end = log_end(self.inner.store.db()).await?;
        self.inner.head.send_replace(end);
        Ok(())
    }

    /// Follows the log from the head (see `seek_to_end`) until `shutdown`. Failures are
    /// logged and retried; a lost PostgreSQL listener is reconnected, and the poll finds
    /// whatever was committed meanwhile.
    pub fn spawn(
        &self,
        mut shutdown: watch::Receiver<bool>,
        poll: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let committed = self.inner.store.committed();
        let feed = self.clone();
        tokio::spawn(async move {
            let mut listener: Option<sqlx::postgres::PgListener> = None;
            let mut failures = 0u32;
            loop {
                if listener.is_none() {
                    listener = feed.listen().await;
                }
                match feed.pump().await {
                    Ok(()) => failures = 0,
                    Err(error) => {
                        failures = failures.saturating_add(1);
                        tracing::error!(%error, failures, "the live feed could not read the log; will retry");
                    }
                }
                let wait = poll * failures.clamp(1, 10);
                tokio::select! {
                    _ = committed.notified() => {}
                    notified = async {
                        match listener.as_mut() {
                            Some(listener) => listener.recv().await.map(|_| ()),
                            None => std::future::pending().await,
                        }
                    } => {
                        match notified {
                            Ok(()) => feed.inner.store.note_change(),
                            Err(error) => {
                                tracing::warn!(%error, "lost the PostgreSQL notification connection; reconnecting");
                                listener = None;
                            }
                        }
                    }
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => {}
                }
                if *shutdown.borrow() {
                    feed.close();
                    return;
                }
            }
        })
    }

    /// A listener on the commit channel (PostgreSQL only); none when it cannot connect,
    /// in which case the poll stands in until the next attempt.
    async fn listen(&self) -> Option<sqlx::postgres::PgListener> {
        let Db::Postgres(pool) = self.inner.store.db() else {
            return None;
        };
        let connected = async {
            let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
            listener.listen(CHANNEL).await?;
            Ok::<_, sqlx::Error>(listener)
        };
        match connected.await {
            Ok(listener) => Some(listener),
            Err(error) => {
                tracing::warn!(%error, "cannot listen for commits; polling the log instead");
                None
            }
        }
    }

    /// Broadcasts everything committed after the head. On PostgreSQL an event may be
    /// committed but not yet readable (an older transaction is still running); the feed
    /// then retries shortly instead of waiting for the next wake-up.
    async fn pump(&self) -> Result<(), StoreError> {
        let db = self.inner.store.db();
        if self.idle() {
            // Nobody follows anything: keep the head at the end of the log (one cheap
            // query) rather than read and decode events nobody wants, but the events that
            // end sessions, which this instance must learn whoever subscribes. The end is
            // read before looking again, under the lock, whether still nobody follows: a
            // subscription that arrived meanwhile gets every event after it.
            let end = log_end(db).await?;
            self.learn_session_ends(end).await?;
            let topics = self.inner.topics.lock().expect("not poisoned");
            if topics.is_empty() {
                if end > self.head() {
                    self.inner.head.send_replace(end);
                }
                return Ok(());
            }
        }
        let mut pause = Duration::from_millis(1);
        for _ in 0..200 {
            let head = self.head();
            let events = self.replay(head, self.inner.batch).await?;
            if let Some(last) = events.last().map(|e| e.log_position) {
                let full = events.len() as i64 == self.inner.batch;
                let store = &self.inner.store;
                store.sessions().record_stored(store, &events);
                self.broadcast(events);
                self.inner.head.send_replace(last);
                pause = Duration::from_millis(1);
                if full {
                    continue;
                }
            }
            if committed_after(db, self.head(), 1).await? == 0 {
                return Ok(());
            }
            // Committed but not yet readable (an older transaction is running): look again
            // soon, then less often. (Looking every few milliseconds instead did not lower
            // the fan-out latency `clientele-bench load` measures; it only read more.)
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Records the sessions ended by events after the head up to `end`.
    async fn learn_session_ends(&self, end: LogPosition) -> Result<(), StoreError> {
        let store = &self.inner.store;
        let mut after = self.head();
        while after < end {
            let events =
                read_log_of_types(store.db(), after, end, SESSION_ENDING_TYPES, 500).await?;
            store.sessions().record_stored(store, &events);
            match events.last() {
                Some(last) if events.len() == 500 => after = last.log_position,
                _ => break,
            }
        }
        Ok(())
    }

    /// True when no subscription follows any topic.
    fn idle(&self) -> bool {
        self.inner.topics.lock().expect("not poisoned").is_empty()
    }
}
