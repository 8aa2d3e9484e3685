//! The rules one value of a field obeys, and how values are normalised before they are
//! checked. Users' fields obey the same rules as the customer's.

use super::fields::CustomerField;
use crate::{Rule, Violation};

/// The shortest shortname, in characters (the longest is `max_len`).
pub const SHORTNAME_MIN_LEN: usize = 5;

/// The longest value each free-text field may hold, in characters.
pub fn max_len(field: CustomerField) -> usize {
    match field {
        CustomerField::Name => 100,
        CustomerField::Email => 254,
        CustomerField::Shortname => 16,
        CustomerField::Language => 35,
        CustomerField::Phone => 32,
        CustomerField::Address | CustomerField::Address2 => 500,
        CustomerField::Organization | CustomerField::Title => 200,
        _ => 100,
    }
}

/// Normalises a name: trimmed, lower case, each space a hyphen, so that "Test Customer" and
/// "test-customer" are one name.
pub fn normalise_name(raw: &str) -> String {
    raw.trim()
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_whitespace() { '-' } else { c })
        .collect()
}

/// The `n`th candidate of a taken name under the UNIQUIFY policy: the name itself for 1,
/// else the name with "-n" appended, its end trimmed so that the whole stays within the
/// name's length limit ("acme" → "acme-2", "acme-3", …).
pub fn suffixed_name(name: &str, n: u32) -> String {
    if n <= 1 {
        return name.to_string();
    }
    let suffix = format!("-{n}");
    let room = max_len(CustomerField::Name).saturating_sub(suffix.chars().count());
    let base: String = name.chars().take(room).collect();
    format!("{base}{suffix}")
}

/// Collects violations while values are normalised, so that every broken rule of a form is
/// reported at once.
#[derive(Default)]
pub(crate) struct Checker {
    violations: Vec<Violation>,
}

impl Checker {
    pub(crate) fn note(&mut self, violation: impl Into<Option<Violation>>) {
        self.violations.extend(violation.into());
    }

    /// Trims and checks a free-text value; blank means absent.
    pub(crate) fn text(&mut self, field: CustomerField, raw: Option<&str>) -> Option<String> {
        let value = raw.and_then(trimmed)?;
        self.note(check_text(field, &value));
        Some(value)
    }

    /// Normalises and checks a customer's name.
    pub(crate) fn name(&mut self, raw: &str) -> String {
        let name = normalise_name(raw);
        self.note(check_text(CustomerField::Name, &name));
        name
    }

    /// The validated value, or every violation noted.
    pub(crate) fn finish<T>(self, value: T) -> Result<T, Vec<Violation>> {
        if self.violations.is_empty() {
            Ok(value)
        } else {
            Err(self.violations)
        }
    }
}

/// A field that always holds a value was asked to be cleared.
pub(crate) fn not_nullable(field: &str) -> Violation {
    Violation::new(
        field,
        Rule::NotNullable,
        format!("{field} cannot be cleared"),
    )
}

/// Checks one field's value; `None` when it obeys its rule.
pub(crate) fn check_text(field: CustomerField, value: &str) -> Option<Violation> {
    let name = field.input_name();
    let chars = value.chars().count();
    if chars > max_len(field) {
        return Some(Violation::new(
            name,
            Rule::Length,
            format!("{name} must be at most {} characters", max_len(field)),
        ));
    }
    if value.chars().any(char::is_control) {
        return Some(Violation::new(
            name,
            Rule::Charset,
            format!("{name} must not contain control characters"),
        ));
    }
    match field {
        CustomerField::Name if value.is_empty() => Some(Violation::new(
            name,
            Rule::Required,
            "name must not be empty",
        )),
        CustomerField::Email if !is_email(value) => Some(Violation::new(
            name,
            Rule::Format,
            "email must be a valid address such as ops@example.com",
        )),
        CustomerField::Shortname => check_shortname(value),
        CustomerField::Language if !is_language_tag(value) => Some(Violation::new(
            name,
            Rule::Format,
            "language must be a BCP 47 tag such as en or pt-BR",
        )),
        CustomerField::Phone if !is_phone(value) => Some(Violation::new(
            name,
            Rule::Format,
            "phone may hold digits, spaces and + - ( ) . and needs at least 3 digits",
        )),
        _ => None,
    }
}

fn check_shortname(value: &str) -> Option<Violation> {
    let len = value.chars().count();
    let max = max_len(CustomerField::Shortname);
    if !(SHORTNAME_MIN_LEN..=max).contains(&len) {
        return Some(Violation::new(
            "shortname",
            Rule::Length,
            format!("shortname must be {SHORTNAME_MIN_LEN} to {max} characters long"),
        ));
    }
    // RFC 3986 unreserved characters, so a shortname is safe in a URL; "+" is not among them.
    let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
    if !value.chars().all(unreserved) {
        return Some(Violation::new(
            "shortname",
            Rule::Charset,
            "shortname may only use letters, digits, '-', '.', '_' and '~' (RFC 3986 unreserved, no '+')",
        ));
    }
    None
}

fn is_email(value: &str) -> bool {
    let Some((local, domain)) = value.rsplit_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    local_ok && domain_ok
}

fn is_language_tag(value: &str) -> bool {
    let mut parts = value.split('-');
    let primary = parts.next().unwrap_or_default();
    let primary_ok =
        (2..=8).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn is_phone(value: &str) -> bool {
    value
        .chars()
        .all(|c| c.is_ascii_digit() || " +-().".contains(c))
        && value.chars().filter(char::is_ascii_digit).count() >= 3
}

/// Trims a free-text value; an empty result means "no value".
pub(crate) fn trimmed(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_string())
}

pub(crate) fn check_retention(
    field: CustomerField,
    days: i32,
    allowed: &[i32],
) -> Option<Violation> {
    (!allowed.contains(&days)).then(|| {
        let options: Vec<String> = allowed.iter().map(i32::to_string).collect();
        Violation::new(
            field.input_name(),
            Rule::AllowedValues,
            format!(
                "{} must be one of {} days",
                field.input_name(),
                options.join(", ")
            ),
        )
    })
}

pub(crate) fn check_flows(value: i64) -> Option<Violation> {
    (value < 0).then(|| {
        Violation::new(
            "contractualFlowsPerSecond",
            Rule::Range,
            "contractualFlowsPerSecond must be 0 or more",
        )
    })
}
