//! Webhook latency: one endpoint on a receiver inside the bench, customers created at a
//! steady rate; the latency of a delivery is the time from the event's `timestamp` (its
//! `occurredAt`, stamped in the command before its commit) to the receiver reading it.
//! The receiver is plain HTTP/1.1 over a TCP listener (keep-alive, `Content-Length`
//! bodies), answering 204; the signature is not checked here (the e2e tests do).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::drive::histogram;
use super::http::{self, Conn, Target, Template, HOLE};

/// Each request's arrival and JSON body.
type Arrivals = Arc<Mutex<Vec<(chrono::DateTime<chrono::Utc>, Value)>>>;

/// What one webhook-latency run measured.
#[derive(Clone, Copy, Debug)]
pub struct WebhookLatency {
    pub writes: usize,
    pub delivered: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// Registers an endpoint on a local receiver through `writer`, then `writes` creates
/// `gap` apart. The server must allow private addresses (`CLIENTELE_WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`).
pub async fn webhook_latency(
    writer: &Arc<Target>,
    writes: usize,
    gap: Duration,
) -> anyhow::Result<WebhookLatency> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let arrivals: Arrivals = Arc::default();
    let receiver = tokio::spawn(receive(listener, arrivals.clone()));

    let mut conn = Conn::open(writer).await?;
    let register = Template::graphql(
        "mutation($url: String!) { registerWebhookEndpoint(input: { url: $url, eventTypes: [\"CustomerCreated\"] }) { endpoint { id } } }",
        json!({ "url": format!("http://127.0.0.1:{port}/hook") }),
    );
    let answer = http::call(&mut conn, &register, &[]).await?;
    anyhow::ensure!(
        http::string_field(&answer, "id").is_some(),
        "registerWebhookEndpoint failed: {}",
        String::from_utf8_lossy(&answer)
    );
    let create = Template::graphql(
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }",
        json!({ "input": { "name": format!("hooked {HOLE}") } }),
    );
    let tag = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..writes {
        http::call(&mut conn, &create, &[&format!("{tag} {i}")]).await?;
        tokio::time::sleep(gap).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while arrivals.lock().expect("not poisoned").len() < writes
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    receiver.abort();
    let mut lags = histogram();
    for (arrived, body) in arrivals.lock().expect("not poisoned").iter() {
        let Some(at) = body["timestamp"].as_str() else {
            continue;
        };
        let at = chrono::DateTime::parse_from_rfc3339(at)?.with_timezone(&chrono::Utc);
        let micros = (*arrived - at).num_microseconds().unwrap_or(0);
        lags.saturating_record(micros.max(1) as u64);
    }
    Ok(WebhookLatency {
        writes,
        delivered: lags.len(),
        p50_ms: lags.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: lags.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

/// Accepts connections and records every request's arrival and JSON body.
async fn receive(listener: TcpListener, arrivals: Arrivals) {
    while let Ok((stream, _)) = listener.accept().await {
        let arrivals = arrivals.clone();
        tokio::spawn(async move {
            let (read, mut write) = stream.into_split();
            let mut read = BufReader::new(read);
            loop {
                let mut length = 0usize;
                let mut line = String::new();
                loop {
                    line.clear();
                    match read.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some((name, value)) = line.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().unwrap_or(0);
                        }
                    }
                }
                let mut body = vec![0; length];
                if read.read_exact(&mut body).await.is_err() {
                    return;
                }
                let arrived = chrono::Utc::now();
                let value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                arrivals
                    .lock()
                    .expect("not poisoned")
                    .push((arrived, value));
                if write
                    .write_all(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
    }
}
