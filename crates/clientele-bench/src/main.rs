//! Clientele's benchmarks.
//!
//! `cargo run --release -p clientele-bench -- load` measures the service against the
//! machine's own limit and writes BENCHMARKS.md (see `load.rs`).
//!
//! `cargo run --release -p clientele-bench -- import --rows 100000 [--database-url URL]`
//! imports a generated CSV file of N customers into a fresh database through the same code
//! as `clientele import`, exports it, imports the export again (every row must be skipped),
//! and prints the rates and the peak memory (RSS) as a Markdown table.
//!
//! `cargo run --release -p clientele-bench -- search --customers 1000000` times the
//! customer list's text search over a large tenant (see `load/search.rs`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use clap::{Parser, Subcommand};
use clientele_store::import_export::{export_csv, ImportMode, ImportReport, Importer, OnExisting};
use clientele_store::{ConnectOptions, EventMetadata, Store};
use sqlx::Connection;

mod devices;
mod load;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// CSV import and export throughput and memory.
    Import {
        /// Rows in the generated file.
        #[arg(long, default_value_t = 100_000)]
        rows: usize,
        /// `postgres://…` server to create a fresh database on (its path names the admin
        /// database), or nothing for a fresh SQLite file.
        #[arg(long, env = "BENCH_DATABASE_URL")]
        database_url: Option<String>,
    },
    /// Throughput, latency, rebuild, subscription fan-out and memory of the real server,
    /// next to plain sqlx on the same database; writes BENCHMARKS.md.
    Load(load::LoadArgs),
    /// A customer with a million assigned devices: fill rate, command and query latency
    /// next to a fresh customer's, deleting it, and memory.
    Devices(devices::DevicesArgs),
    /// Finding customers by text over a large tenant: the list's search next to plain SQL.
    Search(load::search::SearchArgs),
}

/// Peak resident memory of this process so far, in MiB (Linux).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

async fn fresh_store(database_url: &Option<String>) -> anyhow::Result<(Store, String)> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let url = match database_url {
        Some(admin) => {
            let mut conn = sqlx::PgConnection::connect(admin)
                .await
                .context("connecting to PostgreSQL")?;
            let name = format!("clientele_bench_{id}");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await?;
            let base = admin
                .rsplit_once('/')
                .map_or(admin.as_str(), |(base, _)| base);
            format!("{base}/{name}")
        }
        None => format!(
            "sqlite://{}",
            std::env::temp_dir()
                .join(format!("clientele-bench-{id}/clientele.db"))
                .display()
        ),
    };
    let options = ConnectOptions {
        url: url.clone(),
        max_connections: 16,
        acquire_timeout: std::time::Duration::from_secs(30),
    };
    Ok((Store::open(&options).await?, url))
}

fn generate(rows: usize) -> anyhow::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("clientele-bench-{}.csv", uuid::Uuid::new_v4()));
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path)?);
    writeln!(
        out,
        "Name,Email,Given Name,Family Name,Organization,Type,Data Retention Days,City,Custom ID"
    )?;
    for i in 0..rows {
        writeln!(
            out,
            "Customer {i},ops{i}@customer{i}.example,Given{i},Family{i},Org {i},{},90,City {},C-{i}",
            if i % 2 == 0 { "SLG" } else { "MSSP" },
            i % 100
        )?;
    }
    out.flush()?;
    Ok(path)
}

async fn import(store: &Store, path: &PathBuf) -> anyhow::Result<(ImportReport, f64)> {
    let importer = Importer {
        store,
        metadata: EventMetadata {
            tenant: "bench".into(),
            actor: "bench".into(),
            role: None,
            on_behalf_of: None,
            request_id: "bench".into(),
            occurred_at: chrono::Utc::now(),
        },
        mode: ImportMode::Partial,
        on_existing: OnExisting::Skip,
        seller: None,
    };
    let started = Instant::now();
    let report = importer.run(|| std::fs::File::open(path), |_| {}).await?;
    Ok((report, started.elapsed().as_secs_f64()))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Bench::Import { rows, database_url } => import_bench(rows, database_url).await,
        Bench::Load(args) => load::run(args).await,
        Bench::Devices(args) => devices::run(args).await,
        Bench::Search(args) => load::search::run(args).await,
    }
}

async fn import_bench(rows: usize, database_url: Option<String>) -> anyhow::Result<()> {
    let (store, _) = fresh_store(&database_url).await?;
    let backend = if database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let file = generate(rows)?;
    let size = std::fs::metadata(&file)?.len() as f64 / (1 << 20) as f64;
    let rss_before = peak_rss_mib();
    let (first, import_secs) = import(&store, &file).await?;
    anyhow::ensure!(
        first.created == rows as u64 && first.failed == 0,
        "the import did not create every row: {first:?}"
    );
    let rss_after = peak_rss_mib();
    let exported = std::env::temp_dir().join(format!(
        "clientele-bench-export-{}.csv",
        uuid::Uuid::new_v4()
    ));
    let started = Instant::now();
    let count = export_csv(&store, "bench", std::fs::File::create(&exported)?).await?;
    let export_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        count == rows as u64,
        "the export has {count} rows, not {rows}"
    );
    let (second, reimport_secs) = import(&store, &exported).await?;
    anyhow::ensure!(
        second.skipped == rows as u64 && second.created == 0,
        "re-importing the export changed something: {second:?}"
    );
    println!("| backend | rows | file | import | export | re-import of the export | peak RSS before → after import |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {backend} | {rows} | {size:.1} MiB | {import_secs:.1} s ({:.0} rows/s) | {export_secs:.1} s ({:.0} rows/s) | {reimport_secs:.1} s, all {} skipped | {rss_before:.0} → {rss_after:.0} MiB |",
        rows as f64 / import_secs,
        rows as f64 / export_secs,
        second.skipped,
    );
    std::fs::remove_file(file).ok();
    std::fs::remove_file(exported).ok();
    Ok(())
}
