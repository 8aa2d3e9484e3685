//! A GraphQL-over-WebSocket client for tests: a real WebSocket to the app's /graphql/ws.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The subprotocol of graphql-ws (the current protocol).
pub const TRANSPORT: &str = "graphql-transport-ws";
/// The subprotocol of Apollo's subscriptions-transport-ws (legacy).
pub const LEGACY: &str = "graphql-ws";

/// How long a test waits for one message before it fails.
const WAIT: Duration = Duration::from_secs(20);

pub struct WsClient {
    socket: WebSocketStream<TcpStream>,
}

/// What the server did instead of sending a message.
#[derive(Debug, PartialEq)]
pub enum Received {
    Message(Value),
    Closed(Option<u16>, String),
}

impl WsClient {
    /// Opens a WebSocket to `address` (http://host:port) with `protocol`.
    pub async fn connect(address: &str, protocol: &str) -> WsClient {
        Self::connect_with(address, protocol, None).await
    }

    /// As `connect`; `receive_buffer` shrinks the socket's receive buffer (a slow reader
    /// then pushes back on the server after a few messages).
    pub async fn connect_with(
        address: &str,
        protocol: &str,
        receive_buffer: Option<u32>,
    ) -> WsClient {
        let host = address.trim_start_matches("http://");
        let socket = TcpSocket::new_v4().expect("a socket");
        if let Some(size) = receive_buffer {
            socket.set_recv_buffer_size(size).expect("buffer size");
        }
        let stream = socket
            .connect(host.parse().expect("an address"))
            .await
            .expect("connects");
        let mut request = format!("ws://{host}/graphql/ws")
            .into_client_request()
            .expect("a request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            protocol.parse().expect("a header"),
        );
        let (socket, response) = tokio_tungstenite::client_async(request, stream)
            .await
            .expect("the handshake succeeds");
        assert_eq!(
            response.headers()["sec-websocket-protocol"],
            protocol,
            "the server speaks the offered subprotocol"
        );
        WsClient { socket }
    }

    /// Connects with graphql-transport-ws and signs in with `token` in connection_init.
    pub async fn signed_in(address: &str, token: &str) -> WsClient {
        let mut client = Self::connect(address, TRANSPORT).await;
        client
            .send(json!({"type": "connection_init", "payload": {"token": token}}))
            .await;
        assert_eq!(client.recv().await["type"], "connection_ack");
        client
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("the message is sent");
    }

    /// Starts an operation under `id` (graphql-transport-ws).
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        self.send(json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))
            .await;
    }

    /// The next message or close, skipping keep-alives and pings.
    pub async fn receive(&mut self) -> Received {
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message within the wait");
            match frame {
                None | Some(Err(_)) => return Received::Closed(None, String::new()),
                Some(Ok(Message::Text(text))) => {
                    let value: Value = serde_json::from_str(&text).expect("JSON");
                    if value["type"] == "ka" {
                        continue;
                    }
                    return Received::Message(value);
                }
                Some(Ok(Message::Close(frame))) => {
                    return match frame {
                        Some(frame) => {
                            Received::Closed(Some(u16::from(frame.code)), frame.reason.to_string())
                        }
                        None => Received::Closed(None, String::new()),
                    }
                }
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next message; fails the test on a close.
    pub async fn recv(&mut self) -> Value {
        match self.receive().await {
            Received::Message(value) => value,
            closed => panic!("expected a message, the connection closed: {closed:?}"),
        }
    }

    /// The next `next` payload's data field `field` for operation `id`.
    pub async fn next_data(&mut self, id: &str, field: &str) -> Value {
        let message = self.recv().await;
        assert_eq!(message["id"], id, "{message}");
        assert_eq!(message["type"], "next", "{message}");
        assert!(message["payload"].get("errors").is_none(), "{message}");
        message["payload"]["data"][field].clone()
    }

    /// The close code the server ends the connection with.
    pub async fn closed_with(&mut self) -> Option<u16> {
        loop {
            if let Received::Closed(code, _) = self.receive().await {
                return code;
            }
        }
    }

    /// Asserts nothing arrives within `quiet`.
    pub async fn assert_silent(&mut self, quiet: Duration) {
        if let Ok(frame) = tokio::time::timeout(quiet, self.socket.next()).await {
            panic!("expected silence, got {frame:?}");
        }
    }

    /// Closes the connection normally.
    pub async fn close(mut self) {
        let _ = self
            .socket
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "".into(),
            }))
            .await;
    }
}
