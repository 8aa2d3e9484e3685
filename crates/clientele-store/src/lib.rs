//! Clientele's event store and read models on PostgreSQL (production) or an embedded
//! SQLite file (default).
//!
//! - `db`: the two backends behind one `Db`, `Tx` and `Executor`.
//! - `events`: the log, its global order, aggregate loading, snapshots, and events decoded
//!   through the upcasters (`Envelope`, `LogEvent`).
//! - `commands` and `aggregates`: the command runner (one transaction per command) and how
//!   each aggregate is stored.
//! - `projections`: read models, applied inline or followed by the checkpointed runner.
//! - `feed`: the live feed and one subscription's replay-then-live stream.
//! - `sessions`: the sessions that ended (the revocation set), in memory.
//! - One file per feature for its reads and workflows: `profile`, `products`,
//!   `account_status`, `deletion`, `users`, `tree`, `assignments`, `audit`, and
//!   `import_export` (CSV), `webhooks`.

mod account_status;
mod aggregates;
mod as_of;
mod assignments;
mod audit;
mod commands;
mod db;
mod deletion;
mod deletion_notices;
mod error;
pub mod events;
pub mod feed;
pub mod import_export;
mod products;
mod profile;
pub mod projections;
mod sessions;
pub mod sign_in;
mod tree;
mod users;
mod vault;
mod webhooks;

use std::sync::Arc;

use cqrs_es::persist::EventUpcaster;
use tokio::sync::Notify;

pub use account_status::StatusTransition;
pub use as_of::{CustomerSnapshot, OpenRequestAsOf};
pub use assignments::{
    dashboard_aggregate_id, entity_aggregate_id, AssignedPage, AssignmentCounts, BulkAssigned,
};
pub use commands::{Committed, StoredAggregate};
pub use db::{redact, Arg, Backend, ConnectOptions, Db, Executor, Tx};
pub use deletion::{
    ClosedRequest, DeletionPreview, DeletionRequestCursor, DeletionRequestFilter,
    DeletionRequestPage, DeletionRequestRecord, DueRequest,
};
pub use deletion_notices::{NoticeKind, NoticeSettings, PendingNotice};
pub use error::{CommandError, StoreError};
pub use events::{Envelope, EventMetadata, LogEvent, LogPosition, StoredEvent};
pub use products::{CatalogueProduct, CustomerProductRow};
pub use profile::{
    fold, CustomerCursor, CustomerFilter, CustomerOrderField, CustomerPage, CustomerRecord,
    PageError, PageRequest, SellerCount,
};
pub use projections::Projection;
pub use sessions::{SessionOf, Sessions};
pub use sign_in::{RefreshToken, Rotation};
pub use users::{UserRecord, USER_EMAIL};
pub use webhooks::{
    AttemptOutcome, DeliveryState, WebhookDelivery, WebhookEndpointRecord, WebhookSecrets,
};

/// The store: pools, upcasters, and a signal raised after every commit.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    upcasters: Vec<Box<dyn EventUpcaster>>,
    written: Arc<Notify>,
    committed: Arc<Notify>,
    /// Bumped after every local commit and every other instance's commit this one hears of.
    changed: tokio::sync::watch::Sender<u64>,
    projected: tokio::sync::watch::Sender<LogPosition>,
    sessions: Sessions,
}

impl Store {
    /// Opens the store and applies pending migrations.
    pub async fn open(options: &ConnectOptions) -> Result<Self, StoreError> {
        Self::open_with_upcasters(options, Vec::new()).await
    }

    /// As `open`, with `extra` upcasters run after the built-in ones (for shapes a test
    /// writes, or shapes not yet built in).
    pub async fn open_with_upcasters(
        options: &ConnectOptions,
        extra: Vec<Box<dyn EventUpcaster>>,
    ) -> Result<Self, StoreError> {
        let db = Db::connect(options).await?;
        db.migrate().await?;
        Ok(Self::from_db_with_upcasters(db, extra))
    }

    /// A store over open pools, with the built-in upcasters.
    pub fn from_db(db: Db) -> Self {
        Self::from_db_with_upcasters(db, Vec::new())
    }

    /// A store over open pools, with `extra` upcasters run after the built-in ones. Every
    /// read through the store decodes with them: loading aggregates, the projections'
    /// runner and `rebuild`, and `customer_snapshot`.
    pub fn from_db_with_upcasters(db: Db, extra: Vec<Box<dyn EventUpcaster>>) -> Self {
        let mut upcasters = builtin_upcasters();
        upcasters.extend(extra);
        Store {
            inner: Arc::new(Inner {
                db,
                upcasters,
                written: Arc::new(Notify::new()),
                committed: Arc::new(Notify::new()),
                changed: tokio::sync::watch::Sender::new(0),
                projected: tokio::sync::watch::Sender::new(LogPosition::default()),
                sessions: Sessions::default(),
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn backend(&self) -> Backend {
        self.inner.db.backend()
    }

    /// The upcasters every event read through this store goes through, in order.
    pub fn upcasters(&self) -> &[Box<dyn EventUpcaster>] {
        &self.inner.upcasters
    }

    /// Decodes a stored event through this store's upcasters.
    pub fn decode(&self, event: &StoredEvent) -> Result<Envelope, StoreError> {
        Envelope::decode(event, self.upcasters())
    }

    /// The sessions this instance knows to have ended (the revocation set).
    pub fn sessions(&self) -> &Sessions {
        &self.inner.sessions
    }

    /// Raised after every local commit; the projection runner waits on it.
    pub fn written(&self) -> Arc<Notify> {
        self.inner.written.clone()
    }

    /// Raised after every local commit; the live feed waits on it.
    pub fn committed(&self) -> Arc<Notify> {
        self.inner.committed.clone()
    }

    /// Moves after every local commit and after every commit of another instance this one
    /// hears of (PostgreSQL's NOTIFY), without waiting for the log to be readable in order:
    /// what a reader of the inline read models (the live counts) waits on.
    pub fn changes(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    pub(crate) fn note_change(&self) {
        self.inner.changed.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// The position up to which every asynchronous projection has applied the log, as
    /// this instance's runner last read its checkpoints (after each round). A reader of an
    /// asynchronous read model waits on it to answer as soon as an event is applied.
    pub fn projected(&self) -> tokio::sync::watch::Receiver<LogPosition> {
        self.inner.projected.subscribe()
    }

    pub(crate) fn set_projected(&self, position: LogPosition) {
        self.inner.projected.send_if_modified(|seen| {
            let moved = position > *seen;
            if moved {
                *seen = position;
            }
            moved
        });
    }

    fn notify_written(&self) {
        self.inner.written.notify_one();
        self.inner.committed.notify_one();
        self.note_change();
    }
}

/// Exposed for tests: the raw pools.
pub fn db_of(store: &Store) -> &Db {
    store.db()
}

/// Upcasters for events whose stored shape is older than the current one, in order.
/// Every event is still at its first shape ("1.0"), so there are none yet; when a shape
/// changes, its upcaster is added here and tested against a stored example (as
/// tests/e2e/upcasting.rs does with upcasters it registers itself).
fn builtin_upcasters() -> Vec<Box<dyn EventUpcaster>> {
    Vec::new()
}
