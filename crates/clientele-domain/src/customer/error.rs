use thiserror::Error;

use crate::Violation;

/// Why a customer command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CustomerError {
    #[error("invalid input: {}", summary(.0))]
    Invalid(Vec<Violation>),
    #[error("the customer already exists")]
    AlreadyExists,
    #[error("no such customer")]
    NotFound,
    #[error("the customer is at version {actual}, not {expected}")]
    VersionConflict { expected: u64, actual: u64 },
    #[error("the customer is deleted; it takes no further command")]
    Deleted,
    #[error("the tenant's own company cannot be modified or deleted")]
    OwnCompany,
    #[error("the tenant's public customer cannot be modified or deleted")]
    PublicCustomer,
    #[error("the customer has no open deletion request")]
    NoOpenRequest,
    #[error("the customer already has an open deletion request")]
    RequestAlreadyOpen,
    #[error("the deletion request is not due, or is no longer open")]
    NotDue,
    #[error("no such user of this customer")]
    UserNotFound,
    #[error("the user is already activated")]
    UserAlreadyActive,
    #[error("the user is disabled")]
    UserDisabled,
    #[error("this activation token is unknown, was replaced by a newer one, or was already used")]
    UnknownActivation,
    #[error("this impersonation has already ended")]
    SessionAlreadyEnded,
    /// Another user of this customer already has the email (case-insensitively).
    #[error("another user of this customer already has this email")]
    DuplicateUserEmail,
    #[error("the customer has {} inner customer(s); delete them first, or delete the subtree (deleteInnerCustomers: true)", .0.len())]
    HasInnerCustomers(Vec<String>),
}

fn summary(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(|v| v.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}
