//! Running one measured operation: `concurrency` workers, each with its own connection,
//! share `total` operations; latencies go into hdrhistogram, and the CPU time of the
//! server, of PostgreSQL's backends and of this process is read from /proc over exactly
//! the measured window.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use hdrhistogram::Histogram;
use sqlx::Connection;
use tokio::sync::Mutex;

use super::procfs;

pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds")
}

/// CPU time over a measured window, in seconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cpu {
    /// Wall-clock seconds of the window.
    pub wall: f64,
    /// This process (the load generator).
    pub generator: f64,
    /// The server process(es).
    pub server: f64,
    /// PostgreSQL's backends serving the benchmark's database, if they could be read.
    pub postgres: Option<f64>,
    /// Backends that ended inside the window (their CPU time is missing from `postgres`).
    pub backends_lost: usize,
}

impl Cpu {
    /// The generator's CPU as a share of the whole machine over the window.
    pub fn generator_share(&self) -> f64 {
        self.generator / (self.wall * procfs::cores() as f64).max(1e-9)
    }

    pub fn add(&mut self, other: &Cpu) {
        self.wall += other.wall;
        self.generator += other.generator;
        self.server += other.server;
        self.postgres = match (self.postgres, other.postgres) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
        self.backends_lost += other.backends_lost;
    }
}

/// Latency, throughput and CPU time of one measured operation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    pub ops: u64,
    pub secs: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub cpu: Cpu,
}

impl Stats {
    pub fn rate(&self) -> f64 {
        self.ops as f64 / self.secs.max(1e-9)
    }

    pub fn from(histogram: &Histogram<u64>, secs: f64, cpu: Cpu) -> Stats {
        Stats {
            ops: histogram.len(),
            secs,
            p50_ms: histogram.value_at_quantile(0.50) as f64 / 1000.0,
            p99_ms: histogram.value_at_quantile(0.99) as f64 / 1000.0,
            cpu,
        }
    }

    /// Milliseconds of CPU per operation.
    pub fn per_op_ms(&self, seconds: f64) -> f64 {
        1000.0 * seconds / (self.ops as f64).max(1.0)
    }
}

/// Finds the PostgreSQL backends serving one database (client backends in
/// `pg_stat_activity`, without the probe's own connection), to read their CPU time from
/// /proc. Autovacuum and the cluster's own processes (WAL writer, checkpointer) are left out.
pub struct PgProbe {
    conn: Mutex<sqlx::PgConnection>,
}

impl PgProbe {
    /// None when the backends' pids are not processes of this machine called `postgres`
    /// (a server elsewhere or in another pid namespace).
    pub async fn connect(url: &str) -> anyhow::Result<Option<PgProbe>> {
        let probe = PgProbe {
            conn: Mutex::new(sqlx::PgConnection::connect(url).await?),
        };
        let own: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *probe.conn.lock().await)
            .await?;
        let visible = procfs::command_name(own as u32).is_some_and(|c| c == "postgres");
        Ok(visible.then_some(probe))
    }

    /// The backends of one side: the benchmark's own connections (named
    /// [`BENCH_APPLICATION`]) or everyone else's (the servers under test).
    async fn backends(&self, side: Side) -> Vec<u32> {
        let pids: Vec<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND backend_type = 'client backend' AND pid <> pg_backend_pid() \
               AND (application_name = $1) = $2",
        )
        .bind(BENCH_APPLICATION)
        .bind(side == Side::Bench)
        .fetch_all(&mut *self.conn.lock().await)
        .await
        .unwrap_or_default();
        pids.into_iter().map(|p| p as u32).collect()
    }
}

/// The `application_name` of the benchmark's own PostgreSQL connections (the plain limit,
/// the log fill), so a window counts only the backends of the side it measures.
pub const BENCH_APPLICATION: &str = "clientele-bench";

/// The URL with the benchmark's `application_name`.
pub fn bench_url(url: &str) -> String {
    if !url.starts_with("postgres") {
        return url.to_string();
    }
    let join = if url.contains('?') { '&' } else { '?' };
    format!("{url}{join}application_name={BENCH_APPLICATION}")
}

/// Whose PostgreSQL backends a window counts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The servers under test.
    Servers,
    /// The benchmark's own connections (the plain limit).
    Bench,
}

/// Whose CPU time a window counts: the server processes and, on PostgreSQL, the backends
/// of one side.
#[derive(Clone)]
pub struct Meter {
    pub servers: Vec<u32>,
    pub pg: Option<Arc<PgProbe>>,
    pub side: Side,
}

/// CPU times at the start of a window.
pub struct Mark {
    began: Instant,
    generator: f64,
    server: f64,
    backends: Option<HashMap<u32, f64>>,
}

impl Meter {
    pub async fn mark(&self) -> Mark {
        let backends = match &self.pg {
            Some(pg) => Some(procfs::cpu_of(&pg.backends(self.side).await)),
            None => None,
        };
        Mark {
            began: Instant::now(),
            generator: procfs::own_cpu_seconds(),
            server: self.servers.iter().map(|&p| procfs::cpu_seconds(p)).sum(),
            backends,
        }
    }

    pub async fn since(&self, mark: &Mark) -> Cpu {
        let wall = mark.began.elapsed().as_secs_f64();
        let generator = procfs::own_cpu_seconds() - mark.generator;
        let server = self
            .servers
            .iter()
            .map(|&p| procfs::cpu_seconds(p))
            .sum::<f64>()
            - mark.server;
        let (mut postgres, mut backends_lost) = (None, 0);
        if let (Some(pg), Some(before)) = (&self.pg, &mark.backends) {
            let after = procfs::cpu_of(&pg.backends(self.side).await);
            // A backend that started inside the window counts whole.
            let used: f64 = after
                .iter()
                .map(|(pid, cpu)| cpu - before.get(pid).copied().unwrap_or(0.0))
                .sum();
            backends_lost = before.keys().filter(|p| !after.contains_key(p)).count();
            postgres = Some(used.max(0.0));
        }
        Cpu {
            wall,
            generator,
            server,
            postgres,
            backends_lost,
        }
    }
}

/// One kind of measured operation. Each concurrent worker gets its own state (its
/// connection), made before the measured window opens.
pub trait Op: Send + Sync + 'static {
    type Worker: Send + 'static;
    fn worker(&self) -> impl Future<Output = anyhow::Result<Self::Worker>> + Send;
    fn call(
        &self,
        worker: &mut Self::Worker,
        i: usize,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

/// Runs `op.call(i)` for i in 0..total on `concurrency` workers; latencies in µs.
pub async fn drive<O: Op>(
    meter: &Meter,
    concurrency: usize,
    total: usize,
    op: O,
) -> anyhow::Result<Stats> {
    let op = Arc::new(op);
    let mut states = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        states.push(op.worker().await?);
    }
    let next = Arc::new(AtomicUsize::new(0));
    let mark = meter.mark().await;
    let started = Instant::now();
    let workers: Vec<_> = states
        .into_iter()
        .map(|mut state| {
            let (op, next) = (op.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = histogram();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return Ok::<_, anyhow::Error>(latencies);
                    }
                    let began = Instant::now();
                    op.call(&mut state, i).await?;
                    latencies.saturating_record(began.elapsed().as_micros() as u64);
                }
            })
        })
        .collect();
    let mut all = histogram();
    for worker in workers {
        all.add(worker.await??)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let cpu = meter.since(&mark).await;
    Ok(Stats::from(&all, secs, cpu))
}
