//! `clientele-bench devices --count 1000000 [--database-url URL]`: a customer with a
//! million assigned devices (issue 7).
//!
//! On a fresh database it creates two customers through the store's command path (the one
//! the GraphQL mutations use), "big" and "fresh", and fills "big" with N devices through
//! `Store::assign_many`, what the `assignDevices` mutation runs (each device its own
//! `Assign` decision and event, a bulk per transaction); on PostgreSQL it then analyzes the read models, as autovacuum would
//! (`--no-analyze` skips that). It then measures, alternating between the two customers so
//! that both see the same machine noise, the latency of an edit of the customer, an
//! assignment of a new device, an unassignment, the device count and the first page of the
//! device list, and reports big/fresh for each. Last it deletes "big" (one
//! `AssignmentsReleased`, which releases every device in the same transaction) and reports
//! how long that took and the peak RSS. It prints Markdown tables.

use std::time::{Duration, Instant};

use anyhow::Context;
use clientele_domain::assignment::EntityKind;
use clientele_domain::customer::{
    Change, Confirmation, Customer, CustomerChanges, CustomerCommand, CustomerDraft,
};
use clientele_store::{Arg, Backend, EventMetadata, Store};
use hdrhistogram::Histogram;
use sqlx::Connection;

use crate::{fresh_store, peak_rss_mib};

const TENANT: &str = "bench";
/// The page size of the device-list query (GraphQL's `devices(first: 50)`).
const PAGE: usize = 50;
/// Unrecorded rounds before the measured ones (connections, caches, statements).
const WARM_UP: usize = 20;

#[derive(clap::Args)]
pub struct DevicesArgs {
    /// Devices assigned to the big customer.
    #[arg(long, default_value_t = 1_000_000)]
    count: usize,
    /// Devices per transaction while filling.
    #[arg(long, default_value_t = 10_000)]
    batch: usize,
    /// Measured samples of each operation per customer.
    #[arg(long, default_value_t = 400)]
    samples: usize,
    /// `postgres://…` server to create a fresh database on (its path names the admin
    /// database; the database is dropped at the end), or nothing for a fresh SQLite file.
    #[arg(long, env = "BENCH_DATABASE_URL")]
    database_url: Option<String>,
    /// Do not ANALYZE the read-model tables after the fill (PostgreSQL). By default they
    /// are analyzed, as autovacuum would do on a server that runs it.
    #[arg(long)]
    no_analyze: bool,
    /// Keep the database (and print where it is) instead of dropping it, to inspect it.
    #[arg(long)]
    keep: bool,
}

/// The operations measured on each customer, in the order of the table.
const OPS: [&str; 5] = [
    "`editCustomer` (organization)",
    "`assignDevice` (a new device)",
    "`unassignDevice`",
    "`assignmentCounts` (device count)",
    "`devices(first: 50)` (first page)",
];

fn metadata() -> EventMetadata {
    EventMetadata {
        tenant: TENANT.into(),
        actor: "bench".into(),
        role: Some("TENANT_ADMIN".into()),
        on_behalf_of: None,
        request_id: "bench-devices".into(),
        occurred_at: chrono::Utc::now(),
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

fn ms(micros: u64) -> String {
    format!("{:.2} ms", micros as f64 / 1000.0)
}

/// big/fresh, with enough digits to tell a small ratio from zero.
fn ratio(big: u64, fresh: u64) -> String {
    let r = big as f64 / fresh as f64;
    if r < 0.1 {
        format!("{r:.4}")
    } else {
        format!("{r:.2}")
    }
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

pub async fn run(args: DevicesArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    let (store, url) = fresh_store(&args.database_url).await?;
    let outcome = bench(&store, &args, &url).await;
    store.db().close().await;
    drop(store);
    let cleaned = if args.keep {
        eprintln!("kept the database: {url}");
        Ok(())
    } else {
        cleanup(&args.database_url, &url).await
    };
    outcome.and(cleaned)
}

/// Drops the fresh PostgreSQL database, or removes the SQLite file's directory.
async fn cleanup(admin: &Option<String>, url: &str) -> anyhow::Result<()> {
    match admin {
        Some(admin) => {
            let name = url.rsplit('/').next().unwrap_or_default();
            anyhow::ensure!(
                name.starts_with("clientele_bench_"),
                "not a benchmark database: {name}"
            );
            let mut conn = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await
                .with_context(|| format!("dropping {name}"))?;
        }
        None => {
            if let Some(dir) = url
                .strip_prefix("sqlite://")
                .and_then(|path| std::path::Path::new(path).parent())
            {
                std::fs::remove_dir_all(dir).ok();
            }
        }
    }
    Ok(())
}

/// Creates a customer; returns its id and what deleting it must be confirmed with.
async fn create_customer(store: &Store, name: &str) -> anyhow::Result<(String, String)> {
    let id = uuid::Uuid::now_v7().to_string();
    let required = store.required_customer_fields(TENANT).await?;
    let command = CustomerCommand::CreateCustomer {
        tenant: TENANT.into(),
        draft: CustomerDraft {
            name: name.into(),
            organization: Some(format!("{name} org")),
            ..CustomerDraft::default()
        },
        required,
        parent: None,
        requested_name: None,
        products: vec![],
    };
    let committed = store
        .execute::<Customer>(&id, command, &metadata())
        .await
        .with_context(|| format!("creating customer {name}"))?;
    let profile = committed.aggregate.profile.context("no profile")?;
    Ok((id, profile.shortname.unwrap_or(profile.name)))
}

/// The customer aggregate as the command runner loads it: its version (events) and the
/// size of its snapshot.
async fn aggregate_size(store: &Store, id: &str) -> anyhow::Result<(i64, i64)> {
    let row: Option<(i64, i64)> = store
        .db()
        .fetch_optional(
            "SELECT version, CAST(length(payload) AS BIGINT) FROM aggregate_snapshots \
             WHERE aggregate_type = $1 AND aggregate_id = $2",
            &[Arg::from("Customer"), Arg::from(id)],
        )
        .await?;
    row.context("no snapshot for the customer")
}

async fn database_size_mib(store: &Store, args: &DevicesArgs, url: &str) -> f64 {
    let bytes = match args.database_url {
        Some(_) => store
            .db()
            .fetch_scalar("SELECT pg_database_size(current_database())", &[])
            .await
            .ok()
            .flatten()
            .unwrap_or(0) as u64,
        None => url
            .strip_prefix("sqlite://")
            .map(|path| {
                ["", "-wal"]
                    .iter()
                    .filter_map(|suffix| std::fs::metadata(format!("{path}{suffix}")).ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0),
    };
    bytes as f64 / (1 << 20) as f64
}

async fn bench(store: &Store, args: &DevicesArgs, url: &str) -> anyhow::Result<()> {
    let backend = match store.backend() {
        Backend::Postgres => "PostgreSQL",
        Backend::Sqlite => "SQLite",
    };
    let rss_start = peak_rss_mib();
    let (big, confirm_big) = create_customer(store, "big").await?;
    let (fresh, _) = create_customer(store, "fresh").await?;

    // Fill: as `assignDevices` does, each device its own decision; a transaction per bulk.
    let started = Instant::now();
    let mut last_report = Instant::now();
    let mut assigned = 0usize;
    while assigned < args.count {
        let n = args.batch.min(args.count - assigned);
        let ids: Vec<String> = (assigned..assigned + n)
            .map(|i| format!("dev-{i:08}"))
            .collect();
        let written = store
            .assign_many(EntityKind::Device, &big, &ids, &metadata())
            .await
            .context("filling the big customer")?
            .assigned;
        anyhow::ensure!(written == n, "{written} of {n} devices were assigned");
        assigned += n;
        if last_report.elapsed() >= Duration::from_secs(30) || assigned == args.count {
            last_report = Instant::now();
            let elapsed = started.elapsed().as_secs_f64();
            eprintln!(
                "filled {assigned} of {} devices in {elapsed:.0} s ({:.0} devices/s), peak RSS {:.0} MiB",
                args.count,
                assigned as f64 / elapsed,
                peak_rss_mib()
            );
        }
    }
    let fill = started.elapsed();
    let rss_filled = peak_rss_mib();
    let counts = store.assignment_counts(TENANT, &big).await?;
    anyhow::ensure!(
        counts.devices == args.count as i64,
        "the big customer has {} devices, not {}",
        counts.devices,
        args.count
    );
    let analyzed = store.backend() == Backend::Postgres && !args.no_analyze;
    if analyzed {
        let mut tx = store.db().begin().await?;
        tx.execute("ANALYZE assigned_entities, assignment_counts", &[])
            .await?;
        tx.commit().await?;
    }
    let db_size = database_size_mib(store, args, url).await;
    let big_aggregate = aggregate_size(store, &big).await?;
    let fresh_aggregate = aggregate_size(store, &fresh).await?;

    // Latencies, alternating: each round runs every operation on one customer, then on the
    // other; the order of the two customers flips every round.
    let customers = [&fresh, &big];
    let expected = [0i64, args.count as i64];
    let required = store.required_customer_fields(TENANT).await?;
    let mut hist: Vec<Vec<Histogram<u64>>> = (0..2)
        .map(|_| (0..OPS.len()).map(|_| histogram()).collect())
        .collect();
    let mut page_rows = [0usize; 2];
    eprintln!("measuring {} rounds", args.samples);
    for round in 0..WARM_UP + args.samples {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for c in order {
            let customer = customers[c];
            let mut times = [0u64; OPS.len()];

            let edit = CustomerCommand::EditCustomer {
                expected_version: None,
                changes: CustomerChanges {
                    organization: Change::Set(format!("org {round}")),
                    ..CustomerChanges::default()
                },
                required: required.clone(),
            };
            let t = Instant::now();
            let committed = store
                .execute::<Customer>(customer, edit, &metadata())
                .await
                .context("editing the customer")?;
            times[0] = t.elapsed().as_micros() as u64;
            anyhow::ensure!(committed.events.len() == 1, "the edit wrote no event");

            // Sorts before the filled devices ("dev-…"), so on both customers the first
            // page passes the same rows these rounds left behind.
            let device = format!("bench-{c}-{round:05}");
            let t = Instant::now();
            let written = store
                .assign(EntityKind::Device, customer, &device, &metadata())
                .await
                .context("assigning a device")?;
            times[1] = t.elapsed().as_micros() as u64;
            anyhow::ensure!(written == 1, "the assignment wrote {written} events");

            let t = Instant::now();
            let written = store
                .unassign(EntityKind::Device, "", &device, &metadata())
                .await
                .context("unassigning a device")?;
            times[2] = t.elapsed().as_micros() as u64;
            anyhow::ensure!(written == 1, "the unassignment wrote {written} events");

            let t = Instant::now();
            let counts = store.assignment_counts(TENANT, customer).await?;
            times[3] = t.elapsed().as_micros() as u64;
            anyhow::ensure!(counts.devices == expected[c], "wrong count {counts:?}");

            let t = Instant::now();
            let page = store
                .assigned(TENANT, customer, EntityKind::Device, PAGE, None)
                .await?;
            times[4] = t.elapsed().as_micros() as u64;
            page_rows[c] = page.items.len();

            if round >= WARM_UP {
                for (h, micros) in hist[c].iter_mut().zip(times) {
                    h.record(micros.max(1))?;
                }
            }
        }
    }
    let rss_measured = peak_rss_mib();

    // Delete the big customer: one AssignmentsReleased releases every device it has.
    let t = Instant::now();
    let deleted = store
        .delete_customer(
            &big,
            Confirmation::Typed(confirm_big),
            false,
            "bench",
            &metadata(),
        )
        .await
        .context("deleting the big customer")?;
    let delete = t.elapsed();
    let released = store
        .owner_of(TENANT, EntityKind::Device, "dev-00000000")
        .await?;
    anyhow::ensure!(
        deleted.aggregate.deleted && released.is_none(),
        "the big customer's devices were not released"
    );
    // A released device goes to another customer without replaying anything.
    let t = Instant::now();
    store
        .assign(EntityKind::Device, &fresh, "dev-00000000", &metadata())
        .await
        .context("re-assigning a released device")?;
    let reassign = t.elapsed();
    let rss_end = peak_rss_mib();

    println!(
        "### {backend}: a customer with {} devices{}\n",
        args.count,
        if analyzed {
            " (read models analyzed after the fill)"
        } else {
            ""
        }
    );
    println!("| backend | devices on \"big\" | fill ({} per transaction) | database after fill | customer aggregate big / fresh | delete \"big\" (releases all) | re-assign a released device | peak RSS start → filled → measured → end |", args.batch);
    println!("| --- | --- | --- | --- | --- | --- | --- | --- |");
    println!(
        "| {backend} | {} | {} ({:.0} devices/s) | {db_size:.0} MiB | v{} {} B / v{} {} B | {} | {:.1} ms | {rss_start:.0} → {rss_filled:.0} → {rss_measured:.0} → {rss_end:.0} MiB |",
        args.count,
        secs(fill),
        args.count as f64 / fill.as_secs_f64(),
        big_aggregate.0,
        big_aggregate.1,
        fresh_aggregate.0,
        fresh_aggregate.1,
        secs(delete),
        reassign.as_secs_f64() * 1000.0,
    );
    println!();
    println!(
        "| operation ({} samples per customer, alternating) | fresh p50 | fresh p99 | big p50 | big p99 | big/fresh p50 | big/fresh p99 |",
        args.samples
    );
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for (i, op) in OPS.iter().enumerate() {
        let (f, b) = (&hist[0][i], &hist[1][i]);
        let (f50, f99) = (f.value_at_quantile(0.5), f.value_at_quantile(0.99));
        let (b50, b99) = (b.value_at_quantile(0.5), b.value_at_quantile(0.99));
        let label = if i == 4 {
            format!("{op}: {} / {} rows", page_rows[1], page_rows[0])
        } else {
            op.to_string()
        };
        println!(
            "| {label} | {} | {} | {} | {} | {} | {} |",
            ms(f50),
            ms(f99),
            ms(b50),
            ms(b99),
            ratio(b50, f50),
            ratio(b99, f99),
        );
    }
    Ok(())
}
