//! Metrics of the GraphQL layer: errors by `extensions.code` (over HTTP and WebSocket
//! alike) and the latency of every mutation, that is of every command a client sends.
//! Nothing here runs per field: the mutation is named when the document is parsed and
//! timed as a whole.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextParseQuery, NextRequest,
    NextSubscribe,
};
use async_graphql::parser::types::{
    ExecutableDocument, OperationDefinition, OperationType, Selection,
};
use async_graphql::{Response, ServerError, ServerResult, Value, Variables};
use futures::stream::BoxStream;
use futures::StreamExt;

/// The label of an error without a code. There should be none: `codes` runs inside this
/// extension and gives async-graphql's own parse, validation and input errors theirs
/// (`GRAPHQL_PARSE_FAILED`, `GRAPHQL_VALIDATION_FAILED`, `BAD_USER_INPUT`), so the labels
/// are the codes clients see.
const UNCODED: &str = "INTERNAL";

/// Records `clientele_graphql_errors_total{code}` and `clientele_command_duration_seconds`.
pub struct Observe;

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ObserveRequest::default())
    }
}

/// One request's observer: it notes the mutations its document holds when the document is
/// parsed, and times the one that runs as a whole (nothing is added per field).
#[derive(Default)]
struct ObserveRequest {
    operations: Mutex<Operations>,
}

/// What a parsed document holds.
#[derive(Default)]
struct Operations {
    count: usize,
    /// The mutations: (operation name, root fields).
    mutations: Vec<(Option<String>, String)>,
}

fn count_errors(errors: &[ServerError]) {
    for error in errors {
        let code = match error.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(Value::String(code)) => code.clone(),
            _ => UNCODED.to_string(),
        };
        metrics::counter!("clientele_graphql_errors_total", "code" => code).increment(1);
    }
}

/// The root fields a mutation selects, as one label (`createCustomer`; rarely several).
fn root_fields(operation: &OperationDefinition) -> String {
    let names: Vec<&str> = operation
        .selection_set
        .node
        .items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => field.node.name.node.as_str(),
            _ => "fragment",
        })
        .collect();
    names.join(",")
}

#[async_graphql::async_trait::async_trait]
impl Extension for ObserveRequest {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let response = next.run(ctx).await;
        count_errors(&response.errors);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        next.run(ctx, stream)
            .inspect(|response| count_errors(&response.errors))
            .boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let mut count = 0;
        let mut mutations = Vec::new();
        for (name, operation) in document.operations.iter() {
            count += 1;
            if operation.node.ty == OperationType::Mutation {
                mutations.push((name.map(|n| n.to_string()), root_fields(&operation.node)));
            }
        }
        *self.operations.lock().expect("not poisoned") = Operations { count, mutations };
        Ok(document)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let command = {
            let operations = self.operations.lock().expect("not poisoned");
            match operation_name {
                Some(wanted) => operations
                    .mutations
                    .iter()
                    .find(|(name, _)| name.as_deref() == Some(wanted)),
                None if operations.count == 1 => operations.mutations.first(),
                None => None,
            }
            .map(|(_, fields)| fields.clone())
        };
        let started = Instant::now();
        let response = next.run(ctx, operation_name).await;
        if let Some(command) = command {
            let outcome = if response.errors.is_empty() {
                "ok"
            } else {
                "error"
            };
            metrics::histogram!(
                "clientele_command_duration_seconds",
                "command" => command,
                "outcome" => outcome
            )
            .record(started.elapsed().as_secs_f64());
        }
        response
    }
}
