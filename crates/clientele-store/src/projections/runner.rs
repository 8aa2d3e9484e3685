//! The checkpointed runner: follows the global log for one projection.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{watch, Notify};

use super::Projection;
use crate::db::{Arg, Db, Tx};
use crate::events::{read_log, read_log_exclusive, LogPosition};
use crate::StoreError;

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

/// Where the projection has read to.
pub async fn checkpoint(db: &Db, projection: Projection) -> Result<LogPosition, StoreError> {
    let mut tx = db.begin().await?;
    let position = read_checkpoint(&mut tx, projection).await?;
    tx.commit().await?;
    Ok(position)
}

/// Applies the next batch of events after the checkpoint and moves the checkpoint, in one
/// transaction: a crash leaves both as they were, so nothing is skipped or applied twice.
/// On PostgreSQL an advisory lock keeps instances sharing the database from running the
/// same projection at once. Returns how many events were applied.
pub async fn catch_up_batch(
    db: &Db,
    projection: Projection,
    batch: i64,
) -> Result<usize, StoreError> {
    let mut tx = db.begin().await?;
    if let Tx::Pg(_) = tx {
        // Plans made for these tables' current size, not cached ones (see rebuild_together).
        tx.execute("SET LOCAL plan_cache_mode = force_custom_plan", &[])
            .await?;
        // Advisory locks take no transaction id, so this transaction does not hold back
        // the snapshot horizon that `read_log` reads up to.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtext('clientele.projection.' || $1))",
            &[projection.name().into()],
        )
        .await?;
    }
    let after = read_checkpoint(&mut tx, projection).await?;
    let events = read_log(&mut tx, after, batch).await?;
    let Some(last) = events.last().map(|e| e.log_position) else {
        return Ok(0);
    };
    projection.apply_batch(&mut tx, &events).await?;
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
    tx.commit().await?;
    Ok(events.len())
}

/// Applies every event after the checkpoint, including events committed but not yet
/// readable because an older transaction is still running somewhere in the PostgreSQL
/// cluster (it waits for those). Returns how many were applied.
pub async fn catch_up(db: &Db, projection: Projection) -> Result<u64, StoreError> {
    let mut total = 0;
    let mut waited = std::time::Instant::now();
    let mut pause = Duration::from_millis(2);
    loop {
        let applied = catch_up_batch(db, projection, BATCH).await?;
        total += applied as u64;
        if applied as i64 == BATCH {
            continue; // a full batch: there is probably more
        }
        if !committed_beyond(db, projection).await? {
            return Ok(total);
        }
        if applied > 0 {
            // Progress: under a steady write load there is always something just committed
            // and not yet readable, which is no reason to warn.
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
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// How many committed events lie beyond the projection's checkpoint, readable or not yet
/// (what `catch_up` waits for, inline projections included). Counts at most `cap`,
/// written into the SQL like the log reads' limits (the runner asks with 1, /metrics with
/// millions: one cached generic plan would not suit both).
pub async fn lag(db: &Db, projection: Projection, cap: i64) -> Result<i64, StoreError> {
    let after = checkpoint(db, projection).await?;
    let beyond = match db {
        Db::Postgres(_) => {
            db.fetch_scalar(
                &format!("SELECT count(*) FROM (SELECT 1 FROM events WHERE (tx_id, position) > ($1::text::xid8, $2) LIMIT {cap}) e"),
                &[Arg::Text(after.tx.to_string()), Arg::Int(after.position)],
            )
            .await?
        }
        Db::Sqlite { .. } => {
            db.fetch_scalar(
                &format!("SELECT count(*) FROM (SELECT 1 FROM events WHERE position > $1 LIMIT {cap}) e"),
                &[Arg::Int(after.position)],
            )
            .await?
        }
    };
    Ok(beyond.unwrap_or(0))
}

/// True when committed events lie beyond the checkpoint (visible or not yet readable).
async fn committed_beyond(db: &Db, projection: Projection) -> Result<bool, StoreError> {
    Ok(lag(db, projection, 1).await? > 0)
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

/// Empties the projections, then replays the whole log into all of them in one pass: each
/// batch is read once and applied to every projection, and their checkpoints move together
/// in the batch's transaction. It reads with `read_log_exclusive`: each batch briefly
/// locks writers out, and old transactions elsewhere in the cluster do not slow it. Meant
/// for a stopped service, like `rebuild`. Returns how many events were replayed.
pub async fn rebuild_together(db: &Db, projections: &[Projection]) -> Result<u64, StoreError> {
    for projection in projections {
        reset(db, *projection).await?;
    }
    let Some(first) = projections.first().copied() else {
        return Ok(0);
    };
    let mut total = 0u64;
    loop {
        let mut tx = db.begin().await?;
        if let Tx::Pg(_) = tx {
            // The read models fill up during the rebuild, from empty: a plan cached while a
            // table was empty (a sequential scan) would make every later lookup slower.
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
        let after = read_checkpoint(&mut tx, first).await?;
        let events = read_log_exclusive(&mut tx, after, BATCH).await?;
        let Some(last) = events.last().map(|e| e.log_position) else {
            return Ok(total);
        };
        for projection in projections {
            projection.apply_batch(&mut tx, &events).await?;
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
        }
        tx.commit().await?;
        total += events.len() as u64;
    }
}

/// Empties the projection, then replays the whole log into it. Meant for a stopped
/// service: while it runs, readers see a partial read model. If it is interrupted,
/// `catch_up` (or a serving instance, for asynchronous projections) resumes from the
/// checkpoint; running `rebuild` again starts over.
pub async fn rebuild(db: &Db, projection: Projection) -> Result<u64, StoreError> {
    reset(db, projection).await?;
    catch_up(db, projection).await
}

/// Runs the asynchronous projections in the background: woken by local commits, and
/// polling so commits of other instances are seen too. Failures are logged and retried.
pub fn spawn_runner(
    db: Db,
    written: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
    poll: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            for projection in Projection::ALL.into_iter().filter(|p| !p.is_inline()) {
                // `catch_up` may wait for an old transaction elsewhere in the cluster; shutdown
                // must not wait with it. Dropping it mid-batch rolls the batch back, checkpoint
                // included, so the next start resumes from the same place.
                let result = tokio::select! {
                    result = catch_up(&db, projection) => result,
                    _ = shutdown.changed() => return,
                };
                match result {
                    Ok(_) => failures = 0,
                    Err(error) => {
                        failures = failures.saturating_add(1);
                        tracing::error!(projection = projection.name(), %error, failures, "projection failed; will retry");
                    }
                }
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
    })
}
