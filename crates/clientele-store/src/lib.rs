//! Clientele's event store and read models on PostgreSQL (production) or an embedded
//! SQLite file (default).
//!
//! - `events`: the log, its global order, aggregate loading and snapshots.
//! - `commands`: the command runner (one transaction per command).
//! - `projections`: read models, applied inline or followed by the checkpointed runner.
//! - `queries`: reads for the API.

mod assigned;
mod audit;
mod commands;
mod db;
mod deletion_queries;
mod error;
pub mod events;
mod facts;
pub mod feed;
mod product_queries;
pub mod projections;
mod queries;
mod tree;
mod users;
mod vault;

use std::sync::Arc;

use cqrs_es::persist::EventUpcaster;
use tokio::sync::Notify;

pub use assigned::{AssignedPage, AssignmentCounts};
pub use commands::{Committed, StoredAggregate};
pub use db::{redact, Arg, Backend, ConnectOptions, Db, Tx};
pub use deletion_queries::{DeletionRequestRecord, DueRequest};
pub use error::{CommandError, StoreError};
pub use events::{EventMetadata, LogPosition, StoredEvent};
pub use facts::{dashboard_aggregate_id, entity_aggregate_id, USER_EMAIL};
pub use product_queries::{CatalogueProduct, CustomerProductRow, StatusTransition};
pub use projections::customers::CustomerRecord;
pub use projections::Projection;
pub use queries::{
    db_of, CustomerCursor, CustomerFilter, CustomerOrderField, CustomerPage, PageError, PageRequest,
};
pub use users::UserRecord;

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
}

impl Store {
    /// Opens the store and applies pending migrations.
    pub async fn open(options: &ConnectOptions) -> Result<Self, StoreError> {
        let db = Db::connect(options).await?;
        db.migrate().await?;
        Ok(Self::from_db(db))
    }

    pub fn from_db(db: Db) -> Self {
        Store {
            inner: Arc::new(Inner {
                db,
                upcasters: upcasters(),
                written: Arc::new(Notify::new()),
                committed: Arc::new(Notify::new()),
            }),
        }
    }

    pub fn db(&self) -> &Db {
        &self.inner.db
    }

    pub fn backend(&self) -> Backend {
        self.inner.db.backend()
    }

    pub(crate) fn upcasters(&self) -> &[Box<dyn EventUpcaster>] {
        &self.inner.upcasters
    }

    /// Raised after every local commit; the projection runner waits on it.
    pub fn written(&self) -> Arc<Notify> {
        self.inner.written.clone()
    }

    /// Raised after every local commit; the live feed waits on it.
    pub fn committed(&self) -> Arc<Notify> {
        self.inner.committed.clone()
    }

    fn notify_written(&self) {
        self.inner.written.notify_one();
        self.inner.committed.notify_one();
    }
}

/// Upcasters for events whose stored shape is older than the current one, in order.
/// Every event is still at its first shape ("1.0"), so there are none yet; when a shape
/// changes, its upcaster is added here and tested against a stored example.
fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    Vec::new()
}
