//! The figures of a run and BENCHMARKS.md.

use std::fmt::Write as _;
use std::process::Command;

use super::drive::{Cpu, Stats};
use super::fanout::Fanout;
use super::procfs::{self, OwnCpu};
use super::server::Rebuild;
use super::LoadArgs;

/// The generator may take at most this share of the machine (issue 16).
const GENERATOR_SHARE_TARGET: f64 = 0.25;

/// One backend's figures.
#[derive(Default)]
pub struct Report {
    pub backend: String,
    pub version: String,
    pub plain_insert_c1: Stats,
    pub plain_insert: Stats,
    pub plain_select: Stats,
    pub plain_newest: Stats,
    pub create_c1: Stats,
    pub create: Stats,
    pub edit_c1: Stats,
    pub edit: Stats,
    pub by_id: Stats,
    pub page: Stats,
    pub long_edit: Stats,
    pub fresh_edit: Stats,
    pub rebuild_events: u64,
    pub rebuild_customers: Rebuild,
    pub rebuild_all: Rebuild,
    pub fanout: Option<Fanout>,
    pub fanout_two: Option<Fanout>,
    pub counts_lag: Option<super::counts::CountsLag>,
    pub webhook_latency: Option<super::webhooks::WebhookLatency>,
    pub rss_idle: f64,
    pub rss_load_peak: f64,
    pub rss_subscribers: f64,
    /// Why PostgreSQL's CPU time is not reported, when it is not.
    pub pg_note: Option<String>,
}

impl Report {
    /// The phases that drive the server over HTTP, with their labels.
    fn server_phases(&self) -> [(&'static str, &Stats); 8] {
        [
            ("createCustomer at 1", &self.create_c1),
            ("createCustomer at 32", &self.create),
            ("editCustomer at 1", &self.edit_c1),
            ("editCustomer at 32", &self.edit),
            ("customer(id) at 32", &self.by_id),
            ("customers(first: 50) at 32", &self.page),
            ("editCustomer, long history", &self.long_edit),
            ("editCustomer, fresh customer", &self.fresh_edit),
        ]
    }
}

/// What is known of the run as a whole: the commit, the time, this process's CPU.
pub struct RunInfo {
    commit: String,
    dirty: bool,
    date: String,
    own: OwnCpu,
    /// (CPU seconds, wall seconds) of this process over the whole run.
    whole: (f64, f64),
}

impl RunInfo {
    pub fn start() -> RunInfo {
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        RunInfo {
            commit: git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".into()),
            dirty: git(&["status", "--porcelain", "--untracked-files=no"])
                .is_some_and(|s| !s.is_empty()),
            date: chrono::Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
            own: OwnCpu::start(),
            whole: (0.0, 0.0),
        }
    }

    pub fn finish(&mut self) {
        self.whole = self.own.since();
    }
}

fn ratio(part: &Stats, whole: &Stats) -> f64 {
    part.rate() / whole.rate().max(1e-9)
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

fn share(cpu: &Cpu) -> String {
    format!("{:.0}%", 100.0 * cpu.generator_share())
}

pub fn render(args: &LoadArgs, info: &RunInfo, reports: &[Report]) -> anyhow::Result<String> {
    let mut out = String::new();
    let (cpu, cores, memory, kernel) = procfs::machine();
    let rustc = Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let dirty = if info.dirty {
        ", with uncommitted changes to tracked files"
    } else {
        ", clean"
    };
    writeln!(out, "# Benchmarks\n")?;
    writeln!(
        out,
        "Written by `cargo run --release -p clientele-bench -- load` on {}, in {:.1} minutes.\n\
         Commit `{}`{dirty}. Machine: {cpu}, {cores} cores, {memory:.0} GiB, {kernel}. {rustc}.\n",
        info.date,
        info.whole.1 / 60.0,
        info.commit,
    )?;
    writeln!(
        out,
        "Settings: {} requests per write operation and per list, {} per read by id, a {}-event history, \
         {} events rebuilt, {} subscribers at {} events/s for {} s.\n",
        args.requests,
        4 * args.requests,
        args.history,
        args.rebuild_events,
        args.subscribers,
        args.rate,
        args.fanout_secs
    )?;
    writeln!(
        out,
        "How it is measured. The server is `{}` (the release `clientele` binary), a separate process on a \
         fresh database. The load comes from the benchmark process on the same machine: HTTP/1.1 through hyper's \
         connection API, one keep-alive connection per concurrent worker, each request body serialised once \
         up front with only its varying part (an id, a number) spliced in, each answer checked for status 200 \
         and no `\"errors\"` without parsing it; subscriptions over WebSocket (tokio-tungstenite). Latencies \
         are measured by the client (hdrhistogram). The limit is measured in the same run on the same \
         database with plain sqlx (a 32-connection pool on PostgreSQL; on SQLite one writer and 16 readers, \
         like the server) on a table shaped like the customers read model and filled with as many rows: \
         single-row INSERT transactions, primary-key SELECTs, and `SELECT … ORDER BY created_at DESC LIMIT 50`. \
         Ratio = the operation's rate / its limit's rate. CPU columns, from /proc over exactly the measured \
         window: server = Δ(utime + stime) of the server process / operations; PostgreSQL = Σ Δ(time on the CPU, \
         from /proc/<pid>/schedstat) of the backends serving the benchmark's database (from `pg_stat_activity`: the server's for its rows, the \
         benchmark's own, tagged `application_name=clientele-bench`, for the limits; the WAL writer, \
         checkpointer and other cluster processes are not counted) / operations; generator = Δ(utime + stime) \
         of the benchmark process / (window × {cores} cores), its share of the whole machine. On SQLite the \
         database engine runs inside the server (and, for the limit, inside the generator). These machines \
         are noisy: the ratios and CPU times hold better than the rates.\n",
        args.server_bin.display()
    )?;

    // The generator's share of the machine, over the whole run and over the server phases.
    let mut phases = Cpu {
        postgres: Some(0.0),
        ..Cpu::default()
    };
    let mut busiest: Option<(String, f64)> = None;
    for r in reports {
        for (label, s) in r.server_phases() {
            phases.add(&s.cpu);
            let phase_share = s.cpu.generator_share();
            if busiest.as_ref().is_none_or(|(_, b)| phase_share > *b) {
                busiest = Some((
                    format!("{label}, {}", backend_name(&r.backend)),
                    phase_share,
                ));
            }
        }
    }
    let whole = info.whole.0 / (info.whole.1 * cores as f64).max(1e-9);
    let (busiest_label, busiest_share) = busiest.unwrap_or_default();
    writeln!(
        out,
        "The generator's own CPU, as a share of the machine: {:.0}% over the whole run (rebuilds and setup \
         included), {} over the phases that drive the server, {:.0}% in the busiest of them ({busiest_label}); \
         target ≤ {:.0}%: {}.\n",
        100.0 * whole,
        share(&phases),
        100.0 * busiest_share,
        100.0 * GENERATOR_SHARE_TARGET,
        verdict(busiest_share <= GENERATOR_SHARE_TARGET),
    )?;
    for r in reports {
        backend_section(&mut out, args, r)?;
    }
    Ok(out)
}

/// 100000 → "100,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let head = match digits.len() % 3 {
        0 => 3,
        r => r,
    };
    let mut out = digits[..head].to_string();
    for group in digits.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.push_str(std::str::from_utf8(group).expect("digits"));
    }
    out
}

fn backend_name(backend: &str) -> &'static str {
    if backend == "postgres" {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}

fn backend_section(out: &mut String, args: &LoadArgs, r: &Report) -> anyhow::Result<()> {
    let pg = r.backend == "postgres";
    writeln!(out, "## {}\n\n{}\n", backend_name(&r.backend), r.version)?;
    if let Some(note) = &r.pg_note {
        writeln!(out, "{note}.\n")?;
    }
    let pg_head = if pg { " PostgreSQL CPU ms/op |" } else { "" };
    writeln!(
        out,
        "| operation | concurrency | ops | ops/s | p50 ms | p99 ms | ratio to the limit | server CPU ms/op |{pg_head} generator CPU |"
    )?;
    writeln!(
        out,
        "| --- | --- | --- | --- | --- | --- | --- | --- |{} --- |",
        if pg { " --- |" } else { "" }
    )?;
    let mut lost = 0;
    let mut row = |label: &str,
                   c: usize,
                   s: &Stats,
                   limit: Option<&Stats>,
                   server: bool|
     -> anyhow::Result<()> {
        let ratio = limit.map_or("—".to_string(), |l| {
            format!("{:.0}%", 100.0 * ratio(s, l))
        });
        let server = if server {
            format!("{:.3}", s.per_op_ms(s.cpu.server))
        } else {
            "—".into()
        };
        let pg_cell = match (pg, s.cpu.postgres) {
            (false, _) => String::new(),
            (true, Some(p)) => format!(" {:.3} |", s.per_op_ms(p)),
            (true, None) => " — |".into(),
        };
        lost += s.cpu.backends_lost;
        writeln!(
            out,
            "| {label} | {c} | {} | {:.0} | {:.2} | {:.2} | {ratio} | {server} |{pg_cell} {} |",
            s.ops,
            s.rate(),
            s.p50_ms,
            s.p99_ms,
            share(&s.cpu),
        )?;
        Ok(())
    };
    row(
        "limit: plain INSERT transaction",
        1,
        &r.plain_insert_c1,
        None,
        false,
    )?;
    row(
        "limit: plain INSERT transaction",
        32,
        &r.plain_insert,
        None,
        false,
    )?;
    row(
        "limit: primary-key SELECT",
        32,
        &r.plain_select,
        None,
        false,
    )?;
    row(
        "limit: SELECT of the 50 newest rows",
        32,
        &r.plain_newest,
        None,
        false,
    )?;
    row(
        "createCustomer",
        1,
        &r.create_c1,
        Some(&r.plain_insert_c1),
        true,
    )?;
    row("createCustomer", 32, &r.create, Some(&r.plain_insert), true)?;
    row(
        "editCustomer",
        1,
        &r.edit_c1,
        Some(&r.plain_insert_c1),
        true,
    )?;
    row("editCustomer", 32, &r.edit, Some(&r.plain_insert), true)?;
    row("customer(id)", 32, &r.by_id, Some(&r.plain_select), true)?;
    row(
        "customers(first: 50), newest first",
        32,
        &r.page,
        Some(&r.plain_newest),
        true,
    )?;
    let history = format!("editCustomer, {}-event customer", args.history);
    row(&history, 1, &r.long_edit, None, true)?;
    row(
        "editCustomer, fresh customer (alternating with the above; CPU is their mean)",
        1,
        &r.fresh_edit,
        None,
        true,
    )?;
    writeln!(out)?;
    if lost > 0 {
        writeln!(out, "{lost} PostgreSQL backends ended inside a measured window; their CPU time is missing from these figures.\n")?;
    }

    writeln!(out, "| measure | value | target | |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    let mut measure =
        |label: &str, value: String, target: &str, ok: Option<bool>| -> anyhow::Result<()> {
            writeln!(
                out,
                "| {label} | {value} | {target} | {} |",
                ok.map_or("", verdict)
            )?;
            Ok(())
        };
    let percent = |x: f64| format!("{:.0}%", 100.0 * x);
    let create = ratio(&r.create, &r.plain_insert);
    measure(
        "createCustomer at 32 / plain INSERT transaction at 32",
        percent(create),
        "≥ 30%",
        Some(create >= 0.30),
    )?;
    let c1 = r.create_c1.p50_ms;
    measure(
        "createCustomer at 1, p50",
        format!("{c1:.2} ms"),
        "≤ 1.0 ms",
        Some(c1 <= 1.0),
    )?;
    let edit = ratio(&r.edit, &r.plain_insert);
    measure(
        "editCustomer at 32 / plain INSERT transaction at 32",
        percent(edit),
        "≥ 30%",
        Some(edit >= 0.30),
    )?;
    let by_id = ratio(&r.by_id, &r.plain_select);
    measure(
        "customer(id) at 32 / primary-key SELECT at 32",
        percent(by_id),
        "≥ 45%",
        Some(by_id >= 0.45),
    )?;
    let page = ratio(&r.page, &r.plain_newest);
    measure(
        "customers(first: 50), newest first, at 32 / SELECT of the 50 newest rows at 32",
        percent(page),
        "≥ 15%",
        Some(page >= 0.15),
    )?;
    let long = r.long_edit.p50_ms / r.fresh_edit.p50_ms.max(1e-9);
    let long99 = r.long_edit.p99_ms / r.fresh_edit.p99_ms.max(1e-9);
    measure(
        &format!(
            "edit on the {}-event customer / on a fresh one, p50 (p99)",
            args.history
        ),
        format!("{long:.2}× ({long99:.2}×)"),
        "≤ 1.5×",
        Some(long <= 1.5 && long99 <= 1.5),
    )?;
    for (label, b, target) in [
        (
            "`clientele rebuild customers`",
            &r.rebuild_customers,
            100_000.0,
        ),
        (
            "`clientele rebuild`, all projections in one pass",
            &r.rebuild_all,
            60_000.0,
        ),
    ] {
        measure(
            &format!(
                "{label} over {} events (CPU of the rebuild process per event)",
                thousands(r.rebuild_events)
            ),
            format!(
                "{} events/s ({:.1} µs)",
                thousands(b.rate as u64),
                1e6 * b.cpu / (b.events as f64).max(1.0)
            ),
            &format!("≥ {} events/s", thousands(target as u64)),
            Some(b.rate >= target),
        )?;
    }
    for (label, fanout, target) in [
        ("one instance", &r.fanout, 50.0),
        ("across two instances", &r.fanout_two, 100.0),
    ] {
        let Some(f) = fanout else { continue };
        let per_event = |s: f64| 1000.0 * s / (f.written as f64).max(1.0);
        let pg_cpu = f.cpu.postgres.map_or(String::new(), |p| {
            format!(", PostgreSQL {:.3} ms", per_event(p))
        });
        measure(
            &format!(
                "fan-out {label}: {} subscribers, {} events at {}/s, {} delivered; commit-to-delivery p50 {:.1} ms; \
                 CPU per event: server {:.3} ms{pg_cpu}; generator {}; p99",
                f.subscribers, f.written, args.rate, f.delivered, f.p50_ms, per_event(f.cpu.server), share(&f.cpu)
            ),
            format!("{:.1} ms", f.p99_ms),
            &format!("< {target:.0} ms"),
            Some(f.p99_ms < target && f.delivered >= f.written),
        )?;
    }
    if let Some(c) = &r.counts_lag {
        measure(
            &format!(
                "counts lag: {} `customerCountsByStatus` subscribers, {} creates 100 ms apart, {} of {} updates; commit-to-update p50 {:.1} ms; p99",
                c.subscribers, c.writes, c.delivered, c.subscribers * c.writes, c.p50_ms
            ),
            format!("{:.1} ms", c.p99_ms),
            "< 100 ms",
            Some(c.p99_ms < 100.0 && c.delivered >= (c.subscribers * c.writes) as u64),
        )?;
    }
    if let Some(w) = &r.webhook_latency {
        measure(
            &format!(
                "webhook latency: one endpoint on a local receiver, {} creates 20 ms apart, {} delivered; commit-to-receiver p50 {:.1} ms; p99",
                w.writes, w.delivered, w.p50_ms
            ),
            format!("{:.1} ms", w.p99_ms),
            "< 100 ms",
            Some(w.p99_ms < 100.0 && w.delivered >= w.writes as u64),
        )?;
    }
    let mb = |mib: f64| mib * 1.048_576;
    measure(
        "server RSS idle",
        format!("{:.1} MB", mb(r.rss_idle)),
        "< 50 MB",
        Some(mb(r.rss_idle) < 50.0),
    )?;
    measure(
        "server RSS peak under load (32 concurrent requests)",
        format!("{:.1} MB", mb(r.rss_load_peak)),
        "",
        None,
    )?;
    if let Some(f) = &r.fanout {
        let added = mb(f.rss_with_subscribers - f.rss_before);
        measure(
            &format!("RSS added by {} idle subscribers", f.subscribers),
            format!("{added:.1} MB (to {:.1} MB)", mb(r.rss_subscribers)),
            "< 50 MB",
            Some(added < 50.0),
        )?;
    }
    let busiest = r
        .server_phases()
        .iter()
        .map(|(_, s)| s.cpu.generator_share())
        .fold(0.0, f64::max);
    measure(
        "the generator's CPU share of the machine, busiest server phase",
        format!("{:.0}%", 100.0 * busiest),
        "≤ 25%",
        Some(busiest <= GENERATOR_SHARE_TARGET),
    )?;
    writeln!(out)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_separated() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1_031_002), "1,031,002");
    }
}
