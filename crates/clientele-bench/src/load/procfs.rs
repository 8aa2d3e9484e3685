//! What the benchmark reads from /proc: CPU time and resident memory of processes (this
//! one, the server, PostgreSQL's backends) and the machine's description.

use std::collections::HashMap;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Clock ticks per second of /proc's CPU times (`getconf CLK_TCK`; 100 on Linux).
fn ticks_per_second() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
            .filter(|t: &f64| *t > 0.0)
            .unwrap_or(100.0)
    })
}

/// The fields of /proc/<pid>/stat after the command name (field 3 onwards).
fn stat_fields(stat: &str) -> Option<Vec<&str>> {
    // The command name is in parentheses and may hold spaces; the rest follows the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

/// utime + stime of a process (all its threads, living and ended), in seconds, and
/// whether it is a zombie (ended, not yet reaped: its times are final).
fn cpu_and_state(pid: &str) -> Option<(f64, bool)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields = stat_fields(&stat)?;
    // Field 3 is the state; 14 and 15 (utime, stime) are at 11 and 12 after it.
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some((
        ticks as f64 / ticks_per_second(),
        fields.first() == Some(&"Z"),
    ))
}

/// CPU seconds (user + system) a process has used so far; 0 if it is gone.
pub fn cpu_seconds(pid: u32) -> f64 {
    cpu_and_state(&pid.to_string()).map_or(0.0, |(s, _)| s)
}

/// CPU seconds this process (the load generator) has used so far.
pub fn own_cpu_seconds() -> f64 {
    cpu_and_state("self").map_or(0.0, |(s, _)| s)
}

/// Waits for a child to end and returns the CPU seconds it used in all: it is read from
/// /proc while the child is a zombie (ended, not yet reaped), then the child is reaped.
pub fn wait_measured(
    child: &mut std::process::Child,
) -> std::io::Result<(std::process::ExitStatus, f64)> {
    let pid = child.id().to_string();
    let mut last = 0.0;
    loop {
        match cpu_and_state(&pid) {
            Some((cpu, true)) => {
                last = cpu;
                break;
            }
            Some((cpu, false)) => last = cpu,
            None => break,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok((child.wait()?, last))
}

/// The process's command name (/proc/<pid>/comm).
pub fn command_name(pid: u32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|c| c.trim().to_string())
}

/// Resident memory now and its peak so far (VmRSS, VmHWM), in MiB.
pub fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
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

/// CPU seconds of a set of single-threaded processes (PostgreSQL backends) at one moment,
/// by pid: from /proc/<pid>/schedstat (nanoseconds on the CPU, exact) where it exists,
/// else from /proc/<pid>/stat (whole clock ticks, which add up to a large error over
/// dozens of backends).
pub fn cpu_of(pids: &[u32]) -> HashMap<u32, f64> {
    let exact = |pid: u32| {
        let text = std::fs::read_to_string(format!("/proc/{pid}/schedstat")).ok()?;
        let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
        Some(ns as f64 / 1e9)
    };
    pids.iter()
        .map(|&pid| (pid, exact(pid).unwrap_or_else(|| cpu_seconds(pid))))
        .collect()
}

/// Samples a process's resident memory until stopped; returns the largest sample (MiB).
pub struct RssSampler {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<f64>,
}

impl RssSampler {
    pub fn start(pid: u32) -> RssSampler {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut peak: f64 = 0.0;
            loop {
                peak = peak.max(rss_mib(pid).0);
                tokio::select! {
                    _ = &mut stopped => return peak,
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                }
            }
        });
        RssSampler { stop, task }
    }

    pub async fn stop(self) -> f64 {
        let _ = self.stop.send(());
        self.task.await.unwrap_or_default()
    }
}

/// This process's CPU use over a stretch of time, as a share of the whole machine.
#[derive(Clone, Copy)]
pub struct OwnCpu {
    began: Instant,
    cpu: f64,
}

impl OwnCpu {
    pub fn start() -> OwnCpu {
        OwnCpu {
            began: Instant::now(),
            cpu: own_cpu_seconds(),
        }
    }

    /// (CPU seconds, wall seconds) since `start`.
    pub fn since(&self) -> (f64, f64) {
        (
            own_cpu_seconds() - self.cpu,
            self.began.elapsed().as_secs_f64(),
        )
    }
}

/// The machine's logical cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// CPU model, cores, memory (GiB) and kernel release.
pub fn machine() -> (String, usize, f64, String) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(": ").nth(1))
        .unwrap_or("unknown CPU")
        .to_string();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|k| format!("Linux {}", k.trim()))
        .unwrap_or_else(|_| "unknown kernel".into());
    (cpu, cores(), memory, kernel)
}
