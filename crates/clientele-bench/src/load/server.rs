//! The release `clientele` binary as a child process: the server, and `clientele rebuild`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{ensure, Context};
use clientele_graphql::{Authenticator, Grant, Role};

use super::http::{self, Target};
use super::procfs;

pub const SECRET: &str = "benchmark-secret-that-is-long-enough-for-hs256";

/// A token of the benchmark tenant's admin.
pub fn token() -> String {
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

/// The `clientele` server as a child process.
pub struct Server {
    child: Child,
    pub port: u16,
    pub target: Arc<Target>,
}

impl Server {
    pub async fn start(
        bin: &Path,
        url: &str,
        data_dir: &Path,
        token: &str,
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(bin)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", &data_dir.display().to_string()])
            .arg("serve")
            .env("DATABASE_URL", url)
            // The webhook-latency phase's receiver listens on 127.0.0.1.
            .env("CLIENTELE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", "true")
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
        let server = Server {
            child,
            port,
            target: Target::new(port, token)?,
        };
        http::wait_ready(&server.target).await?;
        Ok(server)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident memory now, in MiB.
    pub fn rss(&self) -> f64 {
        procfs::rss_mib(self.pid()).0
    }

    pub fn stop(mut self) {
        // SIGTERM for a graceful stop; the process exits within its grace period.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

/// One `clientele rebuild` run: events replayed, events per second, CPU seconds of the
/// rebuild process.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rebuild {
    pub events: u64,
    pub rate: f64,
    pub cpu: f64,
}

/// Runs `clientele rebuild customers`, then `clientele rebuild` (every projection).
pub fn rebuild(bin: &Path, url: &str, dir: &Path) -> anyhow::Result<(Rebuild, Rebuild)> {
    Ok((
        rebuild_once(bin, url, dir, &["customers"])?,
        rebuild_once(bin, url, dir, &[])?,
    ))
}

/// Runs `clientele rebuild` of `projections` (every projection when empty), measured.
pub fn rebuild_once(
    bin: &Path,
    url: &str,
    dir: &Path,
    projections: &[&str],
) -> anyhow::Result<Rebuild> {
    {
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(["--data-dir", &dir.join("a").display().to_string()])
            .arg("rebuild")
            .args(projections)
            .env("DATABASE_URL", url)
            .env("CLIENTELE_JWT_SECRET", SECRET)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        // Read the pipes on threads, so that the child never blocks on a full one.
        let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
        let stdout = std::thread::spawn(move || read_all(out.as_mut()));
        let stderr = std::thread::spawn(move || read_all(err.as_mut()));
        let (status, cpu) = procfs::wait_measured(&mut child)?;
        let secs = started.elapsed().as_secs_f64();
        let (stdout, stderr) = (
            stdout.join().unwrap_or_default(),
            stderr.join().unwrap_or_default(),
        );
        ensure!(status.success(), "rebuild failed: {stderr}");
        eprint!("{stdout}");
        let events: u64 = stdout
            .lines()
            .filter_map(|l| l.split(": ").nth(1)?.split(' ').next()?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        Ok(Rebuild {
            events,
            rate: events as f64 / secs,
            cpu,
        })
    }
}

fn read_all(pipe: Option<&mut impl std::io::Read>) -> String {
    let mut text = String::new();
    if let Some(pipe) = pipe {
        let _ = pipe.read_to_string(&mut text);
    }
    text
}
