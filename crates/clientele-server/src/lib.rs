//! Clientele's server: settings, telemetry, the axum router and the command line.

mod activation_page;
mod app;
pub mod auth;
pub mod cli;
mod dashboard;
mod deletion_notices;
mod graphiql;
mod mail;
mod routes;
pub mod scheduler;
pub mod settings;
mod state;
pub mod telemetry;
pub mod webhooks;
mod ws;

pub use app::{Application, ShutdownHandle};
pub use settings::{Cli, Command, ImportModeArg, LogFormat, OnExistingArg, Settings};
