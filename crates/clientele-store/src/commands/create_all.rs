//! Many new aggregates in one transaction: an import's rows.

use super::{retryable, Attempt, StoredAggregate};
use crate::events::EventMetadata;
use crate::projections::apply_inline_batch;
use crate::{CommandError, Store, StoreError};

impl Store {
    /// Runs many commands that each create a new aggregate under its own fresh id (an
    /// import's rows) in one transaction, all or nothing: each is decided by the same code
    /// as `execute`, and the inline projections take the events of all of them at once
    /// (their batch paths). The first command refused (a rule, a unique value held by
    /// another aggregate or by an earlier command of the same call) is named by its index
    /// and nothing is written; the caller then runs them one by one to report each.
    pub async fn create_all<A>(
        &self,
        items: &[(String, A::Command)],
        metadata: &EventMetadata,
    ) -> Result<usize, (usize, CommandError<A::Error>)>
    where
        A: StoredAggregate,
        A::Command: Clone + Send + Sync,
    {
        let store_error = |e: StoreError| (0, CommandError::Store(e));
        let mut tx = self.db().begin().await.map_err(store_error)?;
        let (mut typed, mut ending, mut written) = (Vec::new(), Vec::new(), 0);
        for (i, (id, command)) in items.iter().enumerate() {
            if !A::creates(command) || A::changes_hierarchy(command) {
                tx.rollback().await.map_err(store_error)?;
                return Err((i, CommandError::Contended));
            }
            let outcome = self
                .attempt_deferred::<A>(&mut tx, id, command.clone(), metadata, true)
                .await;
            match retryable(outcome) {
                Ok(Attempt::Done(done)) => {
                    written += done.events.len();
                    typed.extend(done.typed);
                    ending.extend(done.ending);
                }
                Ok(Attempt::Retry) => {
                    tx.rollback().await.map_err(store_error)?;
                    return Err((i, CommandError::Contended));
                }
                Err(error) => {
                    tx.rollback().await.map_err(store_error)?;
                    return Err((i, error));
                }
            }
        }
        if written == 0 {
            tx.rollback().await.map_err(store_error)?;
            return Ok(0);
        }
        apply_inline_batch(&mut tx, &typed)
            .await
            .map_err(store_error)?;
        self.commit(tx, written, &ending)
            .await
            .map_err(store_error)?;
        Ok(items.len())
    }
}
