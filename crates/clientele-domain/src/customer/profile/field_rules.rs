//! The rule table of a customer's fields: for each field, the kind of value it holds, its
//! length limits, its allowed values, whether an edit may clear it and whether the
//! customer's own admin may change it. The checks (rules.rs, forms.rs), the API's guard on
//! edits and `customerFieldRules` all read this table, so a form built from the query obeys
//! the rules the commands enforce.

use super::fields::{CustomerField, DATA_RETENTION_DAYS, ROLLUP_RETENTION_DAYS};
use super::rules::{max_len, SHORTNAME_MIN_LEN};

/// Every customer field, in the order of the creation form.
pub const ALL_FIELDS: [CustomerField; 25] = {
    use CustomerField::*;
    [
        Name,
        Email,
        GivenName,
        FamilyName,
        Organization,
        Shortname,
        Type,
        ServiceStatus,
        ContractualFlowsPerSecond,
        MultiAccount,
        Internal,
        TestAccount,
        DataRetentionDays,
        RollupRetentionDays,
        Language,
        Seller,
        CustomId,
        Title,
        Country,
        City,
        State,
        Zip,
        Address,
        Address2,
        Phone,
    ]
};

/// The kind of value a field holds, and so the check its values pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldFormat {
    /// Free text: trimmed, no control characters.
    Text,
    /// Free text normalised to lower case with each whitespace character a hyphen.
    NormalisedName,
    /// An email address such as ops@example.com.
    Email,
    /// RFC 3986 unreserved characters: ASCII letters, digits, '-', '.', '_', '~'.
    Shortname,
    /// A BCP 47 language tag such as en or pt-BR.
    LanguageTag,
    /// Digits, spaces and + - ( ) . with at least 3 digits.
    Phone,
    /// A whole number, 0 or more.
    NonNegativeInteger,
    /// A number of days, one of the allowed values.
    Days,
    /// True or false.
    Boolean,
    /// One of the values of an enum.
    Choice,
}

/// One field's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRule {
    pub field: CustomerField,
    pub format: FieldFormat,
    /// Fewest characters of a text value, where there is a minimum.
    pub min_length: Option<usize>,
    /// Most characters of a text value.
    pub max_length: Option<usize>,
    /// The allowed numbers of days of a retention field.
    pub allowed_days: Option<&'static [i32]>,
    /// Whether an edit may clear it (`null`).
    pub clearable: bool,
    /// Whether the customer's own admin (CUSTOMER_ADMIN) may change it.
    pub customer_editable: bool,
    /// Whether every tenant requires it, whatever its settings.
    pub always_required: bool,
}

/// The kind of value `field` holds.
pub fn format(field: CustomerField) -> FieldFormat {
    use CustomerField as F;
    match field {
        F::Name => FieldFormat::NormalisedName,
        F::Email => FieldFormat::Email,
        F::Shortname => FieldFormat::Shortname,
        F::Language => FieldFormat::LanguageTag,
        F::Phone => FieldFormat::Phone,
        F::ContractualFlowsPerSecond => FieldFormat::NonNegativeInteger,
        F::DataRetentionDays | F::RollupRetentionDays => FieldFormat::Days,
        F::MultiAccount | F::Internal | F::TestAccount => FieldFormat::Boolean,
        F::Type | F::ServiceStatus => FieldFormat::Choice,
        F::GivenName
        | F::FamilyName
        | F::Organization
        | F::Seller
        | F::CustomId
        | F::Title
        | F::Country
        | F::City
        | F::State
        | F::Zip
        | F::Address
        | F::Address2 => FieldFormat::Text,
    }
}

/// Whether the customer's own admin may change `field`; the rest is the reseller's.
pub fn customer_editable(field: CustomerField) -> bool {
    use CustomerField as F;
    matches!(
        field,
        F::Email
            | F::GivenName
            | F::FamilyName
            | F::Organization
            | F::Language
            | F::Title
            | F::Country
            | F::City
            | F::State
            | F::Zip
            | F::Address
            | F::Address2
            | F::Phone
    )
}

/// Whether an edit may clear `field`: the name, the language and the flags always hold a
/// value.
pub fn clearable(field: CustomerField) -> bool {
    use CustomerField as F;
    !matches!(
        field,
        F::Name | F::Language | F::MultiAccount | F::Internal | F::TestAccount
    )
}

/// The rules of one field.
pub fn field_rule(field: CustomerField) -> FieldRule {
    let format = format(field);
    let text = matches!(
        format,
        FieldFormat::Text
            | FieldFormat::NormalisedName
            | FieldFormat::Email
            | FieldFormat::Shortname
            | FieldFormat::LanguageTag
            | FieldFormat::Phone
    );
    FieldRule {
        field,
        format,
        min_length: match field {
            CustomerField::Shortname => Some(SHORTNAME_MIN_LEN),
            CustomerField::Name => Some(1),
            _ => None,
        },
        max_length: text.then(|| max_len(field)),
        allowed_days: match field {
            CustomerField::DataRetentionDays => Some(&DATA_RETENTION_DAYS),
            CustomerField::RollupRetentionDays => Some(&ROLLUP_RETENTION_DAYS),
            _ => None,
        },
        clearable: clearable(field),
        customer_editable: customer_editable(field),
        always_required: field == CustomerField::Name,
    }
}

/// The rules of every field, in the order of the creation form.
pub fn field_rules() -> Vec<FieldRule> {
    ALL_FIELDS.into_iter().map(field_rule).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_gives_the_lengths_the_checks_enforce() {
        for rule in field_rules() {
            if let Some(max) = rule.max_length {
                let too_long = "1".repeat(max + 1);
                let violation = super::super::rules::check_text(rule.field, &too_long);
                assert!(
                    violation.is_some(),
                    "{:?} accepted {} characters",
                    rule.field,
                    max + 1
                );
            }
        }
    }
}
