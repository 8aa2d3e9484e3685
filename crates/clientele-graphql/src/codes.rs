//! A code for every error, also for those async-graphql makes itself: a document that does
//! not parse is `GRAPHQL_PARSE_FAILED`, one that does not validate
//! `GRAPHQL_VALIDATION_FAILED`, and a value that does not fit its argument's type (in a
//! literal or a variable, found by validation or when the argument is read) is
//! `BAD_USER_INPUT` naming the argument. The extension sits where HTTP and WebSocket
//! requests both pass, and inside `observe`, so the metrics count the codes clients see.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextRequest, NextSubscribe,
    NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, Response, ServerError, ServerResult, ValidationResult, Value, Variables};
use futures::stream::BoxStream;
use futures::StreamExt;

/// A document that does not parse.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// A document that does not validate against the schema, or names no operation to run.
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

/// Gives every error without `extensions.code` the code of the step that refused it.
pub struct Codes;

impl ExtensionFactory for Codes {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CodesExtension::default())
    }
}

/// One request's coder: it notes where each argument's value is written, to name the
/// argument of an error async-graphql raises when it reads the value.
#[derive(Default)]
struct CodesExtension {
    arguments: Arc<Mutex<Vec<(Pos, String)>>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for CodesExtension {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let mut response = next.run(ctx).await;
        let arguments = self.arguments.lock().expect("not poisoned");
        for error in &mut response.errors {
            late(error, &arguments);
        }
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let arguments = self.arguments.clone();
        next.run(ctx, stream)
            .map(move |mut response| {
                let arguments = arguments.lock().expect("not poisoned");
                for error in &mut response.errors {
                    late(error, &arguments);
                }
                response
            })
            .boxed()
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        match next.run(ctx, query, variables).await {
            Ok(document) => {
                let mut arguments = Vec::new();
                for (_, operation) in document.operations.iter() {
                    note_arguments(&operation.node.selection_set.node, &mut arguments);
                }
                for fragment in document.fragments.values() {
                    note_arguments(&fragment.node.selection_set.node, &mut arguments);
                }
                *self.arguments.lock().expect("not poisoned") = arguments;
                Ok(document)
            }
            Err(mut error) => {
                if !has_code(&error) {
                    // async-graphql's nesting limits are checked while parsing.
                    let code = if error.message.contains("recursion") {
                        "LIMIT_EXCEEDED"
                    } else {
                        PARSE_FAILED
                    };
                    set(&mut error, "code", code);
                }
                Err(error)
            }
        }
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for error in &mut errors {
                invalid(error);
            }
            errors
        })
    }
}

fn has_code(error: &ServerError) -> bool {
    error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some())
}

fn set(error: &mut ServerError, key: &str, value: impl Into<Value>) {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set(key, value);
}

/// `BAD_USER_INPUT`, with the argument (`filter.type`) when it is known, as a violated
/// `FORMAT` rule like any other refused input.
fn bad_input(error: &mut ServerError, field: Option<String>) {
    set(error, "code", "BAD_USER_INPUT");
    if let Some(field) = field {
        let mut violation = async_graphql::indexmap::IndexMap::new();
        violation.insert(
            async_graphql::Name::new("field"),
            Value::from(field.clone()),
        );
        violation.insert(async_graphql::Name::new("rule"), Value::from("FORMAT"));
        violation.insert(
            async_graphql::Name::new("message"),
            Value::from(error.message.clone()),
        );
        set(error, "field", field);
        set(error, "rule", "FORMAT");
        set(
            error,
            "violations",
            Value::List(vec![Value::Object(violation)]),
        );
    }
}

/// Codes an error of validation: a value that does not fit its argument is bad input;
/// the complexity limit is a limit; anything else is an invalid document.
fn invalid(error: &mut ServerError) {
    if has_code(error) {
        return;
    }
    if let Some(rest) = error.message.strip_prefix("Invalid value for argument \"") {
        // `Invalid value for argument "filter.type", enumeration type …`
        let field = rest.split('"').next().map(str::to_string);
        bad_input(error, field);
    } else if error.message == "Query is too complex."
        || error.message == "Query is nested too deep."
    {
        set(error, "code", "LIMIT_EXCEEDED");
    } else {
        set(error, "code", VALIDATION_FAILED);
    }
}

/// Codes an error found after validation: reading an argument's value failed (bad input,
/// named by where the value is written), no operation could be chosen (an invalid
/// document), or a resolver failed without a code (ours, so `INTERNAL`).
fn late(error: &mut ServerError, arguments: &[(Pos, String)]) {
    if has_code(error) {
        return;
    }
    let message = error.message.as_str();
    // `Expected input type "DateTime", found 7.`: a variable of a custom scalar or an
    // input object type that holds another kind of value (found by the fuzz test).
    let unread = message.starts_with("Failed to parse")
        || message.starts_with("Expected input type ")
        || (message.starts_with("Variable ") && message.ends_with(" is not defined."));
    if unread {
        let field = error.locations.first().and_then(|at| {
            arguments
                .iter()
                .find(|(pos, _)| pos == at)
                .map(|(_, name)| name.clone())
        });
        bad_input(error, field);
    } else if error.path.is_empty() {
        set(error, "code", VALIDATION_FAILED);
    } else {
        tracing::error!(message = %error.message, "an error without a code");
        set(error, "code", "INTERNAL");
    }
}

/// Where each field argument's value is written, with the argument's name.
fn note_arguments(set: &SelectionSet, arguments: &mut Vec<(Pos, String)>) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                for (name, value) in &field.node.arguments {
                    arguments.push((value.pos, name.node.to_string()));
                }
                note_arguments(&field.node.selection_set.node, arguments);
            }
            Selection::InlineFragment(fragment) => {
                note_arguments(&fragment.node.selection_set.node, arguments);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}
