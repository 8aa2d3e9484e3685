//! Running it in production: Prometheus metrics at /metrics, a request id on every log line
//! written while serving a request (and in the events it wrote), and a graceful shutdown
//! that finishes in-flight requests within a bounded time.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clientele_server::settings::LogFormat;
use clientele_server::telemetry;
use clientele_tests::ws::WsClient;
use clientele_tests::{
    fresh_database, on_both_backends, spawn_app, spawn_app_configured, spawn_app_on, Backend,
    TestApp, TestClock, TestDatabase,
};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The value of the first sample of `metric` whose labels include every one of `labels`.
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(metric)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| labels.iter().all(|label| line.contains(label)))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

async fn metrics_text(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    response.text().await.unwrap()
}

async fn metrics_count_what_happened(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(json!({ "name": "metered" })).await;
    let error = app.create_customer_error(json!({ "name": "" })).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let unauthenticated = app
        .post_json(
            None,
            &[],
            &json!({ "query": "{ customers(first: 1) { totalCount } }" }),
        )
        .await;
    assert_eq!(unauthenticated.status(), 401);
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client
        .subscribe(
            "s",
            "subscription { customerCountsByStatus { status count } }",
            json!({}),
        )
        .await;
    let first = client.next_data("s", "customerCountsByStatus").await;
    assert!(first.is_array(), "{first}");

    let text = metrics_text(&app).await;
    // The recorder is process-wide and tests run side by side: counts are at least ours.
    let at_least = |metric: &str, labels: &[&str], floor: f64| {
        let value = sample(&text, metric, labels)
            .unwrap_or_else(|| panic!("{metric} {labels:?} is missing from /metrics:\n{text}"));
        assert!(value >= floor, "{metric} {labels:?} = {value} < {floor}");
    };
    at_least(
        "clientele_http_requests_total",
        &["method=\"POST\"", "route=\"/graphql\"", "status=\"200\""],
        2.0,
    );
    at_least(
        "clientele_http_requests_total",
        &["route=\"/graphql\"", "status=\"401\""],
        1.0,
    );
    at_least(
        "clientele_http_request_duration_seconds_count",
        &["route=\"/graphql\""],
        3.0,
    );
    at_least(
        "clientele_graphql_errors_total",
        &["code=\"BAD_USER_INPUT\""],
        1.0,
    );
    at_least(
        "clientele_graphql_errors_total",
        &["code=\"UNAUTHENTICATED\""],
        1.0,
    );
    at_least(
        "clientele_command_duration_seconds_count",
        &["command=\"createCustomer\"", "outcome=\"ok\""],
        1.0,
    );
    at_least(
        "clientele_command_duration_seconds_count",
        &["command=\"createCustomer\"", "outcome=\"error\""],
        1.0,
    );
    at_least("clientele_events_appended_total", &[], 1.0);
    at_least("clientele_websocket_connections", &[], 1.0);
    at_least("clientele_subscriptions", &[], 1.0);
    at_least(
        "clientele_projection_lag_events",
        &["projection=\"customer_counts\""],
        0.0,
    );
    at_least(
        "clientele_projection_lag_events",
        &["projection=\"customers\""],
        0.0,
    );
    let pool = match backend {
        Backend::Postgres => "pool=\"postgres\"",
        Backend::Sqlite => "pool=\"sqlite_write\"",
    };
    at_least(
        "clientele_db_pool_connections",
        &[pool, "state=\"idle\""],
        0.0,
    );
    at_least(
        "clientele_db_pool_connections",
        &[pool, "state=\"in_use\""],
        0.0,
    );
    assert!(
        text.contains("# TYPE clientele_command_duration_seconds histogram"),
        "latencies are histograms with buckets"
    );
    client.close().await;
    app.stop().await;
}

/// The lag is what the asynchronous projection has not applied yet: it goes back to 0.
async fn projection_lag_returns_to_zero(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..3 {
        app.create_customer(json!({ "name": format!("lagging-{i}") }))
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = metrics_text(&app).await;
        let lag = sample(
            &text,
            "clientele_projection_lag_events",
            &["projection=\"customer_counts\""],
        )
        .expect("the lag of customer_counts is reported");
        if lag == 0.0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "customer_counts still lags by {lag}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.stop().await;
}

/// Log output kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Captured {
    type Writer = Captured;

    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn lines(&self) -> Vec<Value> {
        let bytes = self.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .expect("logs are UTF-8")
            .lines()
            .map(|line| {
                serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
            })
            .collect()
    }
}

/// JSON logs: every line written while serving a request names its request id (the
/// client's `x-request-id`), and the events the request wrote carry the same id.
async fn json_logs_carry_the_request_id(backend: Backend) {
    let captured = Captured::default();
    let filter = tracing_subscriber::EnvFilter::new("info,tower_http=debug,clientele_server=debug");
    let _logging = tracing::subscriber::set_default(telemetry::subscriber(
        LogFormat::Json,
        filter,
        captured.clone(),
    ));
    let app = spawn_app(backend).await;
    let create = json!({
        "query": "mutation { createCustomer(input: { name: \"logged\" }) { id } }"
    });
    let response = app
        .post_json(
            Some(&app.token),
            &[("x-request-id", "req-logged-42")],
            &create,
        )
        .await;
    assert_eq!(response.headers()["x-request-id"], "req-logged-42");
    let body: Value = response.json().await.unwrap();
    let id = body["data"]["createCustomer"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("created: {body}"))
        .to_string();
    // A request without an id gets one made up, logged and echoed the same way.
    let anonymous = app.get("/healthz").await;
    let made_up = anonymous.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(!made_up.is_empty());
    let history = app.history(&id).await;
    assert!(!history.is_empty());
    for event in &history {
        assert_eq!(event["requestId"], "req-logged-42", "{event}");
    }
    app.stop().await;

    let lines = captured.lines();
    let in_requests: Vec<&Value> = lines
        .iter()
        .filter(|line| line["span"]["name"] == "request")
        .collect();
    assert!(
        in_requests
            .iter()
            .any(|line| line["span"]["request_id"] == "req-logged-42"),
        "no line names the request: {lines:#?}"
    );
    assert!(
        in_requests
            .iter()
            .any(|line| line["span"]["request_id"] == made_up.as_str()),
        "the made-up id is not logged: {lines:#?}"
    );
    for line in &lines {
        assert!(
            line["timestamp"].is_string() && line["level"].is_string(),
            "{line}"
        );
        if line["span"]["name"] == "request" {
            let request_id = line["span"]["request_id"].as_str().unwrap_or_default();
            assert!(
                !request_id.is_empty(),
                "a request's line without its id: {line}"
            );
        }
    }
}

#[tokio::test]
async fn json_logs_carry_the_request_id_postgres() {
    // A current-thread runtime: the capturing subscriber is this thread's default, and
    // every task of the app runs on this thread.
    json_logs_carry_the_request_id(Backend::Postgres).await;
}

#[tokio::test]
async fn json_logs_carry_the_request_id_sqlite() {
    json_logs_carry_the_request_id(Backend::Sqlite).await;
}

/// Writes the head of a createCustomer request on a raw connection, holding back the last
/// bytes of its body: the request is in flight until they are sent.
async fn start_request(app: &TestApp, name: &str) -> (tokio::net::TcpStream, Vec<u8>) {
    let body = json!({
        "query": format!("mutation {{ createCustomer(input: {{ name: \"{name}\" }}) {{ id name }} }}")
    })
    .to_string();
    let port = app.address.rsplit(':').next().unwrap();
    let mut stream = tokio::net::TcpStream::connect(format!("127.0.0.1:{port}"))
        .await
        .unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.token,
        body.len()
    );
    let (first, rest) = body.as_bytes().split_at(body.len() - 5);
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    stream.flush().await.unwrap();
    (stream, rest.to_vec())
}

/// Shutdown lets a request that is in flight finish and answers it; what it acknowledged
/// is there after a restart.
async fn shutdown_finishes_in_flight_requests(backend: Backend) {
    let app = spawn_app(backend).await;
    // The server has read the request's head before shutdown begins.
    let (mut stream, rest) = start_request(&app, "in-flight").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = tokio::spawn(app.stop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!stopping.is_finished(), "shutdown waits for the request");
    stream.write_all(&rest).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer))
        .await
        .expect("the answer comes, then the connection closes")
        .unwrap();
    let answer = String::from_utf8(answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"name\":\"in-flight\""), "{answer}");
    let database = tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown ends once the request is answered")
        .unwrap();

    assert_eq!(
        customers_named_after_restart(database, "in-flight").await,
        1
    );
}

/// Restarts the app on `database` and counts the customers whose name contains `text`.
async fn customers_named_after_restart(database: TestDatabase, text: &str) -> i64 {
    let app = spawn_app_on(database).await;
    let found = app
        .ok(
            "query($text: String!) { customers(first: 10, filter: { text: $text }) { totalCount } }",
            json!({ "text": text }),
        )
        .await;
    app.stop().await;
    found["customers"]["totalCount"].as_i64().expect("a count")
}

/// A request that never completes does not hold shutdown past the grace period.
async fn shutdown_is_bounded_by_the_grace_period(backend: Backend) {
    let app = spawn_app_configured(fresh_database(backend).await, TestClock::default(), |s| {
        s.shutdown_grace_secs = 1;
    })
    .await;
    let (stream, _never_sent) = start_request(&app, "stuck").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let began = Instant::now();
    let database = app.stop().await;
    let took = began.elapsed();
    assert!(
        took < Duration::from_secs(4),
        "shutdown took {took:?} with a 1 s grace period"
    );
    drop(stream);
    // Nothing half-done was written.
    assert_eq!(customers_named_after_restart(database, "stuck").await, 0);
}

on_both_backends!(
    metrics_count_what_happened,
    projection_lag_returns_to_zero,
    shutdown_finishes_in_flight_requests,
    shutdown_is_bounded_by_the_grace_period
);
