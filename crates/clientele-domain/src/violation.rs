use serde::{Deserialize, Serialize};

/// One broken input rule: which field, which rule, and a sentence for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    /// The input field's GraphQL name, e.g. `shortname`.
    pub field: String,
    pub rule: Rule,
    pub message: String,
}

impl Violation {
    pub fn new(field: impl Into<String>, rule: Rule, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule,
            message: message.into(),
        }
    }
}

/// The stable names of input rules, sent to clients in `extensions.rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Rule {
    /// The tenant requires the field (or it is always required) and it is missing.
    Required,
    /// The value is longer or shorter than allowed.
    Length,
    /// The value is not of the required form (e-mail address, language tag, phone).
    Format,
    /// The value uses characters the field does not allow.
    Charset,
    /// The value is not one of the listed options.
    AllowedValues,
    /// The number is out of range.
    Range,
    /// The field cannot be cleared.
    NotNullable,
    /// Another customer of the tenant already has this value.
    Unique,
    /// The product is not in the tenant's catalogue.
    UnknownProduct,
    /// The product is not visible to this customer, so it cannot be activated.
    NotVisible,
    /// The product was never activated for this customer.
    NotActivated,
    /// The product is already activated.
    AlreadyActivated,
    /// The product cannot go from its status to the one asked for.
    Transition,
    /// The customer's serviceStatus does not allow this (TRIAL_ACTIVE accounts have no ACTIVE product).
    ServiceStatus,
    /// The confirmation does not match what the action asks to be typed.
    Confirmation,
    /// The one-time token has expired; ask for a new one.
    Expired,
    /// A customer cannot be moved under itself or one of its own inner customers.
    Cycle,
    /// The id names no live customer of the tenant that the caller may see.
    UnknownCustomer,
    /// The dashboard is not assigned to this customer.
    NotAssigned,
    /// A limit on how many of something there may be.
    Limit,
    /// The password is one of the most commonly used ones.
    CommonPassword,
    /// The password is the user's own email address.
    SameAsEmail,
    /// The address is one the service does not connect to (loopback, private, link-local).
    Address,
    /// A list names the same thing twice.
    Duplicate,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Required => "REQUIRED",
            Rule::Length => "LENGTH",
            Rule::Format => "FORMAT",
            Rule::Charset => "CHARSET",
            Rule::AllowedValues => "ALLOWED_VALUES",
            Rule::Range => "RANGE",
            Rule::NotNullable => "NOT_NULLABLE",
            Rule::Unique => "UNIQUE",
            Rule::UnknownProduct => "UNKNOWN_PRODUCT",
            Rule::NotVisible => "NOT_VISIBLE",
            Rule::NotActivated => "NOT_ACTIVATED",
            Rule::AlreadyActivated => "ALREADY_ACTIVATED",
            Rule::Transition => "TRANSITION",
            Rule::ServiceStatus => "SERVICE_STATUS",
            Rule::Confirmation => "CONFIRMATION",
            Rule::Expired => "EXPIRED",
            Rule::Cycle => "CYCLE",
            Rule::UnknownCustomer => "UNKNOWN_CUSTOMER",
            Rule::NotAssigned => "NOT_ASSIGNED",
            Rule::Limit => "LIMIT",
            Rule::CommonPassword => "COMMON_PASSWORD",
            Rule::SameAsEmail => "SAME_AS_EMAIL",
            Rule::Address => "ADDRESS",
            Rule::Duplicate => "DUPLICATE",
        }
    }
}
