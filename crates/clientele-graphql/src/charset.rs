//! One rule at the edge for every string argument: no NUL and no other control character
//! (Unicode category Cc). PostgreSQL cannot store a NUL in text, SQLite would store it,
//! and no field of ours means to hold a control character. The rule is checked once the
//! document is parsed, on literal arguments and on variable values, nested input objects
//! and lists included, so no resolver runs and nothing is written. Uploads are not
//! arguments: a file's bytes are not checked here. The same walk parses the arguments that
//! are UUIDs (`ids.rs`).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Pos, ServerError, ServerResult, Value, Variables};
use clientele_domain::Rule;

use crate::ApiError;

/// Refuses a control character in any string argument with `BAD_USER_INPUT`, `CHARSET`.
pub struct Charset;

impl ExtensionFactory for Charset {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CharsetExtension)
    }
}

struct CharsetExtension;

#[async_graphql::async_trait::async_trait]
impl Extension for CharsetExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        check_document(&document, variables)?;
        Ok(document)
    }
}

/// The argument (`input.givenName`, `ids.2`) and the rule it broke.
struct Found {
    field: String,
    rule: Rule,
    message: String,
}

fn check_document(document: &ExecutableDocument, variables: &Variables) -> ServerResult<()> {
    let mut checker = Checker { variables };
    for (_, operation) in document.operations.iter() {
        // A default applies when the variable is not given; it is named after the variable.
        for definition in &operation.node.variable_definitions {
            if let Some(default) = &definition.node.default_value {
                let name = definition.node.name.node.as_str();
                checker
                    .constant(&default.node, name.to_string())
                    .map_err(|found| refusal(found, default.pos))?;
            }
        }
        checker.set(&operation.node.selection_set.node)?;
    }
    for fragment in document.fragments.values() {
        checker.set(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

fn refusal(found: Found, pos: Pos) -> ServerError {
    async_graphql::Error::from(ApiError::argument(&found.field, found.rule, found.message))
        .into_server_error(pos)
}

struct Checker<'a> {
    variables: &'a Variables,
}

impl Checker<'_> {
    /// Checks the arguments of every field and directive of a selection set (fragments are
    /// checked where they are defined, once).
    fn set(&mut self, set: &SelectionSet) -> ServerResult<()> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let directives = field.node.directives.iter().map(|d| &d.node.arguments);
                    for arguments in std::iter::once(&field.node.arguments).chain(directives) {
                        for (name, value) in arguments {
                            // The value as the resolver will see it, variables filled in.
                            let resolved = value.node.clone().into_const_with(|variable| {
                                Ok::<_, std::convert::Infallible>(
                                    self.variables.get(&variable).cloned().unwrap_or_default(),
                                )
                            });
                            let Ok(resolved) = resolved;
                            self.constant(&resolved, name.node.to_string())
                                .map_err(|found| refusal(found, value.pos))?;
                        }
                    }
                    self.set(&field.node.selection_set.node)?;
                }
                Selection::InlineFragment(fragment) => {
                    self.set(&fragment.node.selection_set.node)?;
                }
                Selection::FragmentSpread(_) => {}
            }
        }
        Ok(())
    }

    /// A variable's value or a default.
    fn constant(&self, value: &Value, field: String) -> Result<(), Found> {
        match value {
            Value::String(text) => text_ok(text, field),
            Value::List(items) => items
                .iter()
                .enumerate()
                .try_for_each(|(index, item)| self.constant(item, format!("{field}.{index}"))),
            Value::Object(fields) => fields
                .iter()
                .try_for_each(|(name, item)| self.constant(item, format!("{field}.{name}"))),
            _ => Ok(()),
        }
    }
}

fn text_ok(text: &str, field: String) -> Result<(), Found> {
    if let Some(character) = text.chars().find(|c| c.is_control()) {
        let message = format!(
            "{field} may not hold control characters (it holds U+{:04X})",
            character as u32
        );
        return Err(Found {
            field,
            rule: Rule::Charset,
            message,
        });
    }
    match crate::ids::malformed(&field, text) {
        Some((rule, message)) => Err(Found {
            field,
            rule,
            message,
        }),
        None => Ok(()),
    }
}
