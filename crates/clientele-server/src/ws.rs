//! GraphQL over WebSocket at /graphql/ws: the `graphql-transport-ws` protocol (graphql-ws,
//! PROTOCOL.md) and the legacy `graphql-ws` subprotocol of Apollo's
//! subscriptions-transport-ws.
//!
//! Written here rather than taken from async-graphql-axum, whose handler does not close
//! with the codes the protocol requires (no connection_init timeout, a duplicate id
//! silently replaces the first subscription, wrong codes for malformed messages).
//!
//! One task per connection owns the socket and the table of running subscriptions; each
//! subscription runs in its own task and hands its messages to the connection through a
//! bounded queue. The connection task alone adds and removes table entries and writes
//! `complete`, so a client that reuses an id right after `complete` is never refused.

use std::collections::HashMap;
use std::time::Duration;

use async_graphql::Value;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use clientele_graphql::RequestContext;
use futures::StreamExt;
use serde_json::json;
use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;
use tracing::Instrument;

use crate::routes::{bearer, sign_in, AppState};

/// What the WebSocket endpoint needs besides the schema.
#[derive(Clone)]
pub struct WsSettings {
    pub init_timeout: Duration,
    pub max_subscriptions: usize,
    pub max_message_bytes: usize,
    /// Raised when the service shuts down.
    pub closing: watch::Receiver<bool>,
    /// Held by every open connection: shutdown waits until all are dropped.
    pub connections: mpsc::Sender<()>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Protocol {
    /// `graphql-transport-ws` (graphql-ws).
    Transport,
    /// `graphql-ws` (subscriptions-transport-ws, legacy).
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Transport => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }
}

/// GET /graphql/ws: upgrades to one of the two subprotocols, or refuses with 400.
pub async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let offered: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
        .collect();
    let protocol = if offered.iter().any(|p| p == Protocol::Transport.name()) {
        Protocol::Transport
    } else if offered.iter().any(|p| p == Protocol::Legacy.name()) {
        Protocol::Legacy
    } else {
        return (
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol must offer graphql-transport-ws (or the legacy graphql-ws)",
        )
            .into_response();
    };
    let header_token = bearer(&headers).map(str::to_string);
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    upgrade
        .protocols([protocol.name()])
        .max_message_size(state.ws.max_message_bytes)
        // tungstenite's 128 KiB default read buffer, per connection, is most of what an idle
        // subscriber costs; messages here are small.
        .read_buffer_size(4 << 10)
        .write_buffer_size(0)
        .on_upgrade(move |socket| {
            // The connection outlives the upgrade request: it logs in a span of its own.
            let span = tracing::info_span!("websocket", request_id = %request_id);
            async move {
                let connection = Connection {
                    protocol,
                    state,
                    header_token,
                    request_id,
                    me: None,
                    init_received: false,
                    subscriptions: HashMap::new(),
                    generation: 0,
                };
                connection.run(socket).await;
            }
            .instrument(span)
        })
}

/// What a subscription task hands to its connection.
enum Outgoing {
    /// A `next` (`data`) message.
    Next { id: String, payload: String },
    /// The operation failed before it produced anything: `error`, and no `complete`.
    Error {
        id: String,
        generation: u64,
        errors: serde_json::Value,
    },
    /// The stream ended: `complete`.
    Complete { id: String, generation: u64 },
}

/// Why the connection ends.
struct Close(u16, &'static str);

struct Connection {
    protocol: Protocol,
    state: AppState,
    header_token: Option<String>,
    request_id: String,
    me: Option<RequestContext>,
    init_received: bool,
    /// Running subscriptions by client id, with the generation that tells a finished
    /// subscription from a newer one under the same id.
    subscriptions: HashMap<String, (u64, AbortHandle)>,
    generation: u64,
}

/// Keep-alive interval of the legacy protocol (`ka`).
const KEEP_ALIVE: Duration = Duration::from_secs(20);
/// Messages a connection queues from its subscriptions before they wait for the socket.
const QUEUE: usize = 64;

impl Connection {
    async fn run(mut self, mut socket: WebSocket) {
        let _alive = self.state.ws.connections.clone();
        let _gauge = Gauged::new("clientele_websocket_connections");
        let mut closing = self.state.ws.closing.clone();
        let (outgoing, mut queue) = mpsc::channel::<Outgoing>(QUEUE);
        let init_timeout = tokio::time::sleep(self.state.ws.init_timeout);
        tokio::pin!(init_timeout);
        let mut expiry = Box::pin(tokio::time::sleep(Duration::from_secs(u32::MAX as u64)));
        let mut keep_alive =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
        let close = loop {
            tokio::select! {
                _ = &mut init_timeout, if !self.init_received => {
                    break Some(Close(4408, "Connection initialisation timeout"));
                }
                _ = &mut expiry, if self.me.is_some() => {
                    break Some(Close(4403, "Forbidden: the token expired"));
                }
                _ = keep_alive.tick(), if self.protocol == Protocol::Legacy && self.me.is_some() => {
                    if send(&mut socket, json!({"type": "ka"})).await.is_err() {
                        break None;
                    }
                }
                incoming = socket.recv() => {
                    let text = match incoming {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Binary(_))) => break Some(Close(4400, "Binary messages are not supported")),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    };
                    match self.receive(&mut socket, text.as_str(), &outgoing).await {
                        Ok(Some(expires)) => {
                            let left = (expires - chrono::Utc::now()).to_std().unwrap_or_default();
                            expiry.as_mut().reset(tokio::time::Instant::now() + left);
                        }
                        Ok(None) => {}
                        Err(close) => break close,
                    }
                }
                Some(message) = queue.recv() => {
                    if self.deliver(&mut socket, message).await.is_err() {
                        break None;
                    }
                }
                _ = async { let _ = closing.wait_for(|closing| *closing).await; } => {
                    // Shutdown: every open operation completes, then the socket closes.
                    let ids: Vec<String> = self.subscriptions.keys().cloned().collect();
                    for id in ids {
                        if let Some((_, task)) = self.subscriptions.remove(&id) {
                            task.abort();
                        }
                        let _ = send(&mut socket, json!({"id": id, "type": "complete"})).await;
                    }
                    break Some(Close(1001, "The server is shutting down"));
                }
            }
        };
        for (_, (_, task)) in self.subscriptions.drain() {
            task.abort();
        }
        if let Some(Close(code, reason)) = close {
            let frame = CloseFrame {
                code,
                reason: reason.into(),
            };
            let _ = socket.send(Message::Close(Some(frame))).await;
        }
    }

    /// Handles one client message. Returns the principal's token expiry after a
    /// successful `connection_init`, or how the connection must close.
    async fn receive(
        &mut self,
        socket: &mut WebSocket,
        text: &str,
        outgoing: &mpsc::Sender<Outgoing>,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, Option<Close>> {
        let invalid = || Some(Close(4400, "Invalid message received"));
        let message: serde_json::Value = serde_json::from_str(text).map_err(|_| invalid())?;
        let kind = message
            .get("type")
            .and_then(|t| t.as_str())
            .ok_or_else(invalid)?;
        let legacy = self.protocol == Protocol::Legacy;
        match (kind, legacy) {
            ("connection_init", _) => {
                if self.init_received {
                    return Err(Some(Close(4429, "Too many initialisation requests")));
                }
                self.init_received = true;
                let token = init_token(message.get("payload")).or(self.header_token.clone());
                match sign_in(&self.state, token.as_deref(), &self.request_id).await {
                    Ok(me) => {
                        let expires = me.expires_at;
                        self.me = Some(me);
                        send(socket, json!({"type": "connection_ack"}))
                            .await
                            .map_err(|_| None)?;
                        if legacy {
                            send(socket, json!({"type": "ka"}))
                                .await
                                .map_err(|_| None)?;
                        }
                        Ok(Some(expires))
                    }
                    Err(reason) => {
                        if legacy {
                            let _ = send(
                                socket,
                                json!({"type": "connection_error", "payload": {"message": reason}}),
                            )
                            .await;
                        }
                        Err(Some(Close(4403, "Forbidden")))
                    }
                }
            }
            ("ping", false) => {
                let mut pong = json!({"type": "pong"});
                if let Some(payload) = message.get("payload") {
                    pong["payload"] = payload.clone();
                }
                send(socket, pong).await.map_err(|_| None)?;
                Ok(None)
            }
            ("pong", false) => Ok(None),
            ("subscribe", false) | ("start", true) => {
                let Some(me) = self.me.clone() else {
                    return Err(Some(Close(4401, "Unauthorized")));
                };
                let id = message
                    .get("id")
                    .and_then(|id| id.as_str())
                    .filter(|id| !id.is_empty())
                    .ok_or_else(invalid)?
                    .to_string();
                let request: async_graphql::Request = message
                    .get("payload")
                    .cloned()
                    .and_then(|payload| serde_json::from_value(payload).ok())
                    .ok_or_else(invalid)?;
                if self.subscriptions.contains_key(&id) {
                    if legacy {
                        // The legacy protocol has no code for it; the old operation stops.
                        if let Some((_, task)) = self.subscriptions.remove(&id) {
                            task.abort();
                        }
                    } else {
                        return Err(Some(Close(4409, "Subscriber for this id already exists")));
                    }
                }
                if self.subscriptions.len() >= self.state.ws.max_subscriptions {
                    let error = json!([{
                        "message": format!(
                            "at most {} subscriptions may be open on one connection",
                            self.state.ws.max_subscriptions
                        ),
                        "extensions": {"code": "LIMIT_EXCEEDED"},
                    }]);
                    send(socket, json!({"id": id, "type": "error", "payload": error}))
                        .await
                        .map_err(|_| None)?;
                    return Ok(None);
                }
                self.generation += 1;
                let generation = self.generation;
                let task = tokio::spawn(
                    run_operation(
                        self.state.schema.clone(),
                        request.data(me),
                        id.clone(),
                        generation,
                        outgoing.clone(),
                    )
                    .in_current_span(),
                );
                self.subscriptions
                    .insert(id, (generation, task.abort_handle()));
                Ok(None)
            }
            ("complete", false) | ("stop", true) => {
                let id = message
                    .get("id")
                    .and_then(|id| id.as_str())
                    .ok_or_else(invalid)?;
                if let Some((_, task)) = self.subscriptions.remove(id) {
                    task.abort();
                }
                Ok(None)
            }
            ("connection_terminate", true) => Err(Some(Close(1000, "Terminated"))),
            _ => Err(invalid()),
        }
    }

    /// Writes what a subscription task produced, keeping the table in step.
    async fn deliver(&mut self, socket: &mut WebSocket, message: Outgoing) -> Result<(), ()> {
        let legacy = self.protocol == Protocol::Legacy;
        let current = |subs: &HashMap<String, (u64, AbortHandle)>, id: &str, generation: u64| {
            subs.get(id).is_some_and(|(g, _)| *g == generation)
        };
        match message {
            Outgoing::Next { id, payload } => {
                if !self.subscriptions.contains_key(&id) {
                    return Ok(()); // stopped by the client meanwhile
                }
                let kind = if legacy { "data" } else { "next" };
                // The payload is already JSON: spliced in rather than parsed again.
                let text = format!(
                    r#"{{"id":{},"type":"{kind}","payload":{payload}}}"#,
                    serde_json::Value::String(id)
                );
                socket
                    .send(Message::Text(text.into()))
                    .await
                    .map_err(|_| ())
            }
            Outgoing::Error {
                id,
                generation,
                errors,
            } => {
                if !current(&self.subscriptions, &id, generation) {
                    return Ok(());
                }
                self.subscriptions.remove(&id);
                send(
                    socket,
                    json!({"id": id, "type": "error", "payload": errors}),
                )
                .await
            }
            Outgoing::Complete { id, generation } => {
                if !current(&self.subscriptions, &id, generation) {
                    return Ok(());
                }
                self.subscriptions.remove(&id);
                send(socket, json!({"id": id, "type": "complete"})).await
            }
        }
    }
}

/// One up on a gauge for as long as it lives (a task aborted mid-way drops it too).
struct Gauged(&'static str);

impl Gauged {
    fn new(name: &'static str) -> Gauged {
        metrics::gauge!(name).increment(1.0);
        Gauged(name)
    }
}

impl Drop for Gauged {
    fn drop(&mut self) {
        metrics::gauge!(self.0).decrement(1.0);
    }
}

/// Runs one operation (usually a subscription; a query or mutation yields one result).
async fn run_operation(
    schema: clientele_graphql::ClienteleSchema,
    request: async_graphql::Request,
    id: String,
    generation: u64,
    outgoing: mpsc::Sender<Outgoing>,
) {
    let _gauge = Gauged::new("clientele_subscriptions");
    let mut stream = std::pin::pin!(schema.execute_stream(request));
    let mut first = true;
    while let Some(response) = stream.next().await {
        if first && response.data == Value::Null && !response.errors.is_empty() {
            // Refused before it produced anything (validation, a guard, a bad argument).
            let errors = serde_json::to_value(&response.errors).unwrap_or_default();
            let _ = outgoing
                .send(Outgoing::Error {
                    id,
                    generation,
                    errors,
                })
                .await;
            return;
        }
        first = false;
        let payload = serde_json::to_string(&response).expect("responses serialise");
        let next = Outgoing::Next {
            id: id.clone(),
            payload,
        };
        if outgoing.send(next).await.is_err() {
            return;
        }
    }
    let _ = outgoing.send(Outgoing::Complete { id, generation }).await;
}

/// The token a client put in `connection_init`: `{token}`, `{authToken}` or
/// `{Authorization: "Bearer …"}`.
fn init_token(payload: Option<&serde_json::Value>) -> Option<String> {
    let payload = payload?;
    for key in ["token", "authToken", "Authorization", "authorization"] {
        if let Some(value) = payload.get(key).and_then(|v| v.as_str()) {
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .unwrap_or(value)
                .trim();
            return Some(token.to_string());
        }
    }
    None
}

async fn send(socket: &mut WebSocket, message: serde_json::Value) -> Result<(), ()> {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .map_err(|_| ())
}
