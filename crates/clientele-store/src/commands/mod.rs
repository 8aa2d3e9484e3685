//! Running a command: load, decide, and commit events, snapshot, unique keys and inline
//! projections in one transaction.

use std::future::Future;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

use crate::db::Tx;
use crate::events::Envelope;
use crate::events::{
    append, load, AppendError, EventMetadata, Loaded, LogEvent, StoredEvent, Write,
};
use crate::projections::apply_inline;
use crate::sessions::ended_by;
use crate::{CommandError, Store, StoreError};

mod create_all;
mod dry_run;

/// How often a command is re-decided when another writer committed to the same aggregate
/// between its load and its commit. Loading locks an existing aggregate, so this only
/// happens when two commands race to create the same aggregate.
pub(crate) const ATTEMPTS: usize = 8;

/// An aggregate the command runner can store. Each one's implementation is in
/// `aggregates.rs`.
pub trait StoredAggregate: Aggregate<Services = ()> + Clone + Send + Sync
where
    Self::Command: Clone + Send + Sync,
{
    /// The event as the projections receive it.
    fn logged(event: Self::Event) -> LogEvent;

    /// The tenant the aggregate belongs to, once it exists.
    fn tenant(&self) -> Option<&str>;

    /// Values that must be unique within the tenant: (kind, value).
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// True when the command changes the tenant's customer tree: it then takes the tenant's
    /// hierarchy lock before anything else, so tree changes (and the read-model checks
    /// they rely on) happen one at a time, and always take locks in the same order.
    fn changes_hierarchy(_command: &Self::Command) -> bool {
        false
    }

    /// True when the command creates the aggregate under an id generated for it (a new
    /// UUID), so it need not be loaded: it has no events yet.
    fn creates(_command: &Self::Command) -> bool {
        false
    }

    /// Completes the command with facts from read models (which customer is live, who
    /// the parent is), read in the command's own transaction, so they cannot go stale
    /// before it commits. The domain then decides on them.
    fn prepare<'a>(
        command: Self::Command,
        _tx: &'a mut Tx,
        _tenant: &'a str,
        _id: &'a str,
        _current: &'a Self,
    ) -> impl Future<Output = Result<Self::Command, CommandError<Self::Error>>> + Send + 'a {
        async move { Ok(command) }
    }
}

/// What a command committed.
#[derive(Debug, Clone)]
pub struct Committed<A> {
    /// The aggregate after the command.
    pub aggregate: A,
    pub version: u64,
    /// The events written; empty when the command changed nothing.
    pub events: Vec<StoredEvent>,
    /// Those of them that end sessions, typed: recorded in memory once committed.
    pub(crate) ending: Vec<Envelope>,
    /// All of them, typed (as the inline projections received them).
    pub(crate) typed: Vec<Envelope>,
}

impl Committed<clientele_domain::customer::Customer> {
    /// The `customers` row of the customer this command created, as its transaction wrote
    /// it (folded in memory from its events); `None` when the command did not create one,
    /// or when the row also took facts from other rows: then read it back.
    pub fn created_record(&self) -> Option<crate::profile::CustomerRecord> {
        crate::projections::created_row(&self.typed)
    }
}

/// One attempt at a command inside a transaction.
pub(crate) enum Attempt<A> {
    Done(Committed<A>),
    /// Another writer created the same aggregate first: decide again.
    Retry,
}

impl Store {
    /// Runs `command` on aggregate `id` for `metadata.tenant`, retrying when a concurrent
    /// writer wins the race (the aggregate decides again on the fresh state, so an
    /// `expectedVersion` check still refuses a stale edit).
    pub async fn execute<A>(
        &self,
        id: &str,
        command: A::Command,
        metadata: &EventMetadata,
    ) -> Result<Committed<A>, CommandError<A::Error>>
    where
        A: StoredAggregate,
        A::Command: Clone + Send + Sync,
    {
        self.run::<A>(id, command, metadata, false).await
    }

    /// `execute`; with `dry_run`, the decided transaction is rolled back instead of
    /// committed (`dry_run.rs`).
    async fn run<A>(
        &self,
        id: &str,
        command: A::Command,
        metadata: &EventMetadata,
        dry_run: bool,
    ) -> Result<Committed<A>, CommandError<A::Error>>
    where
        A: StoredAggregate,
        A::Command: Clone + Send + Sync,
    {
        for attempt in 1..=ATTEMPTS {
            let mut tx = self.db().begin().await?;
            if A::changes_hierarchy(&command) {
                lock_hierarchy(&mut tx, &metadata.tenant).await?;
            }
            let outcome = self
                .attempt_on::<A>(&mut tx, id, command.clone(), metadata, attempt == 1)
                .await;
            match retryable(outcome) {
                Ok(Attempt::Done(committed)) if committed.events.is_empty() => {
                    return Ok(committed)
                }
                Ok(Attempt::Done(committed)) if dry_run => {
                    tx.rollback().await?;
                    return Ok(committed);
                }
                Ok(Attempt::Done(committed)) => {
                    self.commit(tx, committed.events.len(), &committed.ending)
                        .await?;
                    return Ok(committed);
                }
                Ok(Attempt::Retry) => {
                    tracing::debug!(
                        aggregate = A::TYPE,
                        id,
                        attempt,
                        "concurrent write; deciding again"
                    );
                }
                Err(error) => return Err(error),
            }
        }
        Err(CommandError::Contended)
    }

    /// Runs several commands on one aggregate in one transaction, in order, all or nothing
    /// (a customer created with its first admin user). A refusal names the index of the
    /// command that was refused. Retries as `execute` does.
    pub async fn execute_all<A>(
        &self,
        id: &str,
        commands: Vec<A::Command>,
        metadata: &EventMetadata,
    ) -> Result<Committed<A>, (usize, CommandError<A::Error>)>
    where
        A: StoredAggregate,
        A::Command: Clone + Send + Sync,
    {
        let store_error = |e: StoreError| (0, CommandError::Store(e));
        'attempts: for attempt in 1..=ATTEMPTS {
            let mut tx = self.db().begin().await.map_err(store_error)?;
            if commands.iter().any(A::changes_hierarchy) {
                lock_hierarchy(&mut tx, &metadata.tenant)
                    .await
                    .map_err(store_error)?;
            }
            let mut all: Option<Committed<A>> = None;
            for (i, command) in commands.iter().enumerate() {
                let first = attempt == 1 && i == 0;
                let outcome = self
                    .attempt_on::<A>(&mut tx, id, command.clone(), metadata, first)
                    .await;
                match retryable(outcome).map_err(|e| (i, e))? {
                    Attempt::Done(done) => {
                        all = Some(match all {
                            None => done,
                            Some(mut so_far) => {
                                so_far.aggregate = done.aggregate;
                                so_far.version = done.version;
                                so_far.events.extend(done.events);
                                so_far.ending.extend(done.ending);
                                so_far.typed.extend(done.typed);
                                so_far
                            }
                        });
                    }
                    Attempt::Retry => continue 'attempts,
                }
            }
            let Some(all) = all else {
                tx.rollback().await.map_err(store_error)?;
                return Err((0, CommandError::Contended));
            };
            if all.events.is_empty() {
                tx.rollback().await.map_err(store_error)?;
            } else {
                self.commit(tx, all.events.len(), &all.ending)
                    .await
                    .map_err(store_error)?;
            }
            return Ok(all);
        }
        Err((0, CommandError::Contended))
    }

    /// Commits a command's transaction (which appended `appended` events), records the
    /// sessions its `ending` events end at once (this instance's checks see them before
    /// the command answers), and wakes the projection runner and the feeds.
    pub(crate) async fn commit(
        &self,
        tx: Tx,
        appended: usize,
        ending: &[Envelope],
    ) -> Result<(), StoreError> {
        // On PostgreSQL the log's trigger (migration 0011) notifies every instance's feed at
        // commit: a wake-up only, readers take the events from the log itself.
        tx.commit().await?;
        for event in ending {
            self.sessions().record(event);
        }
        metrics::counter!("clientele_events_appended_total").increment(appended as u64);
        self.notify_written();
        Ok(())
    }

    /// Loads, prepares, decides and writes one command in `tx` (which the caller commits).
    pub(crate) async fn attempt<A>(
        &self,
        tx: &mut Tx,
        id: &str,
        command: A::Command,
        metadata: &EventMetadata,
    ) -> Result<Attempt<A>, CommandError<A::Error>>
    where
        A: StoredAggregate,
        A::Command: Clone + Send + Sync,
    {
        self.attempt_on::<A>(tx, id, command, metadata, false).await
    }

    /// [`Store::attempt`]; with `first`, a command that creates its aggregate under a fresh
    /// id (`StoredAggregate::creates`) is decided on the empty aggregate without loading it.
    /// Should the id exist after all, the write conflicts and the next attempt loads.
    pub(crate) async fn attempt_on<A>(
        &self,
        tx: &mut Tx,
        id: &str,
        command: A::Command,
        metadata: &EventMetadata,
        first: bool,
    ) -> Result<Attempt<A>, CommandError<A::Error>>
    where
        A: StoredAggregate,
        A::Command: Clone + Send + Sync,
    {
        let outcome = self
            .attempt_deferred::<A>(tx, id, command, metadata, first)
            .await?;
        if let Attempt::Done(done) = &outcome {
            apply_inline(tx, &done.typed).await?;
        }
        Ok(outcome)
    }

    /// `attempt_on` without the inline projections: the caller applies `typed` to them.
    pub(crate) async fn attempt_deferred<A>(
        &self,
        tx: &mut Tx,
        id: &str,
        command: A::Command,
        metadata: &EventMetadata,
        first: bool,
    ) -> Result<Attempt<A>, CommandError<A::Error>>
    where
        A: StoredAggregate,
        A::Command: Clone + Send + Sync,
    {
        let fresh = first && A::creates(&command);
        let loaded = if fresh {
            Loaded {
                aggregate: A::default(),
                version: 0,
            }
        } else {
            load::<A>(tx, id, self.upcasters()).await?
        };
        if let Some(owner) = loaded.aggregate.tenant() {
            if owner != metadata.tenant {
                return Err(CommandError::NotFound);
            }
        }
        let before = loaded.aggregate.clone();
        let command = A::prepare(command, tx, &metadata.tenant, id, &before).await?;
        let mut aggregate = loaded.aggregate;
        let sink = EventSink::default();
        aggregate
            .handle(command, &(), &sink)
            .await
            .map_err(CommandError::Rejected)?;
        let events = sink.collect().await;
        if events.is_empty() {
            return Ok(Attempt::Done(Committed {
                aggregate,
                version: loaded.version,
                events: Vec::new(),
                ending: Vec::new(),
                typed: Vec::new(),
            }));
        }
        let version = loaded.version + events.len() as u64;
        let events = events.into_iter().map(A::logged).collect();
        let (old, new) = (before.unique_keys(), aggregate.unique_keys());
        let write = Write {
            aggregate_type: A::TYPE,
            aggregate_id: id,
            from_version: loaded.version,
            fresh,
            events,
            metadata,
            released: old.iter().filter(|k| !new.contains(k)).cloned().collect(),
            claimed: new.iter().filter(|k| !old.contains(k)).cloned().collect(),
            snapshot: serde_json::to_string(&aggregate).expect("aggregates serialise"),
        };
        let (stored, typed) = match append(tx, write).await {
            Ok(appended) => appended,
            Err(AppendError::Conflict) => return Ok(Attempt::Retry),
            // The runner's own retry cannot help: another aggregate holds the value.
            Err(AppendError::Duplicate(field)) => return Err(CommandError::Duplicate { field }),
            Err(AppendError::Store(error)) => return Err(error.into()),
        };
        let ending = typed
            .iter()
            .filter(|e| !ended_by(e).is_empty())
            .cloned()
            .collect();
        Ok(Attempt::Done(Committed {
            aggregate,
            version,
            events: stored,
            ending,
            typed,
        }))
    }
}

/// A deadlock or serialization failure (PostgreSQL) is another writer winning a race:
/// the transaction is rolled back and the command decided again.
pub(crate) fn retryable<A, E: std::error::Error>(
    outcome: Result<Attempt<A>, CommandError<E>>,
) -> Result<Attempt<A>, CommandError<E>> {
    match outcome {
        Err(CommandError::Store(StoreError::Database(sqlx::Error::Database(db))))
            if matches!(db.code().as_deref(), Some("40P01" | "40001")) =>
        {
            Ok(Attempt::Retry)
        }
        other => other,
    }
}

/// Takes the tenant's hierarchy lock for the rest of the transaction (PostgreSQL; on
/// SQLite the one write connection already serialises every writer).
pub(crate) async fn lock_hierarchy(tx: &mut Tx, tenant: &str) -> Result<(), StoreError> {
    if let Tx::Pg(_) = tx {
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('clientele.hierarchy.' || $1))",
            &[tenant.into()],
        )
        .await?;
    }
    Ok(())
}
