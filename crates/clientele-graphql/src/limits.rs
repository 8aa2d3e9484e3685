//! Abuse limits: a cap on aliases per document, and on nesting depth (one limit for data,
//! a higher one for introspection, whose standard query from graphql-js nests 13 levels).

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult, Variables};

/// Most aliases one document may use (each alias can repeat an expensive field).
pub const MAX_ALIASES: usize = 30;
/// Deepest nesting of a query that reads data.
pub const MAX_DEPTH: usize = 12;
/// Deepest nesting of a query that introspects the schema (`__schema`, `__type`).
pub const MAX_INTROSPECTION_DEPTH: usize = 15;

/// Refuses documents with more than `MAX_ALIASES` aliases.
pub struct AliasLimit;

impl ExtensionFactory for AliasLimit {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(AliasLimitExtension)
    }
}

struct AliasLimitExtension;

fn count(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + count(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => count(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// How deep a selection set nests, following fragment spreads (a cyclic spread, which
/// validation refuses later, stops at `cap`).
fn depth(set: &SelectionSet, document: &ExecutableDocument, cap: usize) -> usize {
    if cap == 0 {
        return 0;
    }
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => 1 + depth(&field.node.selection_set.node, document, cap - 1),
            Selection::InlineFragment(fragment) => {
                depth(&fragment.node.selection_set.node, document, cap)
            }
            Selection::FragmentSpread(spread) => document
                .fragments
                .get(&spread.node.fragment_name.node)
                .map_or(0, |f| depth(&f.node.selection_set.node, document, cap - 1)),
        })
        .max()
        .unwrap_or(0)
}

/// True when the selection set (or a fragment it spreads) asks for `__schema` or `__type`.
fn introspects(set: &SelectionSet, document: &ExecutableDocument) -> bool {
    set.items.iter().any(|item| match &item.node {
        Selection::Field(field) => matches!(field.node.name.node.as_str(), "__schema" | "__type"),
        Selection::InlineFragment(fragment) => {
            introspects(&fragment.node.selection_set.node, document)
        }
        Selection::FragmentSpread(spread) => document
            .fragments
            .get(&spread.node.fragment_name.node)
            .is_some_and(|f| introspects(&f.node.selection_set.node, document)),
    })
}

/// The limit of the first operation nested deeper than it.
fn too_deep(document: &ExecutableDocument) -> Option<usize> {
    document.operations.iter().find_map(|(_, op)| {
        let set = &op.node.selection_set.node;
        let limit = if introspects(set, document) {
            MAX_INTROSPECTION_DEPTH
        } else {
            MAX_DEPTH
        };
        (depth(set, document, limit + 1) > limit).then_some(limit)
    })
}

fn limit_exceeded(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", "LIMIT_EXCEEDED");
    error.extensions = Some(extensions);
    error
}

fn aliases(document: &ExecutableDocument) -> usize {
    let operations: usize = document
        .operations
        .iter()
        .map(|(_, op)| count(&op.node.selection_set.node))
        .sum();
    let fragments: usize = document
        .fragments
        .values()
        .map(|f| count(&f.node.selection_set.node))
        .sum();
    operations + fragments
}

#[async_graphql::async_trait::async_trait]
impl Extension for AliasLimitExtension {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        let used = aliases(&document);
        if used > MAX_ALIASES {
            return Err(limit_exceeded(format!(
                "the query uses {used} aliases; at most {MAX_ALIASES} are allowed"
            )));
        }
        if let Some(limit) = too_deep(&document) {
            return Err(limit_exceeded(format!(
                "the query is nested too deep: more than {limit} levels"
            )));
        }
        Ok(document)
    }
}
