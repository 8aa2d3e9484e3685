//! Running a command: load, decide, and commit events, snapshot, unique keys and inline
//! projections in one transaction.

use clientele_domain::customer::Customer;
use clientele_domain::tenant::Tenant;
use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

use crate::db::{Arg, Tx};
use crate::events::{append, load, save_snapshot, AppendError, EventMetadata, StoredEvent};
use crate::projections::apply_inline;
use crate::{CommandError, Store, StoreError};

/// How often a command is re-decided when another writer committed to the same aggregate
/// between its load and its commit. Loading locks an existing aggregate, so this only
/// happens when two commands race to create the same aggregate.
const ATTEMPTS: usize = 8;

/// An aggregate the command runner can store.
pub trait StoredAggregate: Aggregate<Services = ()> + Clone
where
    Self::Command: Clone,
{
    /// The tenant the aggregate belongs to, once it exists.
    fn tenant(&self) -> Option<&str>;

    /// Values that must be unique within the tenant: (kind, value).
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }
}

impl StoredAggregate for Customer {
    fn tenant(&self) -> Option<&str> {
        self.profile.as_ref().map(|_| self.tenant.as_str())
    }

    /// A deleted customer releases its name and shortname.
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        if self.deleted {
            return Vec::new();
        }
        self.profile
            .iter()
            .flat_map(|p| p.unique_keys())
            .map(|(kind, value)| (kind.as_str(), value))
            .collect()
    }
}

impl StoredAggregate for Tenant {
    fn tenant(&self) -> Option<&str> {
        None
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
        A::Command: Clone,
    {
        for attempt in 1..=ATTEMPTS {
            let mut tx = self.db().begin().await?;
            let loaded = load::<A>(&mut tx, id, self.upcasters()).await?;
            if let Some(owner) = loaded.aggregate.tenant() {
                if owner != metadata.tenant {
                    return Err(CommandError::NotFound);
                }
            }
            let before = loaded.aggregate.clone();
            let mut aggregate = loaded.aggregate;
            let sink = EventSink::default();
            aggregate
                .handle(command.clone(), &(), &sink)
                .await
                .map_err(CommandError::Rejected)?;
            let events = sink.collect().await;
            if events.is_empty() {
                return Ok(Committed {
                    aggregate,
                    version: loaded.version,
                    events: Vec::new(),
                });
            }
            let stored = match append::<A>(&mut tx, id, loaded.version, &events, metadata).await {
                Ok(stored) => stored,
                Err(AppendError::Conflict) => {
                    tracing::debug!(
                        aggregate = A::TYPE,
                        id,
                        attempt,
                        "concurrent write; deciding again"
                    );
                    continue;
                }
                Err(AppendError::Database(error)) => return Err(error.into()),
                Err(AppendError::Store(error)) => return Err(error.into()),
            };
            update_unique_keys(&mut tx, &metadata.tenant, id, &before, &aggregate).await?;
            let version = loaded.version + events.len() as u64;
            save_snapshot(&mut tx, id, &aggregate, version).await?;
            apply_inline(&mut tx, &stored).await?;
            if let Tx::Pg(_) = tx {
                // Delivered at commit, to every instance listening (the live feeds). Only a
                // wake-up: readers take the events from the log itself.
                tx.execute("SELECT pg_notify('clientele_events', '')", &[])
                    .await?;
            }
            tx.commit().await?;
            self.notify_written();
            return Ok(Committed {
                aggregate,
                version,
                events: stored,
            });
        }
        Err(CommandError::Contended)
    }
}

/// Releases the unique values the aggregate gave up and claims the new ones; a value
/// another aggregate holds refuses the whole command.
async fn update_unique_keys<A, E>(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    before: &A,
    after: &A,
) -> Result<(), CommandError<E>>
where
    A: StoredAggregate,
    A::Command: Clone,
    E: std::error::Error,
{
    let old = before.unique_keys();
    let new = after.unique_keys();
    for (kind, value) in old.iter().filter(|k| !new.contains(k)) {
        tx.execute(
            "DELETE FROM unique_keys WHERE tenant_id = $1 AND kind = $2 AND value = $3 AND aggregate_id = $4",
            &[tenant.into(), (*kind).into(), value.as_str().into(), id.into()],
        )
        .await?;
    }
    for (kind, value) in new.iter().filter(|k| !old.contains(k)) {
        let claimed = tx
            .execute(
                "INSERT INTO unique_keys (tenant_id, kind, value, aggregate_id) VALUES ($1, $2, $3, $4)",
                &[Arg::from(tenant), (*kind).into(), value.as_str().into(), id.into()],
            )
            .await;
        match claimed {
            Ok(_) => {}
            Err(error) if crate::events::is_unique_violation(&error) => {
                return Err(CommandError::Duplicate { field: kind })
            }
            Err(error) => return Err(CommandError::Store(StoreError::Database(error))),
        }
    }
    Ok(())
}
