//! Subscription fan-out: WebSocket subscribers on one instance while edits are written
//! through another (or the same) at a fixed rate.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use super::documents::edit_template;
use super::drive::{histogram, Cpu, Meter};
use super::http::{self, string_field, Conn, Target};

/// What one fan-out run measured.
#[derive(Clone, Copy, Debug)]
pub struct Fanout {
    pub subscribers: usize,
    pub written: u64,
    pub delivered: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub rss_before: f64,
    pub rss_with_subscribers: f64,
    /// CPU over the writing window (servers: every instance involved).
    pub cpu: Cpu,
}

/// The settings of a fan-out run.
pub struct FanoutRun<'a> {
    pub subscribers: usize,
    pub rate: u64,
    pub secs: u64,
    /// Where the edits are written.
    pub writer: &'a Arc<Target>,
    /// Where the subscribers are (`ws://…/graphql/ws`).
    pub ws_url: String,
    pub token: &'a str,
    /// A different tag per run, so that every edit changes its customer.
    pub tag: &'a str,
}

/// `subscribers` WebSocket subscriptions, each following one customer's edits, while edits
/// are written at `rate` per second round robin over those customers. Latency is the time
/// from the event's `occurredAt` (stamped in the command, before its commit) to its arrival.
pub async fn fanout(
    run: &FanoutRun<'_>,
    meter: &Meter,
    watched: &[String],
    rss: impl Fn() -> f64,
) -> anyhow::Result<Fanout> {
    let rss_before = rss();
    let (done_tx, _) = tokio::sync::broadcast::channel::<()>(1);
    let mut tasks = Vec::new();
    let ready = Arc::new(AtomicUsize::new(0));
    let init = json!({"type": "connection_init", "payload": {"token": run.token}}).to_string();
    let query = "subscription($id: ID!) { customerEvents(filter: { customerId: $id, types: [\"CustomerEdited\"] }) { occurredAt } }";
    for i in 0..run.subscribers {
        let subscribe = json!({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": {"id": watched[i % watched.len()]}}}).to_string();
        let (url, init, ready) = (run.ws_url.clone(), init.clone(), ready.clone());
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
            ready.fetch_add(1, Ordering::Relaxed);
            let mut latencies = histogram();
            loop {
                tokio::select! {
                    _ = done.recv() => break,
                    frame = socket.next() => {
                        let Some(Ok(Message::Text(text))) = frame else { break };
                        let arrived = chrono::Utc::now();
                        // Only the timestamp is needed: find it without parsing the frame.
                        if let Some(at) = string_field(text.as_bytes(), "occurredAt") {
                            let at = chrono::DateTime::parse_from_rfc3339(at)?;
                            let micros = (arrived - at.with_timezone(&chrono::Utc)).num_microseconds().unwrap_or(0);
                            latencies.saturating_record(micros.max(1) as u64);
                        }
                    }
                }
            }
            let _ = socket.close(None).await;
            Ok::<_, anyhow::Error>(latencies)
        }));
    }
    while ready.load(Ordering::Relaxed) < run.subscribers {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // No acknowledgement of a subscribe exists: give the server a moment to register them.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_with = rss();

    let total = (run.rate * run.secs) as usize;
    let interval = Duration::from_secs_f64(1.0 / run.rate as f64);
    // Up to 64 writes in flight, each on a connection of a small pool.
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let pool: Arc<std::sync::Mutex<Vec<Conn>>> = Arc::default();
    let edit = Arc::new(edit_template(&format!("fan {}", run.tag)));
    let mut writes = Vec::with_capacity(total);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mark = meter.mark().await;
    for i in 0..total {
        tick.tick().await;
        let permit = limit.clone().acquire_owned().await?;
        let (pool, edit, writer) = (pool.clone(), edit.clone(), run.writer.clone());
        let id = watched[i % watched.len()].clone();
        writes.push(tokio::spawn(async move {
            let pooled = pool.lock().unwrap().pop();
            let mut conn = match pooled {
                Some(conn) => conn,
                None => Conn::open(&writer).await?,
            };
            http::call(&mut conn, &edit, &[&id, &i]).await?;
            pool.lock().unwrap().push(conn);
            drop(permit);
            Ok::<_, anyhow::Error>(())
        }));
    }
    let mut written = 0;
    for write in writes {
        write.await??;
        written += 1;
    }
    let cpu = meter.since(&mark).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = done_tx.send(());
    let mut all = histogram();
    for task in tasks {
        all.add(task.await??)?;
    }
    if all.len() < written {
        eprintln!("warning: {} of {written} events were delivered", all.len());
    }
    Ok(Fanout {
        subscribers: run.subscribers,
        written,
        delivered: all.len(),
        p50_ms: all.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: all.value_at_quantile(0.99) as f64 / 1000.0,
        rss_before,
        rss_with_subscribers: rss_with,
        cpu,
    })
}
