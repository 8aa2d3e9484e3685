//! Logs and metrics. Logs go through tracing: readable lines on a terminal, JSON with
//! `--log-format json`; every line written while serving a request carries its request id
//! (the `request` span). Metrics are kept by the `metrics` facade and served in the
//! Prometheus text format at `/metrics`.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tracing::Span;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::settings::LogFormat;
use crate::state::{request_id, AppState};

/// The levels logged unless `RUST_LOG` says otherwise.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn,tower_http=info";

/// Installs the global subscriber, writing to standard error.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let _ = tracing::subscriber::set_global_default(subscriber(format, filter, std::io::stderr));
}

/// A subscriber in `format` writing to `writer` (tests capture the output with it).
pub fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        // One object per line: the event's fields at the top level, the request span's
        // fields (request_id, method, path) under "span".
        LogFormat::Json => Box::new(
            builder
                .json()
                .flatten_event(true)
                .with_current_span(true)
                .with_span_list(false)
                .finish(),
        ),
    }
}

/// The span every HTTP request is served in; its `request_id` is the `x-request-id` header
/// (as `state::normalise_request_id` settled it).
pub fn request_span(request: &Request) -> Span {
    tracing::info_span!(
        "request",
        request_id = request_id(request.headers()),
        method = %request.method(),
        path = request.uri().path(),
    )
}

/// The process-wide Prometheus recorder: installed on first use, shared by every
/// application in the process (tests run several).
pub fn metrics_handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let seconds = [
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &seconds)
            .expect("bucket bounds are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics stays empty");
        }
        describe();
        handle
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "clientele_http_requests_total",
        "HTTP requests answered, by method, route and status"
    );
    describe_histogram!(
        "clientele_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request, by method and route"
    );
    describe_counter!(
        "clientele_graphql_errors_total",
        "GraphQL errors sent (HTTP and WebSocket), by extensions.code"
    );
    describe_histogram!(
        "clientele_command_duration_seconds",
        Unit::Seconds,
        "Time to run a mutation (a command), by mutation and outcome"
    );
    describe_counter!(
        "clientele_events_appended_total",
        "Events appended to the log by this instance (committed)"
    );
    describe_gauge!(
        "clientele_projection_lag_events",
        "Committed events not yet applied to the projection (0 for inline projections)"
    );
    describe_gauge!(
        "clientele_websocket_connections",
        "Open WebSocket connections"
    );
    describe_gauge!(
        "clientele_subscriptions",
        "Running subscriptions over all WebSocket connections"
    );
    describe_gauge!(
        "clientele_feed_head_position",
        "Log position the live feed has delivered up to"
    );
    describe_gauge!(
        "clientele_db_pool_connections",
        "Database connections by pool and state (idle, in_use)"
    );
}

/// Counts a GraphQL error answered outside the schema (authentication, malformed body).
pub fn count_error(code: &'static str) {
    metrics::counter!("clientele_graphql_errors_total", "code" => code).increment(1);
}

/// One up on a gauge for as long as it lives (a task aborted mid-way drops it too).
pub(crate) struct Gauged(&'static str);

impl Gauged {
    pub(crate) fn new(name: &'static str) -> Gauged {
        metrics::gauge!(name).increment(1.0);
        Gauged(name)
    }
}

impl Drop for Gauged {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}

/// Counts and times every HTTP request, by its route (never its raw path, which would
/// make one series per URL).
pub async fn track_http(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(
        "clientele_http_request_duration_seconds",
        "method" => method.clone(),
        "route" => route.clone()
    )
    .record(started.elapsed().as_secs_f64());
    metrics::counter!(
        "clientele_http_requests_total",
        "method" => method,
        "route" => route,
        "status" => status
    )
    .increment(1);
    response
}

/// `GET /metrics`: the Prometheus text format. Gauges that are read rather than counted
/// (projection lag, pool usage, feed head) are sampled here.
pub async fn metrics_endpoint(State(state): State<AppState>) -> Response {
    let handle = metrics_handle();
    let db = state.store.db();
    for projection in clientele_store::Projection::ALL {
        if projection.is_inline() {
            // Written in the command's own transaction: it never lags (its checkpoint
            // moves only when it is rebuilt).
            metrics::gauge!("clientele_projection_lag_events", "projection" => projection.name())
                .set(0.0);
            continue;
        }
        match clientele_store::projections::lag(db, projection, 10_000_000).await {
            Ok(lag) => {
                metrics::gauge!("clientele_projection_lag_events", "projection" => projection.name())
                    .set(lag as f64);
            }
            Err(error) => {
                tracing::warn!(projection = projection.name(), %error, "could not read the projection's lag");
            }
        }
    }
    for (pool, size, idle) in db.pool_usage() {
        let in_use = (size as usize).saturating_sub(idle);
        metrics::gauge!("clientele_db_pool_connections", "pool" => pool, "state" => "idle")
            .set(idle as f64);
        metrics::gauge!("clientele_db_pool_connections", "pool" => pool, "state" => "in_use")
            .set(in_use as f64);
    }
    metrics::gauge!("clientele_feed_head_position").set(state.feed.head().position as f64);
    handle.run_upkeep();
    let mut response = (StatusCode::OK, handle.render()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}
