//! Bulk mutations' answers: one result per id, in the order of the ids.

use async_graphql::{SimpleObject, ID};

use super::customer::Customer;
use crate::error::ApiError;
use crate::resolvers::Outcome;

/// What one id of a bulk mutation came to.
#[derive(SimpleObject, Debug, Clone)]
pub struct BulkResult {
    /// The id, as given.
    pub id: ID,
    /// Whether this id's command succeeded (on a dry run: would succeed).
    pub ok: bool,
    /// The customer as stored after its command; null on error and on a dry run (which
    /// writes nothing).
    pub customer: Option<Customer>,
    /// The types of the events its command wrote (on a dry run: would write), in order;
    /// empty when it changed nothing or was refused.
    pub events: Vec<String>,
    /// Why it was refused, as the single mutation would have answered; null when `ok`.
    pub error: Option<BulkError>,
}

/// A refusal of one id, with the code, field and rule the single mutation gives in
/// `extensions`.
#[derive(SimpleObject, Debug, Clone)]
pub struct BulkError {
    /// `NOT_FOUND` (no such customer, or one the caller may not see), `FORBIDDEN`,
    /// `CONFLICT`, `BAD_USER_INPUT`, `CUSTOMER_DELETED` or `INTERNAL`.
    pub code: String,
    /// A sentence for a person.
    pub message: String,
    /// The argument or input field at fault, when there is one (`input.shortname`).
    pub field: Option<String>,
    /// The rule it broke, for BAD_USER_INPUT (`UNIQUE` for a CONFLICT on a unique value).
    pub rule: Option<String>,
}

impl BulkResult {
    /// The result of one id: its outcome, or its refusal in the single mutation's words.
    pub(crate) fn of(id: ID, outcome: Result<Outcome, ApiError>) -> Self {
        match outcome {
            Ok(outcome) => BulkResult {
                id,
                ok: true,
                customer: outcome.customer,
                events: outcome.events,
                error: None,
            },
            Err(error) => BulkResult {
                id,
                ok: false,
                customer: None,
                events: Vec::new(),
                error: Some(BulkError::from(error)),
            },
        }
    }
}

impl From<ApiError> for BulkError {
    /// Through the one table (`From<ApiError> for async_graphql::Error`), so an id's error
    /// reads as the single call's would, and an internal one is logged, not shown.
    fn from(error: ApiError) -> Self {
        let error = async_graphql::Error::from(error);
        let text = |name: &str| match error.extensions.as_ref().and_then(|e| e.get(name)) {
            Some(async_graphql::Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        BulkError {
            code: text("code").unwrap_or_else(|| "INTERNAL".into()),
            field: text("field"),
            rule: text("rule"),
            message: error.message.clone(),
        }
    }
}
