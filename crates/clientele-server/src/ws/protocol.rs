//! The wire format of both subprotocols: which one a client offers, what a client message
//! means, what the server writes, and the close codes. Nothing here keeps state.

use async_graphql::Request;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::http::{header, HeaderMap};
use serde_json::{json, Value};

use crate::state::strip_bearer;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Protocol {
    /// `graphql-transport-ws` (graphql-ws).
    Transport,
    /// `graphql-ws` (subscriptions-transport-ws, legacy).
    Legacy,
}

impl Protocol {
    pub(super) fn name(self) -> &'static str {
        match self {
            Protocol::Transport => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }

    /// The subprotocol to speak among those the client offers: graphql-transport-ws
    /// first; `None` if it offers neither.
    pub(super) fn offered(headers: &HeaderMap) -> Option<Protocol> {
        let offered: Vec<String> = headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(',').map(|p| p.trim().to_string()))
            .collect();
        [Protocol::Transport, Protocol::Legacy]
            .into_iter()
            .find(|protocol| offered.iter().any(|p| p == protocol.name()))
    }
}

/// Why the connection ends: the close frame's code and reason.
pub(super) struct Close(pub u16, pub &'static str);

impl Close {
    pub(super) const INVALID_MESSAGE: Close = Close(4400, "Invalid message received");
    pub(super) const BINARY: Close = Close(4400, "Binary messages are not supported");
    pub(super) const UNAUTHORIZED: Close = Close(4401, "Unauthorized");
    pub(super) const FORBIDDEN: Close = Close(4403, "Forbidden");
    pub(super) const TOKEN_EXPIRED: Close = Close(4403, "Forbidden: the token expired");
    pub(super) const SESSION_ENDED: Close = Close(4403, "Forbidden: the session has ended");
    pub(super) const INIT_TIMEOUT: Close = Close(4408, "Connection initialisation timeout");
    pub(super) const DUPLICATE_ID: Close = Close(4409, "Subscriber for this id already exists");
    pub(super) const TOO_MANY_INITS: Close = Close(4429, "Too many initialisation requests");
    pub(super) const TERMINATED: Close = Close(1000, "Terminated");
    pub(super) const GOING_AWAY: Close = Close(1001, "The server is shutting down");
}

/// A client message, decoded as far as it can be before the connection's state is asked.
pub(super) enum ClientMessage {
    /// `connection_init`, with the token its payload carries, if any.
    Init { token: Option<String> },
    /// `ping` (graphql-transport-ws), with the payload to echo.
    Ping { payload: Option<Value> },
    /// `pong` (graphql-transport-ws).
    Pong,
    /// `subscribe` (`start` in the legacy protocol).
    Subscribe(Subscribe),
    /// `complete` (`stop` in the legacy protocol).
    Complete { id: String },
    /// `connection_terminate` (legacy).
    Terminate,
}

/// A `subscribe` or `start` message whose id and payload are not read yet: a connection
/// that is not signed in closes with 4401 whatever they hold.
pub(super) struct Subscribe(Value);

impl Subscribe {
    /// The operation's id (a non-empty string) and its request.
    pub(super) fn operation(self) -> Result<(String, Request), Close> {
        let id = self
            .0
            .get("id")
            .and_then(|id| id.as_str())
            .filter(|id| !id.is_empty())
            .ok_or(Close::INVALID_MESSAGE)?
            .to_string();
        let request = self
            .0
            .get("payload")
            .cloned()
            .and_then(|payload| serde_json::from_value(payload).ok())
            .ok_or(Close::INVALID_MESSAGE)?;
        Ok((id, request))
    }
}

/// Reads one text message of `protocol`; a message of the other protocol is invalid.
pub(super) fn parse(text: &str, protocol: Protocol) -> Result<ClientMessage, Close> {
    let message: Value = serde_json::from_str(text).map_err(|_| Close::INVALID_MESSAGE)?;
    let kind = message
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or(Close::INVALID_MESSAGE)?
        .to_string();
    let legacy = protocol == Protocol::Legacy;
    Ok(match (kind.as_str(), legacy) {
        ("connection_init", _) => ClientMessage::Init {
            token: init_token(message.get("payload")),
        },
        ("ping", false) => ClientMessage::Ping {
            payload: message.get("payload").cloned(),
        },
        ("pong", false) => ClientMessage::Pong,
        ("subscribe", false) | ("start", true) => ClientMessage::Subscribe(Subscribe(message)),
        ("complete", false) | ("stop", true) => ClientMessage::Complete {
            id: message
                .get("id")
                .and_then(|id| id.as_str())
                .ok_or(Close::INVALID_MESSAGE)?
                .to_string(),
        },
        ("connection_terminate", true) => ClientMessage::Terminate,
        _ => return Err(Close::INVALID_MESSAGE),
    })
}

/// The token a client put in `connection_init`: `{token}`, `{authToken}` or
/// `{Authorization: "Bearer …"}`.
fn init_token(payload: Option<&Value>) -> Option<String> {
    let payload = payload?;
    for key in ["token", "authToken", "Authorization", "authorization"] {
        if let Some(value) = payload.get(key).and_then(|v| v.as_str()) {
            return Some(strip_bearer(value).unwrap_or(value).trim().to_string());
        }
    }
    None
}

pub(super) fn connection_ack() -> Value {
    json!({"type": "connection_ack"})
}

/// The legacy protocol's keep-alive.
pub(super) fn keep_alive() -> Value {
    json!({"type": "ka"})
}

/// The legacy protocol's answer to a refused `connection_init`, before it closes.
pub(super) fn connection_error(reason: &str) -> Value {
    json!({"type": "connection_error", "payload": {"message": reason}})
}

pub(super) fn pong(payload: Option<Value>) -> Value {
    let mut pong = json!({"type": "pong"});
    if let Some(payload) = payload {
        pong["payload"] = payload;
    }
    pong
}

/// A result of operation `id`: `next` (`data` in the legacy protocol). The payload is
/// already JSON: spliced in rather than parsed again.
pub(super) fn next(protocol: Protocol, id: String, payload: &str) -> String {
    let kind = match protocol {
        Protocol::Transport => "next",
        Protocol::Legacy => "data",
    };
    format!(
        r#"{{"id":{},"type":"{kind}","payload":{payload}}}"#,
        Value::String(id)
    )
}

/// Operation `id` failed before it produced anything (its errors are the payload).
pub(super) fn error(id: &str, errors: Value) -> Value {
    json!({"id": id, "type": "error", "payload": errors})
}

/// Operation `id` is over.
pub(super) fn complete(id: &str) -> Value {
    json!({"id": id, "type": "complete"})
}

pub(super) async fn send(socket: &mut WebSocket, message: Value) -> Result<(), ()> {
    send_text(socket, message.to_string()).await
}

pub(super) async fn send_text(socket: &mut WebSocket, text: String) -> Result<(), ()> {
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|_| ())
}

/// Sends the close frame; the connection is over either way.
pub(super) async fn close(socket: &mut WebSocket, Close(code, reason): Close) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}
