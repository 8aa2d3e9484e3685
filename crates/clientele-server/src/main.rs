use clap::Parser;
use clientele_server::{cli, telemetry, Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let Cli { command, settings } = Cli::parse();
    let command = command.unwrap_or(Command::Serve);
    if !matches!(command, Command::Schema) {
        telemetry::init(settings.log_format);
    }
    cli::run(command, settings).await
}
