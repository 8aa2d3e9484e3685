//! The operation tasks: each operation of a connection runs in a task of its own and hands
//! what it produces to the connection through a bounded queue.

use async_graphql::Value;
use clientele_graphql::ClienteleSchema;
use futures::StreamExt;
use tokio::sync::mpsc;

use crate::telemetry::Gauged;

/// What an operation task hands to its connection.
pub(super) enum Outgoing {
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

/// Runs one operation (usually a subscription; a query or mutation yields one result).
/// `generation` tells the connection this operation from a later one under the same id.
pub(super) async fn run_operation(
    schema: ClienteleSchema,
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
