//! Settings from flags and the environment, and the command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use clientele_store::ConnectOptions;
use secrecy::{ExposeSecret, SecretString};

/// Clientele: event-sourced customer management for multi-tenant platforms, over GraphQL.
#[derive(Debug, Parser)]
#[command(name = "clientele", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub settings: Settings,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Serve GraphQL over HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the GraphQL schema (SDL); schema.graphql is its output.
    Schema,
    /// Print a customer's (or the whole tenant's) event history as NDJSON, for auditors.
    History {
        /// The tenant whose history to print.
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Only this customer's history.
        #[arg(long)]
        customer: Option<String>,
    },
    /// Mint a token for development (HS256, with the configured or data-directory secret).
    Token {
        #[arg(long, default_value = "default")]
        tenant: String,
        /// TENANT_ADMIN, RESELLER, SELLER, AUDITOR, CUSTOMER_ADMIN or CUSTOMER_USER.
        #[arg(long, default_value = "TENANT_ADMIN")]
        role: String,
        /// The customer a CUSTOMER_ADMIN or CUSTOMER_USER is bound to.
        #[arg(long)]
        customer: Option<String>,
        /// The subject (user id); defaults to `dev-<role>`.
        #[arg(long)]
        subject: Option<String>,
        /// How long the token lives, e.g. 1h, 30m, 7d.
        #[arg(long, default_value = "1h")]
        ttl: humantime::Duration,
    },
    /// Import customers from a CSV file (a header row with Name and any other input field).
    Import {
        /// The CSV file (UTF-8, `,` or `;`).
        file: PathBuf,
        #[arg(long, default_value = "default")]
        tenant: String,
        /// Validate every row and write nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t = ImportModeArg::Partial)]
        mode: ImportModeArg,
        /// What to do with rows matching an existing customer (by customId, else by name).
        #[arg(long, value_enum, default_value_t = OnExistingArg::Skip)]
        on_existing: OnExistingArg,
    },
    /// Print the tenant's customers as CSV (importable back).
    Export {
        #[arg(long, default_value = "default")]
        tenant: String,
    },
    /// Rebuild every projection (or the named ones) from the event log. Stop the service first.
    Rebuild {
        /// Projection names (customers, tenant_settings, products, deletion_requests, customer_counts,
        /// customer_users, assignments); all when omitted.
        projections: Vec<String>,
    },
}

/// `--mode` of `clientele import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportModeArg {
    /// Any failing row: nothing is written.
    AllOrNothing,
    /// Valid rows are written, failing ones reported.
    Partial,
}

/// `--on-existing` of `clientele import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnExistingArg {
    Skip,
    Update,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Everything the service can be told; each flag also reads an environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct Settings {
    /// Address to serve on.
    #[arg(
        long,
        env = "CLIENTELE_LISTEN",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub listen: SocketAddr,
    /// Folder for the embedded SQLite store (used when no DATABASE_URL is given).
    #[arg(
        long,
        env = "CLIENTELE_DATA_DIR",
        default_value = "clientele-data",
        global = true
    )]
    pub data_dir: PathBuf,
    /// `postgres://user@host/db` for PostgreSQL, or `sqlite://path/to/file.db`.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, global = true)]
    pub database_url: Option<SecretString>,
    /// Largest database pool.
    #[arg(
        long,
        env = "CLIENTELE_DB_MAX_CONNECTIONS",
        default_value_t = 32,
        global = true
    )]
    pub db_max_connections: u32,
    /// Log format.
    #[arg(long, env = "CLIENTELE_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// Largest request body accepted, in bytes.
    #[arg(long, env = "CLIENTELE_MAX_BODY_BYTES", default_value_t = 1 << 20, global = true)]
    pub max_body_bytes: usize,
    /// Largest multipart upload (CSV import) accepted, in bytes.
    #[arg(long, env = "CLIENTELE_MAX_UPLOAD_BYTES", default_value_t = 64 << 20, global = true)]
    pub max_upload_bytes: usize,
    /// How often asynchronous projections look for events written by other instances, in ms.
    #[arg(
        long,
        env = "CLIENTELE_PROJECTION_POLL_MS",
        default_value_t = 500,
        global = true
    )]
    pub projection_poll_ms: u64,
    /// HS256 secret for tokens. Without it (and without a JWKS file) a secret is created in the
    /// data directory on first start. Instances sharing a database must share it.
    #[arg(
        long,
        env = "CLIENTELE_JWT_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub jwt_secret: Option<SecretString>,
    /// JWKS file with the RS256/ES256 public keys of an identity provider.
    #[arg(long, env = "CLIENTELE_JWKS_FILE", global = true)]
    pub jwks_file: Option<PathBuf>,
    /// The `iss` every token must carry.
    #[arg(
        long,
        env = "CLIENTELE_JWT_ISSUER",
        default_value = "clientele",
        global = true
    )]
    pub jwt_issuer: String,
    /// The `aud` every token must carry.
    #[arg(
        long,
        env = "CLIENTELE_JWT_AUDIENCE",
        default_value = "clientele",
        global = true
    )]
    pub jwt_audience: String,
    /// How long a `loginAs` (impersonation) token lives, in minutes.
    #[arg(
        long,
        env = "CLIENTELE_IMPERSONATION_TTL_MINUTES",
        default_value_t = 60,
        global = true
    )]
    pub impersonation_ttl_minutes: i64,
    /// How often the deletion scheduler looks for due deletion requests, in ms.
    #[arg(
        long,
        env = "CLIENTELE_DELETION_POLL_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub deletion_poll_ms: u64,
    /// Let webhook endpoints use loopback, link-local and private addresses, and plain
    /// http (for tests and on-premise receivers). Off: https to public addresses only.
    #[arg(
        long,
        env = "CLIENTELE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES",
        default_value_t = false,
        global = true
    )]
    pub webhooks_allow_private_addresses: bool,
    /// The first wait after a failed webhook delivery, in ms; the later ones are multiples
    /// of it (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h by default), then the endpoint is disabled.
    #[arg(
        long,
        env = "CLIENTELE_WEBHOOKS_RETRY_BASE_MS",
        default_value_t = 5_000,
        global = true
    )]
    pub webhooks_retry_base_ms: u64,
    /// How often the webhook worker looks for endpoints, and at the log when nothing woke it, in ms.
    #[arg(
        long,
        env = "CLIENTELE_WEBHOOKS_POLL_MS",
        default_value_t = 1_000,
        global = true
    )]
    pub webhooks_poll_ms: u64,
    /// How long one webhook request may take in all (connecting: at most 5 s), in ms.
    #[arg(
        long,
        env = "CLIENTELE_WEBHOOKS_TIMEOUT_MS",
        default_value_t = 10_000,
        global = true
    )]
    pub webhooks_timeout_ms: u64,
    /// How long shutdown waits for in-flight requests, in seconds.
    #[arg(
        long,
        env = "CLIENTELE_SHUTDOWN_GRACE_SECS",
        default_value_t = 20,
        global = true
    )]
    pub shutdown_grace_secs: u64,
    /// How many events a subscriber may fall behind before it is cut off (it is told the
    /// cursor to resume from).
    #[arg(
        long,
        env = "CLIENTELE_SUBSCRIPTION_BUFFER",
        default_value_t = 4096,
        global = true
    )]
    pub subscription_buffer: usize,
    /// Most subscriptions open at once on one WebSocket connection.
    #[arg(
        long,
        env = "CLIENTELE_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        default_value_t = 100,
        global = true
    )]
    pub max_subscriptions_per_connection: usize,
    /// How long a WebSocket may stay open without `connection_init`, in ms (then 4408).
    #[arg(
        long,
        env = "CLIENTELE_WS_INIT_TIMEOUT_MS",
        default_value_t = 3_000,
        global = true
    )]
    pub ws_init_timeout_ms: u64,
    /// How often the live feed reads the log when nothing woke it, in ms (a missed
    /// PostgreSQL notification is found by this).
    #[arg(
        long,
        env = "CLIENTELE_FEED_POLL_MS",
        default_value_t = 500,
        global = true
    )]
    pub feed_poll_ms: u64,
    /// Kernel send buffer of each accepted connection, in bytes; 0 leaves it to the
    /// operating system's autotuning (up to net.ipv4.tcp_wmem's maximum). A subscriber that
    /// stops reading is cut off once this buffer, a 64-message queue and the subscription
    /// buffer are full, so a smaller value cuts it off sooner and bounds memory tighter.
    #[arg(
        long,
        env = "CLIENTELE_TCP_SEND_BUFFER_BYTES",
        default_value_t = 0,
        global = true
    )]
    pub tcp_send_buffer_bytes: usize,
    /// The service's address as users reach it; activation links start with it (default:
    /// `http://` and the listen address).
    #[arg(long, env = "CLIENTELE_PUBLIC_URL", global = true)]
    pub public_url: Option<String>,
    /// SMTP server for mail (activation, password reset): `smtp://[user:password@]host[:port]`
    /// (plain), `smtp://…?tls=required` (STARTTLS, port 587 by default) or `smtps://…`
    /// (implicit TLS, port 465 by default). Without it, activation links are returned to
    /// the caller.
    #[arg(
        long,
        env = "CLIENTELE_SMTP_URL",
        hide_env_values = true,
        global = true
    )]
    pub smtp_url: Option<SecretString>,
    /// The sender of activation emails.
    #[arg(
        long,
        env = "CLIENTELE_SMTP_FROM",
        default_value = "clientele@localhost.localdomain",
        global = true
    )]
    pub smtp_from: String,
    /// A folder of tenants' own mail templates: `<tenant>/<kind>.<lang>.txt` or
    /// `<tenant>/<kind>.txt` override the built-in ones.
    #[arg(long, env = "CLIENTELE_MAIL_TEMPLATES_DIR", global = true)]
    pub mail_templates_dir: Option<std::path::PathBuf>,
    /// How long an activation token lives, in hours.
    #[arg(
        long,
        env = "CLIENTELE_ACTIVATION_TTL_HOURS",
        default_value_t = 24,
        global = true
    )]
    pub activation_ttl_hours: i64,
}

impl Settings {
    /// Settings as if no flag or variable were given (used by tests, then adjusted).
    pub fn defaults() -> Self {
        Cli::parse_from(["clientele"]).settings
    }

    /// The store URL: DATABASE_URL, or the SQLite file in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.expose_secret().to_string(),
            None => format!("sqlite://{}", self.data_dir.join("clientele.db").display()),
        }
    }

    pub fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            url: self.database_url(),
            max_connections: self.db_max_connections,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}
