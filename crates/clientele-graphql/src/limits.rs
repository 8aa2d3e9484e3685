//! Abuse limits, checked once the document is parsed (by `documents`, which keeps the
//! documents that passed) and before async-graphql's own checks
//! and validation walk it: a cap on aliases per document, on nesting depth (one limit for
//! data, a higher one for introspection, whose standard query from graphql-js nests 13
//! levels), and on the document's size once its fragments are expanded.
//!
//! async-graphql's recursive-depth check and several validation rules walk a fragment
//! again at every spread, so `fragment F0 { ...F1 ...F1 } fragment F1 { ...F2 ...F2 } …`
//! costs time exponential in its length. Here each fragment is measured once (memoised),
//! so the checks cost time linear in the document, and a document whose expansion is over
//! the budget never reaches the walks that would expand it.

use std::collections::HashMap;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ServerError, ServerResult};

/// Most aliases one document may use (each alias can repeat an expensive field).
pub const MAX_ALIASES: usize = 30;
/// Deepest nesting of a query that reads data.
pub const MAX_DEPTH: usize = 12;
/// Deepest nesting of a query that introspects the schema (`__schema`, `__type`).
pub const MAX_INTROSPECTION_DEPTH: usize = 15;
/// Most selections (fields, fragment spreads and inline fragments) an operation may hold
/// once its fragments are expanded, and a document may write. The complexity limit counts
/// every field of the expansion once, so an operation over this budget would be refused as
/// too complex anyway; twice the complexity limit leaves room for the spreads and
/// `__typename`s of any query that passes it (graphql-js's introspection query expands to
/// about 200).
pub const MAX_SELECTIONS: usize = 2 * crate::MAX_COMPLEXITY;
/// Deepest nesting of selection sets, spreads and inline fragments included: async-graphql's
/// own recursion limit (its default), checked here first so it is refused with a code.
const MAX_NESTING: usize = 32;

/// The first limit the document breaks, as a `LIMIT_EXCEEDED` error.
pub(crate) fn check(document: &ExecutableDocument) -> ServerResult<()> {
    let used = aliases(document);
    if used > MAX_ALIASES {
        return Err(limit_exceeded(format!(
            "the query uses {used} aliases; at most {MAX_ALIASES} are allowed"
        )));
    }
    let mut measurer = Measurer {
        document,
        fragments: HashMap::new(),
        too_nested: false,
        written: 0,
    };
    let mut operations = Vec::new();
    for (_, operation) in document.operations.iter() {
        operations.push(measurer.set(&operation.node.selection_set.node, 0));
    }
    // Fragments no operation spreads are measured too (validation walks them as well).
    let mut largest_fragment = 0;
    for name in document.fragments.keys() {
        largest_fragment = largest_fragment.max(measurer.fragment(name.as_str(), 0).size);
    }
    let nesting = operations.iter().map(|m| m.nesting).max().unwrap_or(0);
    if measurer.too_nested || nesting > MAX_NESTING {
        return Err(limit_exceeded(format!(
            "the query nests selections, fragments included, more than {MAX_NESTING} levels deep"
        )));
    }
    let size = operations.iter().map(|m| m.size).max().unwrap_or(0);
    let size = size.max(largest_fragment).max(measurer.written);
    if size > MAX_SELECTIONS {
        let size = if size == usize::MAX {
            "more".to_string()
        } else {
            size.to_string()
        };
        return Err(limit_exceeded(format!(
            "the query holds {size} selections once its fragments are expanded; \
             at most {MAX_SELECTIONS} are allowed"
        )));
    }
    for operation in &operations {
        let limit = if operation.introspects {
            MAX_INTROSPECTION_DEPTH
        } else {
            MAX_DEPTH
        };
        if operation.depth > limit {
            return Err(limit_exceeded(format!(
                "the query is nested too deep: more than {limit} levels"
            )));
        }
    }
    Ok(())
}

/// What a selection set (or a fragment) amounts to once its spreads are expanded.
#[derive(Clone, Copy, Default)]
struct Measure {
    /// How deep its fields nest (a leaf field is 1).
    depth: usize,
    /// How deep its selection sets nest, spreads and inline fragments counting a level
    /// each, as async-graphql's recursion limit counts them.
    nesting: usize,
    /// How many selections it expands to (saturating).
    size: usize,
    /// True when it asks for `__schema` or `__type` at its own level.
    introspects: bool,
}

/// Measures selection sets, each fragment once.
struct Measurer<'a> {
    document: &'a ExecutableDocument,
    /// `None` while a fragment is being measured (a spread of it then is a cycle).
    fragments: HashMap<&'a str, Option<Measure>>,
    /// Set when a selection set lies deeper than `MAX_NESTING` (the walk stops there).
    too_nested: bool,
    /// How many selections the document writes, each counted once.
    written: usize,
}

impl<'a> Measurer<'a> {
    fn fragment(&mut self, name: &'a str, level: usize) -> Measure {
        match self.fragments.get(name) {
            Some(Some(measure)) => return *measure,
            // A cycle, which validation refuses; it adds nothing here.
            Some(None) => return Measure::default(),
            None => {}
        }
        let Some(fragment) = self.document.fragments.get(name) else {
            return Measure::default();
        };
        self.fragments.insert(name, None);
        let measure = self.set(&fragment.node.selection_set.node, level);
        self.fragments.insert(name, Some(measure));
        measure
    }

    fn set(&mut self, set: &'a SelectionSet, level: usize) -> Measure {
        if level > MAX_NESTING {
            self.too_nested = true;
            return Measure::default();
        }
        let mut total = Measure::default();
        for item in &set.items {
            self.written = self.written.saturating_add(1);
            let (inner, depth, nesting) = match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    total.introspects |= matches!(name, "__schema" | "__type");
                    let children = &field.node.selection_set.node;
                    if children.items.is_empty() {
                        (Measure::default(), 1, 0)
                    } else {
                        let inner = self.set(children, level + 1);
                        (inner, inner.depth + 1, inner.nesting + 1)
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let inner = self.set(&fragment.node.selection_set.node, level + 1);
                    total.introspects |= inner.introspects;
                    (inner, inner.depth, inner.nesting + 1)
                }
                Selection::FragmentSpread(spread) => {
                    let inner = self.fragment(spread.node.fragment_name.node.as_str(), level + 1);
                    total.introspects |= inner.introspects;
                    (inner, inner.depth, inner.nesting + 1)
                }
            };
            total.size = total.size.saturating_add(1).saturating_add(inner.size);
            total.depth = total.depth.max(depth);
            total.nesting = total.nesting.max(nesting);
        }
        total
    }
}

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
