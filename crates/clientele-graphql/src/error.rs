//! The API's error type and the one table that maps every failure to a stable code.
//!
//! Resolvers return `ApiResult<T>`, a `Result<T, ApiError>`: `?` on a store or command error
//! goes through the `From` impls below, and an error type without one does not compile, so
//! no failure reaches a client through async-graphql's `Display` conversion.

use async_graphql::{ErrorExtensions, Value};
use clientele_domain::customer::CustomerError;
use clientele_domain::tenant::TenantError;
use clientele_domain::Violation;
use clientele_store::{CommandError, StoreError};

/// Every way an API call can fail, as clients see it in `extensions.code`.
#[derive(Debug, Clone)]
pub enum ApiError {
    /// `BAD_USER_INPUT`: input broke the named rules; nothing was written.
    BadUserInput {
        violations: Vec<Violation>,
        prefix: &'static str,
    },
    /// `NOT_FOUND`: no such thing in the caller's tenant.
    NotFound(String),
    /// `CONFLICT`: the state changed or a unique value is taken.
    Conflict {
        message: String,
        field: Option<String>,
        current_version: Option<u64>,
    },
    /// `CUSTOMER_DELETED`: the customer is deleted and takes no further command.
    CustomerDeleted,
    /// `FORBIDDEN`: signed in, but this principal may not do this; nothing was written.
    Forbidden(String),
    /// `UNAUTHENTICATED`: no valid token.
    Unauthenticated(String),
    /// `LIMIT_EXCEEDED`: too many sign-in attempts for this account or from this address.
    TooManyAttempts(String),
    /// `INTERNAL`: logged with its details; the client only learns that it failed.
    Internal(String),
    /// `CONFLICT`: the customer has inner customers and the subtree was not to be deleted.
    HasInnerCustomers(Vec<String>),
    /// `SUBSCRIBER_LAGGED`: a subscription fell further behind than the server buffers; it
    /// ends, and resumes with `after: lastCursor`.
    Lagged {
        last_cursor: Option<String>,
        missed: u64,
    },
}

impl ApiError {
    /// One violated rule of an argument (not of the `input` object).
    pub fn argument(field: &str, rule: clientele_domain::Rule, message: impl Into<String>) -> Self {
        ApiError::BadUserInput {
            violations: vec![Violation::new(field, rule, message)],
            prefix: "",
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadUserInput { .. } => "BAD_USER_INPUT",
            ApiError::NotFound(_) => "NOT_FOUND",
            ApiError::Conflict { .. } | ApiError::HasInnerCustomers(_) => "CONFLICT",
            ApiError::CustomerDeleted => "CUSTOMER_DELETED",
            ApiError::Forbidden(_) => "FORBIDDEN",
            ApiError::Unauthenticated(_) => "UNAUTHENTICATED",
            ApiError::TooManyAttempts(_) => "LIMIT_EXCEEDED",
            ApiError::Internal(_) => "INTERNAL",
            ApiError::Lagged { .. } => "SUBSCRIBER_LAGGED",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

impl From<CommandError<CustomerError>> for ApiError {
    /// For createCustomer and editCustomer, whose fields sit in `input`.
    fn from(error: CommandError<CustomerError>) -> Self {
        ApiError::from_customer(error, "input.")
    }
}

impl From<CommandError<TenantError>> for ApiError {
    fn from(error: CommandError<TenantError>) -> Self {
        match error {
            CommandError::Rejected(TenantError::Invalid(violations)) => ApiError::BadUserInput {
                violations,
                prefix: "",
            },
            CommandError::Store(error) => error.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<CommandError<clientele_domain::assignment::AssignmentError>> for ApiError {
    fn from(error: CommandError<clientele_domain::assignment::AssignmentError>) -> Self {
        use clientele_domain::assignment::AssignmentError as E;
        match error {
            CommandError::Rejected(E::Invalid(violations)) => ApiError::BadUserInput {
                violations,
                prefix: "",
            },
            CommandError::Rejected(E::CustomerNotFound) | CommandError::NotFound => {
                ApiError::NotFound("no customer with this id".into())
            }
            CommandError::Rejected(E::CustomerDeleted) => ApiError::CustomerDeleted,
            CommandError::Rejected(error @ E::HomeDashboard) => ApiError::Conflict {
                message: error.to_string(),
                field: Some("dashboardId".into()),
                current_version: None,
            },
            CommandError::Contended => ApiError::Conflict {
                message: "the entity is being changed by many requests at once; try again".into(),
                field: None,
                current_version: None,
            },
            CommandError::Store(error) => error.into(),
            CommandError::Duplicate { .. } => ApiError::Internal(error.to_string()),
        }
    }
}

impl ApiError {
    /// Maps a refused customer command; `prefix` locates the violated fields (`input.` or none).
    pub fn from_customer(error: CommandError<CustomerError>, prefix: &'static str) -> Self {
        match error {
            CommandError::Rejected(CustomerError::Invalid(violations)) => ApiError::BadUserInput { violations, prefix },
            CommandError::Rejected(CustomerError::NotFound) | CommandError::NotFound => {
                ApiError::NotFound("no customer with this id".into())
            }
            CommandError::Rejected(CustomerError::AlreadyExists) => ApiError::Conflict {
                message: "the customer already exists".into(),
                field: None,
                current_version: None,
            },
            CommandError::Rejected(CustomerError::VersionConflict { expected, actual }) => ApiError::Conflict {
                message: format!(
                    "the customer is at version {actual}, not {expected}: reload it and apply your change again"
                ),
                field: Some("expectedVersion".into()),
                current_version: Some(actual),
            },
            CommandError::Rejected(CustomerError::Deleted) => ApiError::CustomerDeleted,
            CommandError::Rejected(CustomerError::OwnCompany) => {
                ApiError::Forbidden("the tenant's own company cannot be modified or deleted".into())
            }
            CommandError::Rejected(error @ CustomerError::PublicCustomer) => {
                ApiError::Forbidden(error.to_string())
            }
            CommandError::Rejected(
                error @ (CustomerError::NoOpenRequest
                | CustomerError::RequestAlreadyOpen
                | CustomerError::NotDue
                | CustomerError::SessionAlreadyEnded),
            ) => ApiError::Conflict {
                message: error.to_string(),
                field: None,
                current_version: None,
            },
            CommandError::Rejected(CustomerError::UserNotFound) => {
                ApiError::NotFound("no such user of this customer".into())
            }
            CommandError::Rejected(CustomerError::UnknownActivation) => {
                ApiError::NotFound(CustomerError::UnknownActivation.to_string())
            }
            CommandError::Rejected(CustomerError::UserAlreadyActive) => ApiError::Conflict {
                message: "the user is already activated".into(),
                field: None,
                current_version: None,
            },
            CommandError::Rejected(CustomerError::UserDisabled) => {
                ApiError::Forbidden("the user is disabled; enable it first".into())
            }
            CommandError::Rejected(CustomerError::HasInnerCustomers(ids)) => {
                ApiError::HasInnerCustomers(ids)
            }
            CommandError::Rejected(CustomerError::DuplicateUserEmail) => ApiError::Conflict {
                message: CustomerError::DuplicateUserEmail.to_string(),
                field: Some("input.email".into()),
                current_version: None,
            },
            CommandError::Duplicate { field } if field == clientele_store::USER_EMAIL => ApiError::Conflict {
                message: "another user of this tenant already has this email".into(),
                field: Some("input.email".into()),
                current_version: None,
            },
            CommandError::Duplicate { field } => ApiError::Conflict {
                message: format!("another customer of this tenant already has this {field}"),
                field: Some(format!("input.{field}")),
                current_version: None,
            },
            CommandError::Contended => ApiError::Conflict {
                message: "the customer is being changed by many requests at once; try again".into(),
                field: None,
                current_version: None,
            },
            CommandError::Store(error) => error.into(),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        match error {
            ApiError::BadUserInput { violations, prefix } => {
                let message = violations
                    .iter()
                    .map(|v| v.message.as_str())
                    .collect::<Vec<_>>()
                    .join("; ");
                let first = violations.first().cloned();
                let list: Vec<Value> = violations
                    .iter()
                    .map(|v| {
                        let mut entry = async_graphql::indexmap::IndexMap::new();
                        entry.insert(
                            async_graphql::Name::new("field"),
                            Value::from(format!("{prefix}{}", v.field)),
                        );
                        entry.insert(
                            async_graphql::Name::new("rule"),
                            Value::from(v.rule.as_str()),
                        );
                        entry.insert(
                            async_graphql::Name::new("message"),
                            Value::from(v.message.clone()),
                        );
                        Value::Object(entry)
                    })
                    .collect();
                async_graphql::Error::new(format!("Invalid input: {message}")).extend_with(
                    |_, e| {
                        e.set("code", code);
                        if let Some(first) = &first {
                            e.set("field", format!("{prefix}{}", first.field));
                            e.set("rule", first.rule.as_str());
                        }
                        e.set("violations", Value::List(list.clone()));
                    },
                )
            }
            ApiError::NotFound(message) => {
                async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
            }
            ApiError::CustomerDeleted => {
                async_graphql::Error::new("the customer is deleted; it takes no further command")
                    .extend_with(|_, e| e.set("code", code))
            }
            ApiError::Forbidden(message)
            | ApiError::Unauthenticated(message)
            | ApiError::TooManyAttempts(message) => {
                async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
            }
            ApiError::Conflict {
                message,
                field,
                current_version,
            } => async_graphql::Error::new(message).extend_with(|_, e| {
                e.set("code", code);
                if let Some(field) = &field {
                    e.set("field", field.as_str());
                    if field.starts_with("input.") {
                        e.set("rule", "UNIQUE");
                    }
                }
                if let Some(version) = current_version {
                    e.set("currentVersion", version);
                }
            }),
            ApiError::HasInnerCustomers(ids) => async_graphql::Error::new(format!(
                "the customer has {} inner customer(s); delete them first, or pass \
                 deleteInnerCustomers: true to delete the whole subtree",
                ids.len()
            ))
            .extend_with(|_, e| {
                e.set("code", code);
                e.set("field", "deleteInnerCustomers");
                e.set(
                    "innerCustomers",
                    Value::List(ids.iter().map(|id| Value::from(id.as_str())).collect()),
                );
            }),
            ApiError::Lagged { last_cursor, missed } => async_graphql::Error::new(format!(
                "this subscription fell {missed} events behind and was ended; subscribe again with after: lastCursor"
            ))
            .extend_with(|_, e| {
                e.set("code", code);
                e.set(
                    "lastCursor",
                    last_cursor.clone().map_or(Value::Null, Value::from),
                );
            }),
            ApiError::Internal(details) => {
                tracing::error!(%details, "internal error");
                async_graphql::Error::new("Internal error; it has been logged")
                    .extend_with(|_, e| e.set("code", code))
            }
        }
    }
}

/// What every resolver returns. async-graphql turns the `ApiError` into a response error
/// through `From<ApiError> for async_graphql::Error` above, and nothing else. An error with
/// no `From` impl here has no way in:
///
/// ```compile_fail
/// fn read() -> clientele_graphql::ApiResult<String> {
///     Ok(std::fs::read_to_string("settings.toml")?)
/// }
/// ```
pub type ApiResult<T> = Result<T, ApiError>;
