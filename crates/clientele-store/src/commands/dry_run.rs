//! A dry run: a command decided and written exactly as `Store::execute` would, in a
//! transaction that is rolled back.

use super::{Committed, StoredAggregate};
use crate::events::EventMetadata;
use crate::{CommandError, Store};

impl Store {
    /// A dry run of `command`: everything `execute` does (the load, the read-model facts,
    /// the decision, the unique values, the inline projections), in a transaction that is
    /// rolled back. Answers the events it would write, or the refusal it would meet;
    /// nothing is kept, nothing is announced.
    pub async fn dry_run<A>(
        &self,
        id: &str,
        command: A::Command,
        metadata: &EventMetadata,
    ) -> Result<Committed<A>, CommandError<A::Error>>
    where
        A: StoredAggregate,
        A::Command: Clone + Send + Sync,
    {
        self.run::<A>(id, command, metadata, true).await
    }
}
