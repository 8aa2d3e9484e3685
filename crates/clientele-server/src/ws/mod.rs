//! GraphQL over WebSocket at /graphql/ws: the `graphql-transport-ws` protocol (graphql-ws,
//! PROTOCOL.md) and the legacy `graphql-ws` subprotocol of Apollo's
//! subscriptions-transport-ws.
//!
//! Written here rather than taken from async-graphql-axum, whose handler does not close
//! with the codes the protocol requires (no connection_init timeout, a duplicate id
//! silently replaces the first subscription, wrong codes for malformed messages).
//!
//! One task per connection owns the socket and the table of running operations
//! (`connection.rs`); each operation runs in a task of its own (`operation.rs`); the wire
//! format, both subprotocols and their close codes are in `protocol.rs`.

mod connection;
mod operation;
mod protocol;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::state::{bearer, request_id, AppState};
use connection::Connection;
use protocol::Protocol;

/// GET /graphql/ws: upgrades to one of the two subprotocols, or refuses with 400.
pub async fn graphql_ws(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(protocol) = Protocol::offered(&headers) else {
        return (
            StatusCode::BAD_REQUEST,
            "Sec-WebSocket-Protocol must offer graphql-transport-ws (or the legacy graphql-ws)",
        )
            .into_response();
    };
    let header_token = bearer(&headers).map(str::to_string);
    let request_id = request_id(&headers).to_string();
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
            Connection::new(protocol, state, header_token, request_id)
                .run(socket)
                .instrument(span)
        })
}
