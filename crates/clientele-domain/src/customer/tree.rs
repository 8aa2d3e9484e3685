//! Inner customers: a customer may have a parent in the same tenant, to any depth, and never
//! one of its own inner customers. Creating under a parent is part of creation (`profile`).

use serde::{Deserialize, Serialize};

use super::event::{CustomerEvent, CustomerMoved};
use super::{Customer, CustomerError};
use crate::{Rule, Violation};

/// A would-be parent customer, with what the store found of it in the command's
/// transaction (the domain does no I/O; the store fills these in).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParentFacts {
    pub id: String,
    /// A live customer of the same tenant that the caller may see.
    pub exists: bool,
    /// Its ancestors, root first.
    pub ancestors: Vec<String>,
}

impl ParentFacts {
    /// A parent the store has not looked up yet (it will, inside the transaction).
    pub fn unchecked(id: impl Into<String>) -> Self {
        ParentFacts {
            id: id.into(),
            exists: false,
            ancestors: Vec::new(),
        }
    }
}

/// The most levels a tree may have: a top-level customer is on level 1, its inner
/// customers on level 2, and so on. PostgreSQL's index on the path holds a row of at most
/// 2,704 bytes, which a path of about 73 ids fills; 50 levels keep well within it on every
/// backend.
pub const MAX_DEPTH: usize = 50;

/// Checks a would-be parent of customer `me` (`None` while it is being created), which has
/// `height` levels of inner customers below it (0 for a new customer or one without any).
pub(super) fn check_parent(
    parent: &ParentFacts,
    me: Option<&str>,
    height: usize,
) -> Result<(), CustomerError> {
    if !parent.exists {
        return Err(CustomerError::Invalid(vec![Violation::new(
            "parentId",
            Rule::UnknownCustomer,
            format!("{} is not a live customer of this tenant", parent.id),
        )]));
    }
    if let Some(me) = me {
        if parent.id == me || parent.ancestors.iter().any(|a| a == me) {
            return Err(CustomerError::Invalid(vec![Violation::new(
                "parentId",
                Rule::Cycle,
                "a customer cannot be moved under itself or one of its own inner customers",
            )]));
        }
    }
    // The parent is on level `ancestors + 1`, the customer one below, its deepest inner
    // customer `height` below that.
    let deepest = parent.ancestors.len() + 2 + height;
    if deepest > MAX_DEPTH {
        let message = match height {
            0 => format!(
                "{} is on level {} of its tree; a tree has at most {MAX_DEPTH} levels",
                parent.id,
                parent.ancestors.len() + 1
            ),
            _ => format!(
                "under {} the customer's deepest inner customer would be on level {deepest}; \
                 a tree has at most {MAX_DEPTH} levels",
                parent.id
            ),
        };
        return Err(CustomerError::Invalid(vec![Violation::new(
            "parentId",
            Rule::Limit,
            message,
        )]));
    }
    Ok(())
}

impl Customer {
    /// Puts this customer (`id`), with `height` levels of inner customers below it, under
    /// `parent`, or makes it top-level with `None`.
    pub(super) fn decide_move(
        &self,
        id: &str,
        parent: Option<ParentFacts>,
        height: usize,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        if let Some(parent) = &parent {
            check_parent(parent, Some(id), height)?;
        }
        let to = parent.map(|p| p.id);
        if to == self.parent {
            return Ok(vec![]);
        }
        Ok(vec![CustomerEvent::CustomerMoved(CustomerMoved {
            from: self.parent.clone(),
            to,
        })])
    }
}
