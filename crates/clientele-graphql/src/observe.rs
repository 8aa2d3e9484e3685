//! Metrics of the GraphQL layer: errors by `extensions.code` (over HTTP and WebSocket
//! alike) and the latency of every mutation, that is of every command a client sends.

use std::sync::Arc;
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextRequest, NextResolve, NextSubscribe,
    ResolveInfo,
};
use async_graphql::{Response, ServerError, ServerResult, Value};
use futures::stream::BoxStream;
use futures::StreamExt;

/// The label of an error without a code: async-graphql's own parse and validation errors
/// (every error our resolvers return carries a code).
const UNCODED: &str = "GRAPHQL_VALIDATION_FAILED";

/// Records `clientele_graphql_errors_total{code}` and `clientele_command_duration_seconds`.
pub struct Observe;

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Observe)
    }
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

#[async_graphql::async_trait::async_trait]
impl Extension for Observe {
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

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.parent_type != "Mutation" || info.path_node.parent.is_some() {
            return next.run(ctx, info).await;
        }
        let command = info.name.to_string();
        let started = Instant::now();
        let result = next.run(ctx, info).await;
        let outcome = if result.is_ok() { "ok" } else { "error" };
        metrics::histogram!(
            "clientele_command_duration_seconds",
            "command" => command,
            "outcome" => outcome
        )
        .record(started.elapsed().as_secs_f64());
        result
    }
}
