//! `clientele-bench load`: the real `clientele` server, started as a separate process on a
//! fresh database, driven over HTTP and WebSocket from this process, next to the machine's
//! own limit measured in the same run (plain single-row INSERT transactions, primary-key
//! SELECTs and a SELECT of the 50 newest rows through sqlx on the same database). Writes
//! BENCHMARKS.md.
//!
//! - `http.rs`: the lean HTTP/1.1 client (hyper's connection API, bodies serialised once).
//! - `drive.rs`: running one operation on N workers; latencies and CPU time from /proc.
//! - `limits.rs`: the plain sqlx limit; `documents.rs`: the GraphQL documents sent;
//!   `phases.rs`: the GraphQL operations;
//!   `fanout.rs`: subscriptions; `fill.rs` and `server.rs`: the log and `clientele rebuild`.
//! - `webhooks.rs`: the webhook latency (commit to a local receiver).
//! - `report.rs`: the figures and BENCHMARKS.md.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::ensure;
use serde_json::json;
use sqlx::Connection;

mod counts;
mod documents;
mod drive;
mod fanout;
mod fill;
mod http;
mod limits;
mod phases;
mod procfs;
mod report;
pub mod search;
mod server;
mod webhooks;

use drive::{bench_url, drive, Meter, PgProbe, Side};
use fanout::{fanout, FanoutRun};
use limits::{Limit, Plain};
use phases::Phases;
use report::{Report, RunInfo};
use server::Server;

#[derive(clap::Args)]
pub struct LoadArgs {
    /// A PostgreSQL server (the path names the admin database) to create fresh databases on.
    #[arg(
        long,
        env = "BENCH_DATABASE_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    database_url: String,
    /// Backends to measure, in order.
    #[arg(long, value_delimiter = ',', default_value = "postgres,sqlite")]
    backends: Vec<String>,
    /// The server binary (build it first: `cargo build --release`).
    #[arg(long, default_value = "target/release/clientele")]
    server_bin: PathBuf,
    /// Requests per measured operation (reads by id run four times as many).
    #[arg(long, default_value_t = 4000)]
    requests: usize,
    /// Events on the long-history customer.
    #[arg(long, default_value_t = 10_000)]
    history: usize,
    /// Events in the log that `clientele rebuild` replays.
    #[arg(long, default_value_t = 1_000_000)]
    rebuild_events: usize,
    /// WebSocket subscribers in the fan-out test.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Events per second written during the fan-out test.
    #[arg(long, default_value_t = 500)]
    rate: u64,
    /// Seconds the fan-out test writes for.
    #[arg(long, default_value_t = 10)]
    fanout_secs: u64,
    /// Customers created one by one in the counts-lag test (its subscribers: `--subscribers`).
    #[arg(long, default_value_t = 50)]
    counts_writes: usize,
    /// Customers created one by one, 20 ms apart, in the webhook-latency test.
    #[arg(long, default_value_t = 200)]
    webhook_writes: usize,
    /// Measure only the counts lag on each backend, print it and write no report.
    #[arg(long)]
    only_counts: bool,
    /// Where the Markdown report goes.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    ensure!(
        args.server_bin.exists(),
        "{} is missing: run `cargo build --release` first",
        args.server_bin.display()
    );
    ensure!(
        args.requests >= 64,
        "--requests must be at least 64 (the list needs 50 rows)"
    );
    for backend in &args.backends {
        ensure!(
            backend == "postgres" || backend == "sqlite",
            "unknown backend {backend} (postgres or sqlite)"
        );
    }
    let mut info = RunInfo::start();
    let mut reports = Vec::new();
    for backend in &args.backends {
        eprintln!("== {backend} ==");
        reports.push(measure(&args, backend).await?);
    }
    info.finish();
    if args.only_counts {
        return Ok(());
    }
    let markdown = report::render(&args, &info, &reports)?;
    std::fs::write(&args.out, with_kept_tail(&markdown, &args.out))?;
    println!("{markdown}");
    Ok(())
}

async fn measure(args: &LoadArgs, backend: &str) -> anyhow::Result<Report> {
    let scratch = Scratch::create(&args.database_url, backend).await?;
    let result = measure_on(args, backend, &scratch.url, &scratch.dir).await;
    scratch.drop().await?;
    result
}

/// A fresh database for one run (a new PostgreSQL database on the admin server, or a
/// SQLite file) and a scratch directory, both removed by [`Scratch::drop`].
pub(crate) struct Scratch {
    pub url: String,
    pub dir: PathBuf,
    admin: Option<(String, String)>,
}

impl Scratch {
    pub async fn create(admin_url: &str, backend: &str) -> anyhow::Result<Scratch> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = std::env::temp_dir().join(format!("clientele-bench-{id}"));
        std::fs::create_dir_all(&dir)?;
        if backend != "postgres" {
            let url = format!("sqlite://{}", dir.join("clientele.db").display());
            return Ok(Scratch {
                url,
                dir,
                admin: None,
            });
        }
        let name = format!("clientele_bench_{id}");
        let mut admin = sqlx::PgConnection::connect(admin_url).await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await?;
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
        Ok(Scratch {
            url: format!("{base}/{name}"),
            dir,
            admin: Some((admin_url.to_string(), name)),
        })
    }

    pub async fn drop(self) -> anyhow::Result<()> {
        if let Some((admin_url, name)) = &self.admin {
            let mut admin = sqlx::PgConnection::connect(admin_url).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
        }
        std::fs::remove_dir_all(&self.dir).ok();
        Ok(())
    }
}

async fn measure_on(
    args: &LoadArgs,
    backend: &str,
    url: &str,
    dir: &Path,
) -> anyhow::Result<Report> {
    let n = args.requests;
    let token = server::token();
    let server = Server::start(&args.server_bin, url, &dir.join("a"), &token).await?;
    let mut report = Report {
        backend: backend.into(),
        ..Report::default()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    report.rss_idle = server.rss();
    // The first signed-in request registers the tenant's own company.
    let mut conn = http::Conn::open(&server.target).await?;
    let first = http::Template::graphql("{ customers(first: 1) { totalCount } }", json!({}));
    http::call(&mut conn, &first, &[]).await?;
    drop(conn);

    let counts_phase = || {
        let (ws_url, target) = (
            format!("ws://127.0.0.1:{}/graphql/ws", server.port),
            server.target.clone(),
        );
        let (token, subscribers, writes) = (token.clone(), args.subscribers, args.counts_writes);
        async move {
            eprintln!("counts lag: {subscribers} subscribers, {writes} creates");
            let gap = Duration::from_millis(100);
            let lag =
                counts::counts_lag(&ws_url, &token, &target, subscribers, writes, gap).await?;
            eprintln!(
                "counts lag: {} of {} updates, p50 {:.1} ms, p99 {:.1} ms",
                lag.delivered,
                lag.subscribers * lag.writes,
                lag.p50_ms,
                lag.p99_ms
            );
            Ok::<_, anyhow::Error>(lag)
        }
    };
    if args.only_counts {
        report.counts_lag = Some(counts_phase().await?);
        server.stop();
        return Ok(report);
    }

    let pg = if backend == "postgres" {
        let probe = PgProbe::connect(&bench_url(url)).await?;
        if probe.is_none() {
            report.pg_note = Some("PostgreSQL's backends are not processes of this machine: their CPU time is not measured".into());
        }
        probe.map(Arc::new)
    } else {
        None
    };
    let meter = Meter {
        servers: vec![server.pid()],
        pg: pg.clone(),
        side: Side::Servers,
    };

    // The machine's limit, side by side (the server is idle meanwhile: its CPU is not counted).
    let plain = Arc::new(Plain::connect(&bench_url(url)).await?);
    report.version = plain.version().await?;
    eprintln!("plain INSERT, primary-key SELECT, 50 newest rows");
    let limit_meter = Meter {
        servers: Vec::new(),
        pg: pg.clone(),
        side: Side::Bench,
    };
    let p = || plain.clone();
    report.plain_insert_c1 = drive(
        &limit_meter,
        1,
        n / 4,
        Limit::Insert {
            plain: p(),
            offset: 1_000_000,
        },
    )
    .await?;
    report.plain_insert = drive(
        &limit_meter,
        32,
        n,
        Limit::Insert {
            plain: p(),
            offset: 0,
        },
    )
    .await?;
    report.plain_select = drive(
        &limit_meter,
        32,
        4 * n,
        Limit::Select {
            plain: p(),
            rows: n,
        },
    )
    .await?;
    report.plain_newest = drive(&limit_meter, 32, n, Limit::Newest { plain: p() }).await?;

    let phases = Phases {
        target: server.target.clone(),
        meter: meter.clone(),
        n,
    };
    eprintln!("createCustomer, editCustomer");
    let sampler = procfs::RssSampler::start(server.pid());
    let ids = phases.writes(&mut report).await?;
    eprintln!("customer(id), customers(first: 50) newest first");
    phases.reads(&ids, &mut report).await?;
    report.rss_load_peak = sampler.stop().await;
    eprintln!("a customer with {} events", args.history);
    phases.history(args.history, &mut report).await?;

    eprintln!("fan-out to {} subscribers", args.subscribers);
    let watched: Vec<String> = ids.iter().take(args.subscribers.max(1)).cloned().collect();
    let mut run = FanoutRun {
        subscribers: args.subscribers,
        rate: args.rate,
        secs: args.fanout_secs,
        writer: &server.target,
        ws_url: format!("ws://127.0.0.1:{}/graphql/ws", server.port),
        token: &token,
        tag: "one",
    };
    let one = fanout(&run, &meter, &watched, || server.rss()).await?;
    report.rss_subscribers = one.rss_with_subscribers;
    report.fanout = Some(one);
    report.counts_lag = Some(counts_phase().await?);
    eprintln!("webhook latency: {} creates", args.webhook_writes);
    let hooks = webhooks::webhook_latency(
        &server.target,
        args.webhook_writes,
        Duration::from_millis(20),
    )
    .await?;
    eprintln!(
        "webhook latency: {} of {} delivered, p50 {:.1} ms, p99 {:.1} ms",
        hooks.delivered, hooks.writes, hooks.p50_ms, hooks.p99_ms
    );
    report.webhook_latency = Some(hooks);
    if backend == "postgres" {
        eprintln!("fan-out across two instances");
        let second = Server::start(&args.server_bin, url, &dir.join("b"), &token).await?;
        run.ws_url = format!("ws://127.0.0.1:{}/graphql/ws", second.port);
        run.tag = "two";
        let both = Meter {
            servers: vec![server.pid(), second.pid()],
            pg: pg.clone(),
            side: Side::Servers,
        };
        report.fanout_two = Some(fanout(&run, &both, &watched, || second.rss()).await?);
        second.stop();
    }
    server.stop();
    plain.close().await;

    eprintln!("rebuild over {} events", args.rebuild_events);
    report.rebuild_events = fill::fill_log(&bench_url(url), args.rebuild_events, &ids[0]).await?;
    let (customers, all) = server::rebuild(&args.server_bin, url, dir)?;
    report.rebuild_customers = customers;
    report.rebuild_all = all;
    Ok(report)
}

/// The line of BENCHMARKS.md below which the other benchmarks (import, devices) keep their
/// figures: a load run rewrites only what is above it.
const KEPT_BELOW: &str = "<!-- clientele-bench load keeps everything below this line -->";

fn with_kept_tail(markdown: &str, out: &std::path::Path) -> String {
    let old = std::fs::read_to_string(out).unwrap_or_default();
    match old.find(KEPT_BELOW) {
        Some(at) => format!("{}\n{}", markdown.trim_end(), &old[at..]),
        None => markdown.to_string(),
    }
}
