//! Live counts per account status, shared: however many subscriptions follow the counts of
//! one (tenant, filter), one task counts them, once per change, and hands every subscriber
//! the latest result.
//!
//! The counts come from the inline `customers` read model, which holds every commit as
//! soon as it is acknowledged, so the task recounts on `Store::changes` (a local commit or
//! another instance's NOTIFY) without waiting for the log to become readable in order.
//! Changes that arrive while a count runs are folded into one more count. A slow poll
//! covers a missed notification. The task ends once its last subscriber is gone.

use std::sync::Arc;
use std::time::Duration;

use clientele_domain::AccountStatus;
use tokio::sync::watch;

use super::Feed;
use crate::CustomerFilter;

/// Customers per account status, every status in order.
pub type Counts = Vec<(AccountStatus, i64)>;

/// The latest counts, or why they could not be counted; `None` before the first count.
pub type LatestCounts = Option<Result<Arc<Counts>, String>>;

/// How often the counts are looked at again when no change woke them.
const POLL: Duration = Duration::from_secs(2);

/// The key a shared count is found by.
pub(super) type CountsKey = (String, String);

impl Feed {
    /// The live counts of `tenant`'s customers that `filter` passes: a receiver that holds
    /// the latest counts and is told when they change.
    pub fn counts(&self, tenant: &str, filter: &CustomerFilter) -> watch::Receiver<LatestCounts> {
        let key = (tenant.to_string(), format!("{filter:?}"));
        let mut hub = self.inner.counts.lock().expect("not poisoned");
        if let Some(receiver) = hub.get(&key) {
            // Err: the counting task ended (shutdown); start another.
            if receiver.has_changed().is_ok() {
                return receiver.clone();
            }
        }
        let (sender, receiver) = watch::channel(None);
        hub.insert(key.clone(), receiver.clone());
        tokio::spawn(count_while_followed(
            self.clone(),
            key,
            filter.clone(),
            sender,
        ));
        receiver
    }
}

/// Counts after every change until nobody follows the counts any more (the hub's own
/// receiver is then the last) or the service shuts down.
async fn count_while_followed(
    feed: Feed,
    key: CountsKey,
    filter: CustomerFilter,
    sender: watch::Sender<LatestCounts>,
) {
    let store = feed.inner.store.clone();
    let mut changes = store.changes();
    let mut closing = feed.closing();
    loop {
        changes.borrow_and_update();
        let counted = store
            .customer_counts_of(&key.0, &filter)
            .await
            .map_err(|error| error.to_string());
        sender.send_if_modified(|latest| {
            let same = match (&*latest, &counted) {
                (Some(Ok(old)), Ok(new)) => **old == *new,
                _ => false,
            };
            if !same {
                *latest = Some(counted.map(Arc::new));
            }
            !same
        });
        tokio::select! {
            changed = changes.changed() => {
                if changed.is_err() {
                    return;
                }
            }
            _ = tokio::time::sleep(POLL) => {}
            _ = closing.changed() => return,
        }
        let mut hub = feed.inner.counts.lock().expect("not poisoned");
        if sender.receiver_count() <= 1 {
            hub.remove(&key);
            return;
        }
    }
}
