//! The checkpointed runner: follows the global log for one projection, or replays it into
//! several (`rebuild`). Each batch read is decoded once, through the store's upcasters, and
//! handed typed to every projection that applies it; an event that does not decode stops
//! the runner there, loudly, with its checkpoint before it.
//!
//! The `Store` methods decode with the store's upcasters; the free functions, over a bare
//! `Db`, with the built-in ones (`Store::from_db`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use super::Projection;
use crate::db::{Arg, Backend, Db, Tx};
use crate::events::{committed_after, decode_all, read_log, read_log_exclusive, LogPosition};
use crate::{Store, StoreError};

/// Events read and applied per transaction.
const BATCH: i64 = 1000;
/// How long the background runner lets commits gather after it is woken.
const DEBOUNCE: Duration = Duration::from_millis(25);

#[derive(sqlx::FromRow)]
struct CheckpointRow {
    tx_id: i64,
    position: i64,
}

async fn read_checkpoint(tx: &mut Tx, projection: Projection) -> Result<LogPosition, StoreError> {
    let row: Option<CheckpointRow> = tx
        .fetch_optional(
            "SELECT tx_id, position FROM projection_checkpoints WHERE name = $1",
            &[projection.name().into()],
        )
        .await?;
    Ok(row.map_or_else(LogPosition::default, |r| LogPosition {
        tx: r.tx_id,
        position: r.position,
    }))
}

async fn write_checkpoint(
    tx: &mut Tx,
    projection: Projection,
    last: LogPosition,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO projection_checkpoints (name, tx_id, position) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position",
        &[
            projection.name().into(),
            Arg::Int(last.tx),
            Arg::Int(last.position),
        ],
    )
    .await?;
    Ok(())
}

/// Starts a batch's transaction on PostgreSQL: plans made for the read models' current
/// size, and each projection's advisory lock, so instances sharing the database never run
/// one projection at once. Advisory locks take no transaction id, so the transaction does
/// not hold back the snapshot horizon that `read_log` reads up to.
async fn begin_batch(db: &Db, projections: &[Projection]) -> Result<Tx, StoreError> {
    let mut tx = db.begin().await?;
    if let Tx::Pg(_) = tx {
        // The read models fill up during a rebuild, from empty: a plan cached while a table
        // was empty (a sequential scan) would make every later lookup slower.
        tx.execute("SET LOCAL plan_cache_mode = force_custom_plan", &[])
            .await?;
        for projection in projections {
            tx.execute(
                "SELECT pg_advisory_xact_lock(hashtext('clientele.projection.' || $1))",
                &[projection.name().into()],
            )
            .await?;
        }
    }
    Ok(tx)
}

/// Where the projection has read to.
pub async fn checkpoint(db: &Db, projection: Projection) -> Result<LogPosition, StoreError> {
    let mut tx = db.begin().await?;
    let position = read_checkpoint(&mut tx, projection).await?;
    tx.commit().await?;
    Ok(position)
}

/// How many committed events lie beyond the projection's checkpoint, readable or not yet
/// (what `catch_up` waits for, inline projections included). Counts at most `cap`.
pub async fn lag(db: &Db, projection: Projection, cap: i64) -> Result<i64, StoreError> {
    let after = checkpoint(db, projection).await?;
    committed_after(db, after, cap).await
}

/// Empties the projection's table and forgets its checkpoint, in one transaction.
pub async fn reset(db: &Db, projection: Projection) -> Result<(), StoreError> {
    let mut tx = db.begin().await?;
    for table in projection.tables() {
        tx.execute(&format!("DELETE FROM {table}"), &[]).await?;
    }
    tx.execute(
        "DELETE FROM projection_checkpoints WHERE name = $1",
        &[projection.name().into()],
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Events a rebuild replays before it first analyzes the tables it fills; then again each
/// time the replay has doubled.
const FIRST_ANALYZE: u64 = 20_000;

/// Refreshes PostgreSQL's statistics of the projections' tables. A rebuild fills emptied
/// tables whose statistics say they are empty (or were never gathered), and the planner
/// then plans the replay's own lookups for an empty table: 500 ids by primary key became a
/// bitmap scan of the tenant's whole table through another index, 390 ms a batch at
/// 765,000 customers, so the rebuild slowed as it went. Autovacuum would analyze them too,
/// but only after its naptime and threshold. SQLite plans these lookups by primary key
/// without statistics.
async fn analyze(db: &Db, projections: &[Projection]) -> Result<(), StoreError> {
    if db.backend() != Backend::Postgres {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    for projection in projections {
        for table in projection.tables() {
            tx.execute(&format!("ANALYZE {table}"), &[]).await?;
        }
    }
    tx.commit().await
}

/// `Store::catch_up_batch` with the built-in upcasters.
pub async fn catch_up_batch(
    db: &Db,
    projection: Projection,
    batch: i64,
) -> Result<usize, StoreError> {
    Store::from_db(db.clone())
        .catch_up_batch(projection, batch)
        .await
}

/// `Store::catch_up` with the built-in upcasters.
pub async fn catch_up(db: &Db, projection: Projection) -> Result<u64, StoreError> {
    Store::from_db(db.clone()).catch_up(projection).await
}

/// `Store::rebuild` with the built-in upcasters.
pub async fn rebuild(db: &Db, projection: Projection) -> Result<u64, StoreError> {
    Store::from_db(db.clone()).rebuild(projection).await
}

impl Store {
    /// Applies the next batch of events after the checkpoint and moves the checkpoint, in
    /// one transaction: a crash leaves both as they were, so nothing is skipped or applied
    /// twice. Returns how many events were applied.
    pub async fn catch_up_batch(
        &self,
        projection: Projection,
        batch: i64,
    ) -> Result<usize, StoreError> {
        let mut tx = begin_batch(self.db(), &[projection]).await?;
        if let (Tx::Pg(_), false) = (&tx, projection.is_inline()) {
            // An asynchronous read model and its checkpoint are derived and commit together:
            // a crash that loses this commit loses both, and the runner applies the same
            // events again on start. Nothing a caller was told depends on it, so it need
            // not wait for its WAL flush (the commands' own commits still do).
            tx.execute("SET LOCAL synchronous_commit = off", &[])
                .await?;
        }
        let after = read_checkpoint(&mut tx, projection).await?;
        let events = read_log(&mut tx, after, batch).await?;
        let Some(last) = events.last().map(|e| e.log_position) else {
            // Ended explicitly rather than dropped: on SQLite a dropped transaction is
            // rolled back later, on the one write connection the next writer takes.
            tx.rollback().await?;
            return Ok(0);
        };
        let typed = decode_all(&events, self.upcasters())?;
        projection.apply_batch(&mut tx, &typed).await?;
        write_checkpoint(&mut tx, projection, last).await?;
        tx.commit().await?;
        Ok(events.len())
    }

    /// Applies every event after the checkpoint, including events committed but not yet
    /// readable because an older transaction is still running somewhere in the PostgreSQL
    /// cluster (it waits for those). Returns how many were applied.
    pub async fn catch_up(&self, projection: Projection) -> Result<u64, StoreError> {
        self.catch_up_until(projection, None).await
    }

    /// Waits, at most `within`, until this instance's runner has applied every event
    /// committed before the call to the asynchronous projections: a first read of them then
    /// includes the caller's own writes.
    pub async fn wait_projected(&self, within: Duration) -> Result<(), StoreError> {
        let end = crate::events::log_end(self.db()).await?;
        let mut projected = self.projected();
        let _ = tokio::time::timeout(within, projected.wait_for(|p| *p >= end)).await;
        Ok(())
    }

    /// As `catch_up`, but returns early once `stop` says so: between batches, never inside
    /// one. (Dropping a batch's transaction mid-statement could hand SQLite's one write
    /// connection back to the pool with the transaction still open.)
    async fn catch_up_until(
        &self,
        projection: Projection,
        mut stop: Option<&mut watch::Receiver<bool>>,
    ) -> Result<u64, StoreError> {
        let mut total = 0;
        let mut waited = std::time::Instant::now();
        let mut pause = Duration::from_millis(2);
        loop {
            if stop.as_ref().is_some_and(|stop| *stop.borrow()) {
                return Ok(total);
            }
            let applied = self.catch_up_batch(projection, BATCH).await?;
            total += applied as u64;
            if applied as i64 == BATCH {
                continue; // a full batch: there is probably more
            }
            if lag(self.db(), projection, 1).await? == 0 {
                return Ok(total);
            }
            if applied > 0 {
                // Progress: under a steady write load there is always something just
                // committed and not yet readable, which is no reason to warn.
                pause = Duration::from_millis(2);
                waited = std::time::Instant::now();
                continue;
            }
            if waited.elapsed() > Duration::from_secs(5) {
                tracing::warn!(
                    projection = projection.name(),
                    "events are committed but held back by an older transaction still running in the cluster"
                );
                waited = std::time::Instant::now();
            }
            // Held back: look again soon, then less and less often (at most every 100 ms).
            match stop.as_deref_mut() {
                Some(stop) => {
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stop.changed() => {}
                    }
                }
                None => tokio::time::sleep(pause).await,
            }
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }

    /// Empties the projections, then replays the whole log into all of them in one pass:
    /// each batch is read and decoded once and applied to every projection, and their
    /// checkpoints move together in the batch's transaction. It reads with
    /// `read_log_exclusive`: each batch briefly locks writers out, and old transactions
    /// elsewhere in the cluster do not slow it. Meant for a stopped service, like
    /// `rebuild`. Returns how many events were replayed.
    pub async fn rebuild_together(&self, projections: &[Projection]) -> Result<u64, StoreError> {
        for projection in projections {
            reset(self.db(), *projection).await?;
        }
        let Some(first) = projections.first().copied() else {
            return Ok(0);
        };
        let (mut total, mut next_analyze) = (0u64, FIRST_ANALYZE);
        loop {
            let mut tx = begin_batch(self.db(), projections).await?;
            let after = read_checkpoint(&mut tx, first).await?;
            let events = read_log_exclusive(&mut tx, after, BATCH).await?;
            let Some(last) = events.last().map(|e| e.log_position) else {
                return Ok(total);
            };
            let typed = decode_all(&events, self.upcasters())?;
            for projection in projections {
                projection.apply_batch(&mut tx, &typed).await?;
                write_checkpoint(&mut tx, *projection, last).await?;
            }
            tx.commit().await?;
            total += events.len() as u64;
            if total >= next_analyze {
                analyze(self.db(), projections).await?;
                next_analyze = total * 2;
            }
        }
    }

    /// Empties the projection, then replays the whole log into it. Meant for a stopped
    /// service: while it runs, readers see a partial read model. If it is interrupted,
    /// `catch_up` (or a serving instance, for asynchronous projections) resumes from the
    /// checkpoint; running `rebuild` again starts over.
    pub async fn rebuild(&self, projection: Projection) -> Result<u64, StoreError> {
        reset(self.db(), projection).await?;
        self.catch_up(projection).await
    }

    /// Runs the asynchronous projections in the background: woken by this store's commits,
    /// and polling so commits of other instances are seen too. Failures are logged and
    /// retried.
    pub fn spawn_runner(
        &self,
        shutdown: watch::Receiver<bool>,
        poll: Duration,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(run(self.clone(), self.written(), shutdown, poll))
    }
}

async fn run(
    store: Store,
    written: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    poll: Duration,
) {
    let mut failures = 0u32;
    loop {
        let (mut projected, mut all_applied) = (None::<LogPosition>, true);
        for projection in Projection::ALL.into_iter().filter(|p| !p.is_inline()) {
            // `catch_up` may wait for an old transaction elsewhere in the cluster; shutdown
            // must not wait with it. It stops between batches (each is one transaction, with
            // its checkpoint), so the next start resumes from the same place.
            let result = store.catch_up_until(projection, Some(&mut shutdown)).await;
            if *shutdown.borrow() {
                return;
            }
            // The checkpoint, also when another instance's runner moved it.
            let result = match result {
                Ok(_) => checkpoint(store.db(), projection).await,
                Err(error) => Err(error),
            };
            match result {
                Ok(position) => {
                    failures = 0;
                    projected = Some(projected.map_or(position, |p| p.min(position)));
                }
                Err(error) => {
                    all_applied = false;
                    failures = failures.saturating_add(1);
                    tracing::error!(projection = projection.name(), %error, failures, "projection failed; will retry");
                }
            }
        }
        if let (true, Some(position)) = (all_applied, projected) {
            store.set_projected(position);
        }
        let backoff = poll * failures.clamp(1, 10);
        tokio::select! {
            _ = written.notified() => {
                // The read model is asynchronous anyway: let a burst of commits gather
                // into one batch rather than follow each with a round of queries.
                tokio::time::sleep(DEBOUNCE).await;
            }
            _ = tokio::time::sleep(backoff) => {}
            _ = shutdown.changed() => return,
        }
        if *shutdown.borrow() {
            return;
        }
    }
}
