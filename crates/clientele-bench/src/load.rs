//! `clientele-bench load`: the real `clientele` server, started as a separate process on a
//! fresh database, driven over HTTP and WebSocket from this process, next to the machine's
//! own limit measured in the same run (plain single-row INSERT transactions and primary-key
//! SELECTs through sqlx on the same database). Writes BENCHMARKS.md.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context};
use clientele_graphql::{Authenticator, Grant, Role};
use futures::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{json, Value};
use sqlx::Connection;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const SECRET: &str = "benchmark-secret-that-is-long-enough-for-hs256";

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
    /// Requests per measured operation (reads run four times as many).
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
    /// Where the Markdown report goes.
    #[arg(long, default_value = "BENCHMARKS.md")]
    out: PathBuf,
}

/// Latency and throughput of one measured operation.
#[derive(Clone, Copy, Default)]
struct Stats {
    ops: u64,
    secs: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.secs.max(1e-9)
    }

    fn from(histogram: &Histogram<u64>, secs: f64) -> Stats {
        Stats {
            ops: histogram.len(),
            secs,
            p50_ms: histogram.value_at_quantile(0.50) as f64 / 1000.0,
            p99_ms: histogram.value_at_quantile(0.99) as f64 / 1000.0,
        }
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds")
}

/// Runs `op(i)` for i in 0..total on `concurrency` workers; latencies in µs.
async fn drive<F, Fut>(concurrency: usize, total: usize, op: F) -> anyhow::Result<Stats>
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (op, next) = (op.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = histogram();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return Ok::<_, anyhow::Error>(latencies);
                    }
                    let began = Instant::now();
                    op(i).await?;
                    latencies.saturating_record(began.elapsed().as_micros() as u64);
                }
            })
        })
        .collect();
    let mut all = histogram();
    for worker in workers {
        all.add(worker.await??)?;
    }
    Ok(Stats::from(&all, started.elapsed().as_secs_f64()))
}

/// A fresh database: PostgreSQL (created on the admin server) or a SQLite file.
fn fresh_url(backend: &str, admin: &str, id: &str, dir: &Path) -> String {
    match backend {
        "postgres" => {
            let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
            format!("{base}/clientele_bench_{id}")
        }
        _ => format!("sqlite://{}", dir.join("clientele.db").display()),
    }
}

/// The `clientele` server as a child process.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    async fn start(bin: &Path, url: &str, data_dir: &Path) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(bin)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", &data_dir.display().to_string()])
            .arg("serve")
            .env("DATABASE_URL", url)
            .env("CLIENTELE_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| {
                format!(
                    "starting {} (build it with cargo build --release)",
                    bin.display()
                )
            })?;
        let server = Server { child, port };
        let client = reqwest::Client::new();
        for _ in 0..300 {
            if let Ok(response) = client.get(format!("{}/readyz", server.base())).send().await {
                if response.status().is_success() {
                    return Ok(server);
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("the server did not become ready")
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Resident memory now, and its peak so far, in MiB.
    fn rss(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
                .map_or(0.0, |kb| kb / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn stop(mut self) {
        // SIGTERM for a graceful stop; the process exits within its grace period.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// GraphQL over HTTP as the benchmark tenant's admin.
#[derive(Clone)]
struct Api {
    client: reqwest::Client,
    url: String,
    token: String,
}

impl Api {
    fn new(server: &Server, token: &str) -> Api {
        Api {
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .expect("a client"),
            url: format!("{}/graphql", server.base()),
            token: token.to_string(),
        }
    }

    async fn call(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body: Value = self
            .client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .json()
            .await?;
        if let Some(errors) = body.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(body["data"].clone())
    }
}

const CREATE: &str =
    "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }";
const EDIT: &str = "mutation($id: ID!, $input: EditCustomerInput!) { editCustomer(id: $id, input: $input) { id version } }";
const BY_ID: &str =
    "query($id: ID!) { customer(id: $id) { id name organization shortname accountStatus version } }";
const PAGE: &str =
    "{ customers(first: 50) { edges { node { id name organization shortname accountStatus version } } } }";

fn token() -> String {
    let auth = Authenticator::new(
        Some(SECRET.as_bytes().to_vec()),
        None,
        "clientele",
        "clientele",
    );
    auth.mint(
        Grant::new("bench", "default", Role::TenantAdmin),
        chrono::Utc::now(),
        chrono::Duration::hours(12),
    )
    .expect("a token")
    .0
}

/// The machine's limit on this database: plain sqlx, one row per transaction.
enum Plain {
    Postgres(sqlx::PgPool),
    Sqlite {
        write: sqlx::SqlitePool,
        read: sqlx::SqlitePool,
    },
}

impl Plain {
    async fn connect(url: &str) -> anyhow::Result<Plain> {
        if url.starts_with("postgres") {
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(32)
                .connect(url)
                .await?;
            sqlx::query("CREATE TABLE IF NOT EXISTS bench_plain (id text PRIMARY KEY, name text NOT NULL, payload text NOT NULL)")
                .execute(&pool)
                .await?;
            return Ok(Plain::Postgres(pool));
        }
        use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
        use std::str::FromStr;
        // The same settings and pools as the server: WAL, synchronous FULL, one writer.
        let options = SqliteConnectOptions::from_str(url)?
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10));
        let write = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let read = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        sqlx::query("CREATE TABLE IF NOT EXISTS bench_plain (id text PRIMARY KEY, name text NOT NULL, payload text NOT NULL)")
            .execute(&write)
            .await?;
        Ok(Plain::Sqlite { write, read })
    }

    async fn insert(&self, i: usize) -> anyhow::Result<()> {
        let (id, name) = (format!("plain-{i}"), format!("customer {i}"));
        let payload = r#"{"organization":"org","language":"en"}"#;
        let sql = "INSERT INTO bench_plain (id, name, payload) VALUES ($1, $2, $3)";
        match self {
            Plain::Postgres(pool) => {
                sqlx::query(sql)
                    .bind(id)
                    .bind(name)
                    .bind(payload)
                    .execute(pool)
                    .await?;
            }
            Plain::Sqlite { write, .. } => {
                sqlx::query(sql)
                    .bind(id)
                    .bind(name)
                    .bind(payload)
                    .execute(write)
                    .await?;
            }
        }
        Ok(())
    }

    async fn select(&self, i: usize) -> anyhow::Result<()> {
        let sql = "SELECT id, name, payload FROM bench_plain WHERE id = $1";
        let id = format!("plain-{i}");
        let row: Option<(String, String, String)> = match self {
            Plain::Postgres(pool) => sqlx::query_as(sql).bind(id).fetch_optional(pool).await?,
            Plain::Sqlite { read, .. } => sqlx::query_as(sql).bind(id).fetch_optional(read).await?,
        };
        ensure!(row.is_some(), "plain row {i} is missing");
        Ok(())
    }

    async fn close(self) {
        match self {
            Plain::Postgres(pool) => pool.close().await,
            Plain::Sqlite { write, read } => {
                write.close().await;
                read.close().await;
            }
        }
    }
}

/// One backend's figures.
#[derive(Default)]
struct Report {
    backend: String,
    version: String,
    plain_insert_c1: Stats,
    plain_insert: Stats,
    plain_select: Stats,
    create_c1: Stats,
    create: Stats,
    edit_c1: Stats,
    edit: Stats,
    by_id: Stats,
    page: Stats,
    long_edit: Stats,
    fresh_edit: Stats,
    rebuild_events: u64,
    rebuild_customers_rate: f64,
    rebuild_all_rate: f64,
    fanout: Option<Fanout>,
    fanout_two: Option<Fanout>,
    rss_idle: f64,
    rss_load_peak: f64,
    rss_subscribers: f64,
}

#[derive(Clone, Copy)]
struct Fanout {
    subscribers: usize,
    written: u64,
    delivered: u64,
    p50_ms: f64,
    p99_ms: f64,
    rss_before: f64,
    rss_with_subscribers: f64,
}

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    ensure!(
        args.server_bin.exists(),
        "{} is missing: run `cargo build --release` first",
        args.server_bin.display()
    );
    let mut reports = Vec::new();
    for backend in &args.backends {
        eprintln!("== {backend} ==");
        reports.push(measure(&args, backend).await?);
    }
    let markdown = render(&args, &reports)?;
    std::fs::write(&args.out, &markdown)?;
    println!("{markdown}");
    Ok(())
}

async fn measure(args: &LoadArgs, backend: &str) -> anyhow::Result<Report> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let dir = std::env::temp_dir().join(format!("clientele-bench-{id}"));
    std::fs::create_dir_all(&dir)?;
    if backend == "postgres" {
        let mut admin = sqlx::PgConnection::connect(&args.database_url).await?;
        sqlx::query(&format!("CREATE DATABASE clientele_bench_{id}"))
            .execute(&mut admin)
            .await?;
    }
    let url = fresh_url(backend, &args.database_url, &id, &dir);
    let result = measure_on(args, backend, &url, &dir).await;
    if backend == "postgres" {
        let mut admin = sqlx::PgConnection::connect(&args.database_url).await?;
        sqlx::query(&format!(
            "DROP DATABASE IF EXISTS clientele_bench_{id} WITH (FORCE)"
        ))
        .execute(&mut admin)
        .await?;
    }
    std::fs::remove_dir_all(&dir).ok();
    result
}

async fn measure_on(
    args: &LoadArgs,
    backend: &str,
    url: &str,
    dir: &Path,
) -> anyhow::Result<Report> {
    let n = args.requests;
    let server = Server::start(&args.server_bin, url, &dir.join("a")).await?;
    let mut report = Report {
        backend: backend.into(),
        ..Report::default()
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    report.rss_idle = server.rss().0;
    let api = Api::new(&server, &token());
    // The first signed-in request registers the tenant's own company.
    api.call("{ customers(first: 1) { totalCount } }", json!({}))
        .await?;

    // The machine's limit, side by side.
    let plain = Plain::connect(url).await?;
    report.version = match &plain {
        Plain::Postgres(pool) => {
            sqlx::query_scalar::<_, String>("SELECT version()")
                .fetch_one(pool)
                .await?
        }
        Plain::Sqlite { read, .. } => format!(
            "SQLite {}",
            sqlx::query_scalar::<_, String>("SELECT sqlite_version()")
                .fetch_one(read)
                .await?
        ),
    };
    let plain = Arc::new(plain);
    eprintln!("plain INSERT / SELECT");
    let p = plain.clone();
    report.plain_insert_c1 = drive(1, n / 4, move |i| {
        let p = p.clone();
        async move { p.insert(1_000_000 + i).await }
    })
    .await?;
    let p = plain.clone();
    report.plain_insert = drive(32, n, move |i| {
        let p = p.clone();
        async move { p.insert(i).await }
    })
    .await?;
    let p = plain.clone();
    report.plain_select = drive(32, 4 * n, move |i| {
        let p = p.clone();
        async move { p.select(i % n).await }
    })
    .await?;

    eprintln!("createCustomer, editCustomer");
    let ids = Arc::new(std::sync::Mutex::new(vec![String::new(); n + n / 4]));
    let (a, ids_c1) = (api.clone(), ids.clone());
    report.create_c1 = drive(1, n / 4, move |i| {
        let (a, ids) = (a.clone(), ids_c1.clone());
        async move {
            let data = a
                .call(
                    CREATE,
                    json!({ "input": { "name": format!("single {i}"), "organization": "Acme" } }),
                )
                .await?;
            ids.lock().unwrap()[n + i] = data["createCustomer"]["id"]
                .as_str()
                .unwrap_or_default()
                .into();
            Ok(())
        }
    })
    .await?;
    let (a, ids_c32) = (api.clone(), ids.clone());
    let sampler = RssSampler::start(server.child.id());
    report.create = drive(32, n, move |i| {
        let (a, ids) = (a.clone(), ids_c32.clone());
        async move {
            let data = a
                .call(
                    CREATE,
                    json!({ "input": { "name": format!("customer {i}"), "organization": "Acme" } }),
                )
                .await?;
            ids.lock().unwrap()[i] = data["createCustomer"]["id"]
                .as_str()
                .unwrap_or_default()
                .into();
            Ok(())
        }
    })
    .await?;
    let ids: Arc<Vec<String>> = Arc::new(ids.lock().unwrap().clone());
    let (a, i1) = (api.clone(), ids.clone());
    report.edit_c1 = drive(1, n / 4, move |i| {
        let (a, ids) = (a.clone(), i1.clone());
        async move {
            a.call(
                EDIT,
                json!({ "id": ids[i], "input": { "organization": format!("single {i}") } }),
            )
            .await
            .map(drop)
        }
    })
    .await?;
    let (a, i32_) = (api.clone(), ids.clone());
    report.edit = drive(32, n, move |i| {
        let (a, ids) = (a.clone(), i32_.clone());
        async move {
            a.call(
                EDIT,
                json!({ "id": ids[i], "input": { "organization": format!("org {i}") } }),
            )
            .await
            .map(drop)
        }
    })
    .await?;

    eprintln!("customer(id), customers(first: 50)");
    let (a, ib) = (api.clone(), ids.clone());
    report.by_id = drive(32, 4 * n, move |i| {
        let (a, ids) = (a.clone(), ib.clone());
        async move { a.call(BY_ID, json!({ "id": ids[i % n] })).await.map(drop) }
    })
    .await?;
    let a = api.clone();
    report.page = drive(32, n, move |_| {
        let a = a.clone();
        async move { a.call(PAGE, json!({})).await.map(drop) }
    })
    .await?;
    report.rss_load_peak = sampler.stop().await;

    eprintln!("a customer with {} events", args.history);
    let long = api
        .call(CREATE, json!({ "input": { "name": "long history" } }))
        .await?["createCustomer"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let (a, l) = (api.clone(), long.clone());
    drive(1, args.history - 1, move |i| {
        let (a, l) = (a.clone(), l.clone());
        async move {
            a.call(
                EDIT,
                json!({ "id": l, "input": { "organization": format!("v{i}") } }),
            )
            .await
            .map(drop)
        }
    })
    .await?;
    let fresh = api
        .call(CREATE, json!({ "input": { "name": "fresh" } }))
        .await?["createCustomer"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // Alternate the two so both see the same machine noise.
    let (mut long_h, mut fresh_h) = (histogram(), histogram());
    let (mut long_secs, mut fresh_secs) = (0.0, 0.0);
    for i in 0..500 {
        for (target, hist, secs) in [
            (&long, &mut long_h, &mut long_secs),
            (&fresh, &mut fresh_h, &mut fresh_secs),
        ] {
            let began = Instant::now();
            api.call(
                EDIT,
                json!({ "id": target, "input": { "organization": format!("after {i}") } }),
            )
            .await?;
            let elapsed = began.elapsed();
            *secs += elapsed.as_secs_f64();
            hist.saturating_record(elapsed.as_micros() as u64);
        }
    }
    report.long_edit = Stats::from(&long_h, long_secs);
    report.fresh_edit = Stats::from(&fresh_h, fresh_secs);

    eprintln!("fan-out to {} subscribers", args.subscribers);
    let watched: Vec<String> = ids.iter().take(args.subscribers.max(1)).cloned().collect();
    let ws_url = format!("ws://127.0.0.1:{}/graphql/ws", server.port);
    let (one, rss_subs) = fanout(args, &api, &ws_url, &watched, || server.rss().0).await?;
    report.fanout = Some(one);
    report.rss_subscribers = rss_subs;
    if backend == "postgres" {
        eprintln!("fan-out across two instances");
        let second = Server::start(&args.server_bin, url, &dir.join("b")).await?;
        let ws_url = format!("ws://127.0.0.1:{}/graphql/ws", second.port);
        let (two, _) = fanout(args, &api, &ws_url, &watched, || second.rss().0).await?;
        report.fanout_two = Some(two);
        second.stop();
    }
    server.stop();
    if let Ok(plain) = Arc::try_unwrap(plain) {
        plain.close().await;
    }

    eprintln!("rebuild over {} events", args.rebuild_events);
    report.rebuild_events = fill_log(url, args.rebuild_events, &ids[0]).await?;
    let (customers_rate, all_rate) = rebuild(&args.server_bin, url, dir)?;
    report.rebuild_customers_rate = customers_rate;
    report.rebuild_all_rate = all_rate;
    Ok(report)
}

/// Samples a process's resident memory until stopped; returns the largest sample (MiB).
struct RssSampler {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<f64>,
}

impl RssSampler {
    fn start(pid: u32) -> RssSampler {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            loop {
                let status =
                    std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
                if let Some(kb) = status
                    .lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|kb| kb.parse::<f64>().ok())
                {
                    peak = peak.max(kb / 1024.0);
                }
                tokio::select! {
                    _ = &mut stopped => return peak,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        });
        RssSampler { stop, task }
    }

    async fn stop(self) -> f64 {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

/// `subscribers` WebSocket subscriptions, each following one customer's edits, while edits
/// are written at `rate` per second round robin over those customers. Latency is the time
/// from the event's `occurredAt` (stamped in the command, before its commit) to its arrival.
async fn fanout(
    args: &LoadArgs,
    api: &Api,
    ws_url: &str,
    watched: &[String],
    rss: impl Fn() -> f64,
) -> anyhow::Result<(Fanout, f64)> {
    let rss_before = rss();
    let token = api.token.clone();
    let (done_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut tasks = Vec::new();
    let ready = Arc::new(AtomicUsize::new(0));
    for i in 0..args.subscribers {
        let customer = watched[i % watched.len()].clone();
        let (url, token, ready) = (ws_url.to_string(), token.clone(), ready.clone());
        let mut done = done_tx.subscribe();
        tasks.push(tokio::spawn(async move {
            let mut request = url.into_client_request()?;
            request
                .headers_mut()
                .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
            let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
            socket
                .send(Message::Text(json!({"type": "connection_init", "payload": {"token": token}}).to_string().into()))
                .await?;
            let _ack = socket.next().await;
            let query = "subscription($id: ID!) { customerEvents(filter: { customerId: $id, types: [\"CustomerEdited\"] }) { occurredAt } }";
            socket
                .send(Message::Text(
                    json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": customer}}})
                        .to_string()
                        .into(),
                ))
                .await?;
            ready.fetch_add(1, Ordering::Relaxed);
            let mut latencies = histogram();
            loop {
                tokio::select! {
                    _ = done.recv() => break,
                    frame = socket.next() => {
                        let Some(Ok(Message::Text(text))) = frame else { break };
                        let arrived = chrono::Utc::now();
                        let message: Value = serde_json::from_str(&text)?;
                        if let Some(at) = message["payload"]["data"]["customerEvents"]["occurredAt"].as_str() {
                            let at = chrono::DateTime::parse_from_rfc3339(at)?;
                            let micros = (arrived - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0);
                            latencies.saturating_record(micros.max(1) as u64);
                        }
                    }
                }
            }
            let _ = socket.close(None).await;
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    while ready.load(Ordering::Relaxed) < args.subscribers {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // No acknowledgement of a subscribe exists: give the server a moment to register them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_with = rss();
    let total = (args.rate * args.fanout_secs) as usize;
    let interval = Duration::from_secs_f64(1.0 / args.rate as f64);
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut writes = Vec::with_capacity(total);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    for i in 0..total {
        tick.tick().await;
        let permit = limit.clone().acquire_owned().await?;
        let (api, id) = (api.clone(), watched[i % watched.len()].clone());
        writes.push(tokio::spawn(async move {
            let result = api
                .call(EDIT, json!({ "id": id, "input": { "organization": format!("fan {i} {}", uuid::Uuid::new_v4()) } }))
                .await;
            drop(permit);
            result
        }));
    }
    let mut written = 0;
    for write in writes {
        write.await??;
        written += 1;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = done_tx.send(());
    let mut all = histogram();
    for task in tasks {
        all.add(task.await??)?;
    }
    if all.len() < written {
        eprintln!("warning: {} of {written} events were delivered", all.len());
    }
    Ok((
        Fanout {
            subscribers: args.subscribers,
            written,
            delivered: all.len(),
            p50_ms: all.value_at_quantile(0.50) as f64 / 1000.0,
            p99_ms: all.value_at_quantile(0.99) as f64 / 1000.0,
            rss_before,
            rss_with_subscribers: rss_with,
        },
        rss_with,
    ))
}

/// Appends `events` synthetic customer events (a creation and nine edits per customer,
/// copied from real ones the server wrote) straight into the log. Returns the log's size.
async fn fill_log(url: &str, events: usize, template: &str) -> anyhow::Result<u64> {
    let customers = events / 10;
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await?;
        let (created, meta): (String, String) = sqlx::query_as(
            "SELECT payload::text, metadata::text FROM events WHERE aggregate_id = $1 AND sequence = 1",
        )
        .bind(template)
        .fetch_one(&mut conn)
        .await?;
        let edited: String = sqlx::query_scalar(
            "SELECT payload::text FROM events WHERE event_type = 'CustomerEdited' LIMIT 1",
        )
        .fetch_one(&mut conn)
        .await?;
        sqlx::query(
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tenant_id, occurred_at) \
             SELECT 'Customer', 'synthetic-' || c, s, \
                    CASE WHEN s = 1 THEN 'CustomerCreated' ELSE 'CustomerEdited' END, '1.0', \
                    CASE WHEN s = 1 THEN replace($1, '\"customer 0\"', '\"synthetic ' || c || '\"')::json ELSE $2::json END, \
                    $3::json, 'default', 0 \
             FROM generate_series(1, $4) c, generate_series(1, 10) s ORDER BY c, s",
        )
        .bind(&created)
        .bind(&edited)
        .bind(&meta)
        .bind(customers as i64)
        .execute(&mut conn)
        .await?;
        let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
            .fetch_one(&mut conn)
            .await?;
        return Ok(total as u64);
    }
    let mut conn = sqlx::SqliteConnection::connect(url).await?;
    let (created, meta): (String, String) = sqlx::query_as(
        "SELECT payload, metadata FROM events WHERE aggregate_id = $1 AND sequence = 1",
    )
    .bind(template)
    .fetch_one(&mut conn)
    .await?;
    let edited: String = sqlx::query_scalar(
        "SELECT payload FROM events WHERE event_type = 'CustomerEdited' LIMIT 1",
    )
    .fetch_one(&mut conn)
    .await?;
    sqlx::query(
        "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tenant_id, occurred_at, position) \
         WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < $4), \
                        s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < 10) \
         SELECT 'Customer', 'synthetic-' || n, k, \
                CASE WHEN k = 1 THEN 'CustomerCreated' ELSE 'CustomerEdited' END, '1.0', \
                CASE WHEN k = 1 THEN replace($1, '\"customer 0\"', '\"synthetic ' || n || '\"') ELSE $2 END, \
                $3, 'default', 0, (SELECT coalesce(max(position), 0) FROM events) + (n - 1) * 10 + k \
         FROM c, s ORDER BY n, k",
    )
    .bind(&created)
    .bind(&edited)
    .bind(&meta)
    .bind(customers as i64)
    .execute(&mut conn)
    .await?;
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&mut conn)
        .await?;
    Ok(total as u64)
}

/// Runs `clientele rebuild customers`, then `clientele rebuild` (every projection), and
/// returns their rates in events per second as the command prints them.
fn rebuild(bin: &Path, url: &str, dir: &Path) -> anyhow::Result<(f64, f64)> {
    let run = |projections: &[&str]| -> anyhow::Result<f64> {
        let started = Instant::now();
        let output = Command::new(bin)
            .args(["--data-dir", &dir.join("a").display().to_string()])
            .arg("rebuild")
            .args(projections)
            .env("DATABASE_URL", url)
            .env("CLIENTELE_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .output()?;
        ensure!(
            output.status.success(),
            "rebuild failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        eprint!("{}", String::from_utf8_lossy(&output.stdout));
        let events: u64 = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|l| l.split(": ").nth(1)?.split(' ').next()?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        Ok(events as f64 / started.elapsed().as_secs_f64())
    };
    Ok((run(&["customers"])?, run(&[])?))
}

fn ratio(part: f64, whole: f64) -> String {
    format!("{:.0}%", 100.0 * part / whole.max(1e-9))
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn render(args: &LoadArgs, reports: &[Report]) -> anyhow::Result<String> {
    let mut out = String::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(": ").nth(1))
        .unwrap_or("unknown CPU")
        .to_string();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let commit = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    writeln!(out, "# Benchmarks\n")?;
    writeln!(
        out,
        "Written by `cargo run --release -p clientele-bench -- load` on {} (commit `{commit}`).\n\
         Machine: {cpu}, {cores} cores, {memory:.0} GiB. {rustc}. The server is the release `clientele` binary,\n\
         a separate process on a fresh database; the load comes from the benchmark process over real HTTP and\n\
         WebSocket connections (reqwest, tokio-tungstenite) on the same machine, so both share its cores.\n\
         Latencies are measured by the client with hdrhistogram. The machine's limit is measured in the\n\
         same run, on the same database: plain single-row INSERT transactions and primary-key SELECTs\n\
         through sqlx (a 32-connection pool on PostgreSQL; on SQLite one writer and 16 readers, like the\n\
         server), so every figure is also a ratio to it. These machines are noisy: the ratios hold, the\n\
         absolute numbers less so.\n",
        chrono::Utc::now().format("%Y-%m-%d")
    )?;
    writeln!(out, "Settings: {} requests per write operation, {} per read operation, a {}-event history, {} events rebuilt, {} subscribers at {} events/s for {} s.\n",
        args.requests, 4 * args.requests, args.history, args.rebuild_events, args.subscribers, args.rate, args.fanout_secs)?;
    for r in reports {
        let name = if r.backend == "postgres" {
            "PostgreSQL"
        } else {
            "SQLite"
        };
        writeln!(out, "## {name}\n\n{}\n", r.version)?;
        writeln!(
            out,
            "| operation | concurrency | ops | ops/s | p50 ms | p99 ms | ratio to the limit |"
        )?;
        writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |")?;
        let mut row =
            |label: &str, c: usize, s: &Stats, limit: Option<&Stats>| -> anyhow::Result<()> {
                writeln!(
                    out,
                    "| {label} | {c} | {} | {:.0} | {:.2} | {:.2} | {} |",
                    s.ops,
                    s.rate(),
                    s.p50_ms,
                    s.p99_ms,
                    limit.map_or("—".to_string(), |l| ratio(s.rate(), l.rate()))
                )?;
                Ok(())
            };
        row(
            "limit: plain INSERT transaction",
            1,
            &r.plain_insert_c1,
            None,
        )?;
        row("limit: plain INSERT transaction", 32, &r.plain_insert, None)?;
        row("limit: primary-key SELECT", 32, &r.plain_select, None)?;
        row("createCustomer", 1, &r.create_c1, Some(&r.plain_insert_c1))?;
        row("createCustomer", 32, &r.create, Some(&r.plain_insert))?;
        row("editCustomer", 1, &r.edit_c1, Some(&r.plain_insert_c1))?;
        row("editCustomer", 32, &r.edit, Some(&r.plain_insert))?;
        row("customer(id)", 32, &r.by_id, Some(&r.plain_select))?;
        row("customers(first: 50)", 32, &r.page, Some(&r.plain_select))?;
        row(
            &format!("editCustomer, {}-event customer", args.history),
            1,
            &r.long_edit,
            None,
        )?;
        row(
            "editCustomer, fresh customer (alternating)",
            1,
            &r.fresh_edit,
            None,
        )?;
        writeln!(out)?;
        writeln!(out, "| measure | value | target | |")?;
        writeln!(out, "| --- | --- | --- | --- |")?;
        let create = r.create.rate() / r.plain_insert.rate().max(1e-9);
        let by_id = r.by_id.rate() / r.plain_select.rate().max(1e-9);
        let page = r.page.rate() / r.plain_select.rate().max(1e-9);
        let long = r.long_edit.p50_ms / r.fresh_edit.p50_ms.max(1e-9);
        let long99 = r.long_edit.p99_ms / r.fresh_edit.p99_ms.max(1e-9);
        writeln!(
            out,
            "| createCustomer at 32 / plain INSERT at 32 | {:.0}% | ≥ 30% | {} |",
            100.0 * create,
            verdict(create >= 0.30)
        )?;
        writeln!(
            out,
            "| customer(id) at 32 / primary-key SELECT at 32 | {:.0}% | ≥ 45% | {} |",
            100.0 * by_id,
            verdict(by_id >= 0.45)
        )?;
        writeln!(
            out,
            "| customers(first: 50) at 32 / primary-key SELECT at 32 | {:.0}% | ≥ 10% | {} |",
            100.0 * page,
            verdict(page >= 0.10)
        )?;
        writeln!(out, "| edit on the {}-event customer / on a fresh one, p50 (p99) | {long:.2}× ({long99:.2}×) | ≤ 1.5× | {} |", args.history, verdict(long <= 1.5 && long99 <= 1.5))?;
        writeln!(
            out,
            "| `clientele rebuild customers` over {} events | {:.0} events/s | ≥ 100,000 | {} |",
            r.rebuild_events,
            r.rebuild_customers_rate,
            verdict(r.rebuild_customers_rate >= 100_000.0)
        )?;
        writeln!(out, "| `clientele rebuild` (all seven projections, in one pass over the log) | {:.0} events/s | | |", r.rebuild_all_rate)?;
        for (label, fanout, target) in [
            ("one instance", &r.fanout, 50.0),
            ("across two instances", &r.fanout_two, 100.0),
        ] {
            if let Some(f) = fanout {
                writeln!(
                    out,
                    "| fan-out {label}: {} subscribers, {} events at {}/s, {} delivered; commit-to-delivery p50 {:.1} ms, p99 | {:.1} ms | < {target:.0} ms | {} |",
                    f.subscribers, f.written, args.rate, f.delivered, f.p50_ms, f.p99_ms, verdict(f.p99_ms < target)
                )?;
            }
        }
        writeln!(
            out,
            "| server RSS idle | {:.1} MB | < 50 MB | {} |",
            r.rss_idle * 1.048_576,
            verdict(r.rss_idle * 1.048_576 < 50.0)
        )?;
        writeln!(
            out,
            "| server RSS peak under load (32 concurrent requests) | {:.1} MB | | |",
            r.rss_load_peak * 1.048_576
        )?;
        if let Some(f) = &r.fanout {
            let added = (f.rss_with_subscribers - f.rss_before) * 1.048_576;
            writeln!(
                out,
                "| RSS added by {} idle subscribers | {added:.1} MB (to {:.1} MB) | < 50 MB | {} |",
                f.subscribers,
                r.rss_subscribers * 1.048_576,
                verdict(added < 50.0)
            )?;
        }
        writeln!(out)?;
    }
    Ok(out)
}
