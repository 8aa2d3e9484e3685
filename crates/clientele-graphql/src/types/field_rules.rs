//! `CustomerFieldRule`: one customer field's rules as `customerFieldRules` answers them,
//! read from the domain's rule table (`clientele_domain::customer::field_rules`).

use async_graphql::resolver_utils::EnumType;
use async_graphql::{Enum, SimpleObject};
use clientele_domain::customer::FieldRule;

use super::profile::{CustomerField, CustomerType, ServiceStatus};

/// The kind of value a customer field holds, and so the check its values pass.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::FieldFormat")]
pub enum FieldFormat {
    /// Free text: trimmed, no control characters; blank counts as absent.
    Text,
    /// Free text normalised to lower case, each whitespace character a hyphen ("Test Customer" is stored as "test-customer").
    NormalisedName,
    /// An email address such as ops@example.com: a local part of at most 64 characters, a domain of two or more labels.
    Email,
    /// RFC 3986 unreserved characters only: ASCII letters, digits, '-', '.', '_', '~' (never '+').
    Shortname,
    /// A BCP 47 language tag such as en or pt-BR.
    LanguageTag,
    /// Digits, spaces and + - ( ) . with at least 3 digits (not checked against E.164).
    Phone,
    /// A whole number, 0 or more.
    NonNegativeInteger,
    /// A number of days, one of `allowedValues`.
    Days,
    /// True or false.
    Boolean,
    /// One of `allowedValues` (an enum of the schema).
    Choice,
}

/// One customer field's rules: enough to build its form control and check it before sending.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerFieldRule {
    /// The field.
    pub field: CustomerField,
    /// Its name in `CreateCustomerInput` and `EditCustomerInput` (camel case).
    pub input_name: String,
    /// Whether this tenant requires it: always for the name, for the others as set by `setRequiredCustomerFields`. A required field must be given on create and cannot be cleared on edit.
    pub required: bool,
    /// The kind of value it holds.
    pub format: FieldFormat,
    /// Fewest characters of a value, where there is a minimum.
    pub min_length: Option<i32>,
    /// Most characters of a value (after trimming), for text fields; null for the others.
    pub max_length: Option<i32>,
    /// The only values it accepts: enum values for TYPE and SERVICE_STATUS, numbers of days for the retentions. Null when any value of its format is accepted.
    pub allowed_values: Option<Vec<String>>,
    /// Whether `editCustomer` may clear it with null (the name, language and flags always hold a value).
    pub clearable: bool,
    /// Whether a CUSTOMER_ADMIN may change it (the other fields are the reseller's).
    pub customer_editable: bool,
    /// Whether the caller's role may change it with `editCustomer` (a SELLER only on its own customers, and never to another seller).
    pub editable: bool,
}

/// The enum values of a schema enum, as GraphQL names them.
fn names<T: EnumType>() -> Vec<String> {
    T::items().iter().map(|i| i.name.to_string()).collect()
}

impl CustomerFieldRule {
    /// The rule as the API gives it: `required` for this tenant, `editable` for the caller.
    pub fn of(rule: FieldRule, required: bool, editable: bool) -> Self {
        use clientele_domain::customer::CustomerField as F;
        let allowed_values = match rule.field {
            F::Type => Some(names::<CustomerType>()),
            F::ServiceStatus => Some(names::<ServiceStatus>()),
            _ => rule
                .allowed_days
                .map(|days| days.iter().map(i32::to_string).collect()),
        };
        CustomerFieldRule {
            field: rule.field.into(),
            input_name: rule.field.input_name().to_string(),
            required: required || rule.always_required,
            format: rule.format.into(),
            min_length: rule.min_length.map(|n| n as i32),
            max_length: rule.max_length.map(|n| n as i32),
            allowed_values,
            clearable: rule.clearable,
            customer_editable: rule.customer_editable,
            editable,
        }
    }
}
