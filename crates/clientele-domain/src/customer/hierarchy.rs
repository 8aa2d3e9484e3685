//! Inner customers (seed 003): a customer may have a parent in the same tenant, to any depth,
//! and never one of its own inner customers.

use super::command::ParentFacts;
use super::CustomerError;
use crate::{Rule, Violation};

/// Checks a would-be parent of customer `me` (`None` while it is being created).
pub(super) fn check_parent(parent: &ParentFacts, me: Option<&str>) -> Result<(), CustomerError> {
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
    Ok(())
}
