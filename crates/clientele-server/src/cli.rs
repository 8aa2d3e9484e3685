//! The subcommands.

use anyhow::Context;
use clientele_store::{redact, Db, Projection, Store};

use clientele_graphql::{Grant, Role};

use clientele_store::import_export::{export_csv, ImportMode, Importer, OnExisting};

use crate::settings::{Command, ImportModeArg, OnExistingArg, Settings};
use crate::Application;

/// Runs one subcommand to completion.
pub async fn run(command: Command, settings: Settings) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            Application::build(settings)
                .await?
                .run_until_stopped()
                .await
        }
        Command::Schema => {
            print!("{}", clientele_graphql::sdl());
            Ok(())
        }
        Command::Migrate => {
            migrated(&settings).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Token {
            tenant,
            role,
            customer,
            subject,
            ttl,
        } => {
            println!(
                "{}",
                token(&settings, &tenant, &role, customer, subject, *ttl)?
            );
            Ok(())
        }
        Command::Import {
            file,
            tenant,
            dry_run,
            mode,
            on_existing,
        } => import(&settings, &file, tenant, dry_run, mode, on_existing).await,
        Command::Export { tenant } => {
            let store = open_store(&settings).await?;
            let count = export_csv(&store, &tenant, std::io::stdout().lock()).await?;
            eprintln!("exported {count} customers");
            Ok(())
        }
        Command::History { tenant, customer } => {
            let store = open_store(&settings).await?;
            let mut stdout = std::io::stdout().lock();
            let mut failed = None;
            store
                .export_history(&tenant, customer.as_deref(), |line| {
                    use std::io::Write;
                    if failed.is_none() {
                        failed = writeln!(stdout, "{line}").err();
                    }
                })
                .await
                .context("failed to read the history")?;
            match failed {
                Some(error) => Err(error).context("failed to write the history"),
                None => Ok(()),
            }
        }
        Command::Rebuild { projections } => {
            let store = open_store(&settings).await?;
            let projections = selected(&projections)?;
            let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
            let started = std::time::Instant::now();
            let events = store
                .rebuild_together(&projections)
                .await
                .with_context(|| format!("failed to rebuild {}", names.join(", ")))?;
            let seconds = started.elapsed().as_secs_f64();
            println!(
                "{}: {events} events in {seconds:.2}s ({:.0} events/s)",
                names.join(", "),
                events as f64 / seconds.max(1e-9)
            );
            Ok(())
        }
    }
}

/// What `clientele token` prints: a token of its own session (`sid`) with a fresh `jti`,
/// which `revokeSessions` of its subject ends like any other.
pub fn token(
    settings: &Settings,
    tenant: &str,
    role: &str,
    customer: Option<String>,
    subject: Option<String>,
    ttl: std::time::Duration,
) -> anyhow::Result<String> {
    let role = Role::parse(role).with_context(|| format!("no role named {role}"))?;
    let (auth, _) = crate::auth::authenticator(settings)?;
    let subject = subject.unwrap_or_else(|| format!("dev-{}", role.as_str().to_lowercase()));
    let ttl = chrono::Duration::from_std(ttl).context("the ttl is too long")?;
    let grant = Grant {
        customer,
        ..Grant::new(subject, tenant, role)
    };
    let (token, _) = auth.mint(grant, chrono::Utc::now(), ttl)?;
    Ok(token)
}

/// The configured database, with every migration applied.
async fn migrated(settings: &Settings) -> anyhow::Result<Db> {
    let url = settings.database_url();
    let db = Db::connect(&settings.connect_options())
        .await
        .with_context(|| format!("failed to open the store at {}", redact(&url)))?;
    db.migrate().await.context("failed to apply migrations")?;
    Ok(db)
}

/// The store over the configured database, with every migration applied.
async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    Ok(Store::from_db(migrated(settings).await?))
}

fn selected(names: &[String]) -> anyhow::Result<Vec<Projection>> {
    if names.is_empty() {
        return Ok(Projection::ALL.to_vec());
    }
    names
        .iter()
        .map(|name| {
            Projection::ALL
                .into_iter()
                .find(|p| p.name() == name)
                .with_context(|| format!("no projection named {name}"))
        })
        .collect()
}

async fn import(
    settings: &Settings,
    file: &std::path::Path,
    tenant: String,
    dry_run: bool,
    mode: ImportModeArg,
    on_existing: OnExistingArg,
) -> anyhow::Result<()> {
    let store = open_store(settings).await?;
    let metadata = clientele_store::EventMetadata {
        tenant,
        actor: "cli:import".into(),
        role: Some("TENANT_ADMIN".into()),
        on_behalf_of: None,
        request_id: format!("import-{}", uuid::Uuid::now_v7()),
        occurred_at: chrono::Utc::now(),
    };
    let importer = Importer {
        store: &store,
        metadata,
        mode: match (dry_run, mode) {
            (true, _) => ImportMode::DryRun,
            (false, ImportModeArg::AllOrNothing) => ImportMode::AllOrNothing,
            (false, ImportModeArg::Partial) => ImportMode::Partial,
        },
        on_existing: match on_existing {
            OnExistingArg::Skip => OnExisting::Skip,
            OnExistingArg::Update => OnExisting::Update,
        },
        seller: None,
    };
    // A spinner with the rows seen, on a terminal only (indicatif hides it otherwise).
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} rows {per_sec} [{elapsed}]")
            .expect("a valid template"),
    );
    let open = || std::fs::File::open(file);
    let report = importer.run(open, |rows| bar.set_position(rows)).await;
    bar.finish_and_clear();
    let report = report.with_context(|| format!("failed to import {}", file.display()))?;
    for failure in &report.failures {
        eprintln!(
            "line {}: {}{} ({})",
            failure.line,
            failure
                .column
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default(),
            failure.message,
            failure.rule
        );
    }
    println!(
        "{} rows: {} created, {} updated, {} skipped, {} failed{}",
        report.rows,
        report.created,
        report.updated,
        report.skipped,
        report.failed,
        if report.nothing_written {
            " — nothing written"
        } else {
            ""
        }
    );
    if report.failed > 0 {
        anyhow::bail!("{} rows failed", report.failed);
    }
    Ok(())
}
