//! The connection loop: one task per connection owns the socket and the table of running
//! operations. It alone adds and removes table entries and writes `complete`, so a client
//! that reuses an id right after `complete` is never refused.

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use chrono::{DateTime, Utc};
use clientele_graphql::RequestContext;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tracing::Instrument;

use super::operation::{run_operation, Outgoing};
use super::protocol::{self, ClientMessage, Close, Protocol};
use crate::state::{sign_in, AppState, SESSION_ENDED};
use crate::telemetry::Gauged;

/// Keep-alive interval of the legacy protocol (`ka`).
const KEEP_ALIVE: Duration = Duration::from_secs(20);
/// Messages a connection queues from its operations before they wait for the socket.
const QUEUE: usize = 64;

pub(super) struct Connection {
    protocol: Protocol,
    state: AppState,
    /// The bearer token of the upgrade request, used when `connection_init` carries none.
    header_token: Option<String>,
    request_id: String,
    me: Option<RequestContext>,
    init_received: bool,
    /// Running operations by client id, with the generation that tells a finished
    /// operation from a newer one under the same id.
    subscriptions: HashMap<String, (u64, AbortHandle)>,
    generation: u64,
}

impl Connection {
    pub(super) fn new(
        protocol: Protocol,
        state: AppState,
        header_token: Option<String>,
        request_id: String,
    ) -> Connection {
        Connection {
            protocol,
            state,
            header_token,
            request_id,
            me: None,
            init_received: false,
            subscriptions: HashMap::new(),
            generation: 0,
        }
    }

    pub(super) async fn run(mut self, mut socket: WebSocket) {
        let _alive = self.state.ws.connections.clone();
        let _gauge = Gauged::new("clientele_websocket_connections");
        let mut closing = self.state.ws.closing.clone();
        let (outgoing, mut queue) = mpsc::channel::<Outgoing>(QUEUE);
        let init_timeout = tokio::time::sleep(self.state.ws.init_timeout);
        tokio::pin!(init_timeout);
        let mut expiry = Box::pin(tokio::time::sleep(Duration::from_secs(u32::MAX as u64)));
        let mut keep_alive =
            tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE);
        // Raised whenever this instance learns that sessions ended (its own commits, or any
        // instance's through the live feed): the connection then checks its own again.
        let mut ended = self.state.store.sessions().changes();
        let close = loop {
            tokio::select! {
                _ = async {
                    if ended.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }, if self.me.is_some() => {
                    if self.session_ended() {
                        break Some(Close::SESSION_ENDED);
                    }
                }
                _ = &mut init_timeout, if !self.init_received => {
                    break Some(Close::INIT_TIMEOUT);
                }
                _ = &mut expiry, if self.me.is_some() => {
                    break Some(Close::TOKEN_EXPIRED);
                }
                _ = keep_alive.tick(), if self.protocol == Protocol::Legacy && self.me.is_some() => {
                    if protocol::send(&mut socket, protocol::keep_alive()).await.is_err() {
                        break None;
                    }
                }
                incoming = socket.recv() => {
                    let text = match incoming {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break None,
                        Some(Ok(Message::Text(text))) => text,
                        Some(Ok(Message::Binary(_))) => break Some(Close::BINARY),
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    };
                    match self.receive(&mut socket, text.as_str(), &outgoing).await {
                        Ok(Some(expires)) => {
                            let left = (expires - Utc::now()).to_std().unwrap_or_default();
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
                        self.stop(&id);
                        let _ = protocol::send(&mut socket, protocol::complete(&id)).await;
                    }
                    break Some(Close::GOING_AWAY);
                }
            }
        };
        for (_, (_, task)) in self.subscriptions.drain() {
            task.abort();
        }
        if let Some(close) = close {
            protocol::close(&mut socket, close).await;
        }
    }

    /// Handles one client message. Returns the principal's token expiry after a
    /// successful `connection_init`, or how the connection must close (`None`: the socket
    /// failed, nothing more to send).
    async fn receive(
        &mut self,
        socket: &mut WebSocket,
        text: &str,
        outgoing: &mpsc::Sender<Outgoing>,
    ) -> Result<Option<DateTime<Utc>>, Option<Close>> {
        let legacy = self.protocol == Protocol::Legacy;
        match protocol::parse(text, self.protocol).map_err(Some)? {
            ClientMessage::Init { token } => {
                if self.init_received {
                    return Err(Some(Close::TOO_MANY_INITS));
                }
                self.init_received = true;
                let token = token.or(self.header_token.clone());
                match sign_in(&self.state, token.as_deref(), &self.request_id).await {
                    Ok(me) => {
                        let expires = me.expires_at;
                        self.me = Some(me);
                        protocol::send(socket, protocol::connection_ack())
                            .await
                            .map_err(|_| None)?;
                        if legacy {
                            protocol::send(socket, protocol::keep_alive())
                                .await
                                .map_err(|_| None)?;
                        }
                        Ok(Some(expires))
                    }
                    Err(reason) => {
                        if legacy {
                            let _ =
                                protocol::send(socket, protocol::connection_error(&reason)).await;
                        }
                        Err(Some(Close::FORBIDDEN))
                    }
                }
            }
            ClientMessage::Ping { payload } => {
                protocol::send(socket, protocol::pong(payload))
                    .await
                    .map_err(|_| None)?;
                Ok(None)
            }
            ClientMessage::Pong => Ok(None),
            ClientMessage::Subscribe(subscribe) => {
                let Some(me) = self.me.clone() else {
                    return Err(Some(Close::UNAUTHORIZED));
                };
                let (id, request) = subscribe.operation().map_err(Some)?;
                if self.session_ended() {
                    // Checked on every operation, not only at connection_init.
                    let error = serde_json::json!([{
                        "message": SESSION_ENDED,
                        "extensions": {"code": "UNAUTHENTICATED"},
                    }]);
                    let _ = protocol::send(socket, protocol::error(&id, error)).await;
                    return Err(Some(Close::SESSION_ENDED));
                }
                self.start(socket, id, request.data(me), outgoing).await?;
                Ok(None)
            }
            ClientMessage::Complete { id } => {
                self.stop(&id);
                Ok(None)
            }
            ClientMessage::Terminate => Err(Some(Close::TERMINATED)),
        }
    }

    /// Starts operation `id` in a task of its own, unless the id is taken (graphql-
    /// transport-ws closes; the legacy protocol has no code for it, so the old operation
    /// stops) or the connection runs as many operations as it may (an `error` for the id).
    async fn start(
        &mut self,
        socket: &mut WebSocket,
        id: String,
        request: async_graphql::Request,
        outgoing: &mpsc::Sender<Outgoing>,
    ) -> Result<(), Option<Close>> {
        if self.subscriptions.contains_key(&id) {
            if self.protocol == Protocol::Legacy {
                self.stop(&id);
            } else {
                return Err(Some(Close::DUPLICATE_ID));
            }
        }
        let max = self.state.ws.max_subscriptions;
        if self.subscriptions.len() >= max {
            let error = serde_json::json!([{
                "message": format!("at most {max} subscriptions may be open on one connection"),
                "extensions": {"code": "LIMIT_EXCEEDED"},
            }]);
            return protocol::send(socket, protocol::error(&id, error))
                .await
                .map_err(|_| None);
        }
        self.generation += 1;
        let generation = self.generation;
        let task = tokio::spawn(
            run_operation(
                self.state.schema.clone(),
                request,
                id.clone(),
                generation,
                outgoing.clone(),
            )
            .in_current_span(),
        );
        self.subscriptions
            .insert(id, (generation, task.abort_handle()));
        Ok(())
    }

    /// True when the signed-in principal's session has ended since it signed in.
    fn session_ended(&self) -> bool {
        self.me
            .as_ref()
            .is_some_and(|me| me.session_ended(self.state.store.sessions()))
    }

    /// Stops operation `id`, if it runs.
    fn stop(&mut self, id: &str) {
        if let Some((_, task)) = self.subscriptions.remove(id) {
            task.abort();
        }
    }

    /// Writes what an operation task produced, keeping the table in step.
    async fn deliver(&mut self, socket: &mut WebSocket, message: Outgoing) -> Result<(), ()> {
        match message {
            Outgoing::Next { id, payload } => {
                if !self.subscriptions.contains_key(&id) {
                    return Ok(()); // stopped by the client meanwhile
                }
                let text = protocol::next(self.protocol, id, &payload);
                protocol::send_text(socket, text).await
            }
            Outgoing::Error {
                id,
                generation,
                errors,
            } => {
                let message = protocol::error(&id, errors);
                self.finish(socket, &id, generation, message).await
            }
            Outgoing::Complete { id, generation } => {
                let message = protocol::complete(&id);
                self.finish(socket, &id, generation, message).await
            }
        }
    }

    /// Writes the last message of operation `id` and forgets it, unless the operation that
    /// sent it is no longer the one under that id (stopped, or replaced by a newer one).
    async fn finish(
        &mut self,
        socket: &mut WebSocket,
        id: &str,
        generation: u64,
        message: serde_json::Value,
    ) -> Result<(), ()> {
        let current = self
            .subscriptions
            .get(id)
            .is_some_and(|(current, _)| *current == generation);
        if !current {
            return Ok(());
        }
        self.subscriptions.remove(id);
        protocol::send(socket, message).await
    }
}
