//! The replay-then-live join on SQLite: a store in a temporary file, a running feed, and
//! tenant events written through the command runner.

use std::sync::Arc;
use std::time::Duration;

use clientele_domain::tenant::{Tenant, TenantCommand};
use tokio::sync::watch;

use super::{EventFilter, EventStream, StreamError};
use crate::events::{EventMetadata, LogPosition, StoredEvent};
use crate::feed::{Feed, Topic};
use crate::{ConnectOptions, Store, StoreError};

const TENANT: &str = "t1";

/// A store on a fresh SQLite file, a feed of `capacity` following it, and the sender
/// that stops the feed.
async fn feed(capacity: usize) -> (Store, Feed, watch::Sender<bool>) {
    let dir = std::env::temp_dir().join(format!(
        "clientele-store-test-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let options = ConnectOptions {
        url: format!("sqlite://{}", dir.join("store.db").display()),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(10),
    };
    let store = Store::open(&options).await.expect("the store opens");
    let feed = Feed::new(store.clone(), capacity);
    feed.seek_to_end().await.expect("the feed finds the end");
    let (stop, stopped) = watch::channel(false);
    feed.spawn(stopped, Duration::from_millis(10));
    (store, feed, stop)
}

/// Writes `count` tenant events (each a new grace period) and returns their positions.
async fn write(store: &Store, count: usize) -> Vec<LogPosition> {
    let mut positions = Vec::new();
    for _ in 0..count {
        let metadata = EventMetadata {
            tenant: TENANT.into(),
            actor: "test".into(),
            role: None,
            on_behalf_of: None,
            request_id: String::new(),
            occurred_at: chrono::Utc::now(),
        };
        let days = (store.deletion_grace_days(TENANT).await.unwrap() % 300) + 1;
        let command = TenantCommand::SetDeletionGracePeriod { days };
        let committed = store
            .execute::<Tenant>(TENANT, command, &metadata)
            .await
            .expect("the command commits");
        let after = committed.version as i64 - 1;
        let stored = crate::events::aggregate_events(store.db(), "Tenant", TENANT, after, 1)
            .await
            .unwrap();
        positions.push(stored[0].log_position);
    }
    positions
}

/// Waits until the feed has broadcast everything up to `position`.
async fn broadcast_through(feed: &Feed, position: LogPosition) {
    for _ in 0..500 {
        if feed.head() >= position {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the feed never reached {position:?}");
}

/// Lets the stream run until it waits for the live feed: it must deliver nothing by then.
async fn waits_for_live<F: EventFilter>(stream: &mut EventStream<F>) {
    let next = tokio::time::timeout(Duration::from_millis(300), stream.next()).await;
    assert!(next.is_err(), "nothing more to deliver yet: {next:?}");
}

fn every_event(_: Arc<StoredEvent>) -> std::future::Ready<Result<bool, StoreError>> {
    std::future::ready(Ok(true))
}

/// The next `count` events' positions; each must come within 10 s, without an error.
async fn take<F: EventFilter>(stream: &mut EventStream<F>, count: usize) -> Vec<LogPosition> {
    let mut got = Vec::new();
    for _ in 0..count {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("an event within 10 s");
        got.push(
            next.expect("the stream goes on")
                .expect("no error")
                .log_position,
        );
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_goes_live_with_no_gap_and_no_duplicate_at_the_seam() {
    let (store, feed, _stop) = feed(64).await;
    let before = write(&store, 3).await;
    broadcast_through(&feed, before[2]).await;
    let topic = Topic::Tenant(TENANT.into());
    let mut stream = EventStream::new(
        feed.clone(),
        topic,
        Some(LogPosition::default()),
        every_event,
    );
    // Committed after the subscription and before the replay reads: both in the replay and
    // in the ring, where the stream must drop them.
    let during = write(&store, 2).await;
    broadcast_through(&feed, during[1]).await;
    let mut got = take(&mut stream, 5).await;
    // The stream reaches the seam and drops the ring's copies of the last two.
    waits_for_live(&mut stream).await;
    let after = write(&store, 2).await;
    got.extend(take(&mut stream, 2).await);
    let expected: Vec<LogPosition> = [before, during, after].concat();
    assert_eq!(got, expected, "every event once, in order");
    assert_eq!(stream.last_position(), expected[6]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_overtaken_while_replaying_reads_the_store_again() {
    // The ring holds 16 events; 40 are committed while the stream is still replaying.
    let (store, feed, _stop) = feed(16).await;
    let topic = Topic::Tenant(TENANT.into());
    let mut stream = EventStream::new(
        feed.clone(),
        topic,
        Some(LogPosition::default()),
        every_event,
    );
    let first = write(&store, 5).await;
    let mut got = take(&mut stream, 1).await;
    let overtaking = write(&store, 40).await;
    broadcast_through(&feed, overtaking[39]).await;
    got.extend(take(&mut stream, 44).await);
    // At the seam the ring has overflowed: the stream subscribes again and replays.
    waits_for_live(&mut stream).await;
    let last = write(&store, 1).await;
    got.extend(take(&mut stream, 1).await);
    let expected: Vec<LogPosition> = [first, overtaking, last].concat();
    assert_eq!(got, expected, "no error, every event once, in order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lagging_live_subscriber_ends_with_its_last_position() {
    let (store, feed, _stop) = feed(16).await;
    let topic = Topic::Tenant(TENANT.into());
    let mut stream = EventStream::new(feed.clone(), topic, None, every_event);
    let seen = write(&store, 3).await;
    assert_eq!(take(&mut stream, 3).await, seen);
    let missed = write(&store, 40).await;
    broadcast_through(&feed, missed[39]).await;
    let next = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an answer within 10 s");
    match next {
        Some(Err(StreamError::Lagged {
            last_cursor,
            missed,
        })) => {
            assert_eq!(last_cursor, seen[2], "the last event it passed");
            assert!(missed > 0);
        }
        other => panic!("expected Lagged, got {other:?}"),
    }
    assert!(
        stream.next().await.is_none(),
        "the stream ends after Lagged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_filter_decides_and_its_failure_ends_the_stream() {
    let (store, feed, _stop) = feed(64).await;
    let written = write(&store, 4).await;
    let topic = Topic::Tenant(TENANT.into());
    let mut seen = 0;
    // Every other event, then a failure on the fourth.
    let filter = move |_: Arc<StoredEvent>| {
        seen += 1;
        let answer = match seen {
            4 => Err(StoreError::Corrupt("the filter failed".into())),
            n => Ok(n % 2 == 1),
        };
        std::future::ready(answer)
    };
    let mut stream = EventStream::new(feed, topic, Some(LogPosition::default()), filter);
    assert_eq!(take(&mut stream, 2).await, vec![written[0], written[2]]);
    assert!(matches!(
        stream.next().await,
        Some(Err(StreamError::Store(_)))
    ));
    assert!(stream.next().await.is_none(), "nothing after an error");
}
