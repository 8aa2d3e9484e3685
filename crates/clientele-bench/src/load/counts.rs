//! Counts lag: `customerCountsByStatus` subscribers while customers are created one by one.
//! The lag of an update is the time from the new customer's `createdAt` (stamped in the
//! command, before its commit, as the fan-out test measures from `occurredAt`) to the
//! arrival of the counts that include it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::drive::histogram;
use super::http::{self, string_field, Conn, Target, Template, HOLE};

/// What one counts-lag run measured.
#[derive(Clone, Copy, Debug)]
pub struct CountsLag {
    pub subscribers: usize,
    pub writes: usize,
    /// Updates that arrived with a total one of the writes made (of subscribers × writes).
    pub delivered: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

/// `subscribers` counts subscriptions on `ws_url`, then `writes` creates through `writer`,
/// `gap` apart so that each has its own update.
pub async fn counts_lag(
    ws_url: &str,
    token: &str,
    writer: &Arc<Target>,
    subscribers: usize,
    writes: usize,
    gap: Duration,
) -> anyhow::Result<CountsLag> {
    let (done_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let ready = Arc::new(AtomicUsize::new(0));
    let init = json!({"type": "connection_init", "payload": {"token": token}}).to_string();
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": "subscription { customerCountsByStatus(filter: { includeTestAccounts: true, includeOwnCompany: true }) { count } }"}}).to_string();
    let mut tasks = Vec::new();
    for _ in 0..subscribers {
        let (url, init, subscribe, ready) = (
            ws_url.to_string(),
            init.clone(),
            subscribe.clone(),
            ready.clone(),
        );
        let mut done = done_tx.subscribe();
        tasks.push(tokio::spawn(async move {
            let mut request = url.into_client_request()?;
            request
                .headers_mut()
                .insert("sec-websocket-protocol", "graphql-transport-ws".parse()?);
            let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
            socket.send(Message::Text(init.into())).await?;
            let _ack = socket.next().await;
            socket.send(Message::Text(subscribe.into())).await?;
            let mut seen = Vec::new();
            let mut first = true;
            loop {
                tokio::select! {
                    _ = done.recv() => break,
                    frame = socket.next() => {
                        let Some(Ok(Message::Text(text))) = frame else { break };
                        let arrived = chrono::Utc::now();
                        let total = total_of(text.as_bytes());
                        if first {
                            first = false;
                            ready.fetch_add(1, Ordering::Relaxed);
                        }
                        seen.push((total, arrived));
                    }
                }
            }
            let _ = socket.close(None).await;
            Ok::<_, anyhow::Error>(seen)
        }));
    }
    while ready.load(Ordering::Relaxed) < subscribers {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    let mut conn = Conn::open(writer).await?;
    let count = Template::graphql(
        "{ customerCountsByStatus(filter: { includeTestAccounts: true, includeOwnCompany: true }) { count } }",
        json!({}),
    );
    let start = total_of(&http::call(&mut conn, &count, &[]).await?);
    let create = Template::graphql(
        "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id createdAt } }",
        json!({ "input": { "name": format!("counted {HOLE}") } }),
    );
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let mut created = Vec::with_capacity(writes);
    for i in 0..writes {
        let body = http::call(&mut conn, &create, &[&format!("{tag} {i}")]).await?;
        let at = string_field(&body, "createdAt")
            .ok_or_else(|| anyhow::anyhow!("createCustomer answered without createdAt"))?;
        created.push(chrono::DateTime::parse_from_rfc3339(at)?.with_timezone(&chrono::Utc));
        tokio::time::sleep(gap).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _ = done_tx.send(());
    let mut lags = histogram();
    for task in tasks {
        for (total, arrived) in task.await?? {
            let Some(k) = total.checked_sub(start + 1) else {
                continue;
            };
            if let Some(at) = created.get(k as usize) {
                let micros = (arrived - *at).num_microseconds().unwrap_or(0);
                lags.saturating_record(micros.max(1) as u64);
            }
        }
    }
    Ok(CountsLag {
        subscribers,
        writes,
        delivered: lags.len(),
        p50_ms: lags.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: lags.value_at_quantile(0.99) as f64 / 1000.0,
    })
}

/// The sum of the counts in an answer or a `next` message.
fn total_of(body: &[u8]) -> i64 {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let data = value
        .pointer("/payload/data/customerCountsByStatus")
        .or_else(|| value.pointer("/data/customerCountsByStatus"));
    data.and_then(Value::as_array)
        .map(|counts| counts.iter().filter_map(|c| c["count"].as_i64()).sum())
        .unwrap_or(-1)
}
