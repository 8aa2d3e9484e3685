//! Products: the catalogue's keys, the default catalogue, and which status
//! changes make sense.

use crate::{ProductStatus, Rule, Violation};

/// Every tenant starts with these products, all globally hidden: (key, name).
pub const DEFAULT_PRODUCTS: [(&str, &str); 6] = [
    ("CDN", "CDN"),
    ("CLOUD", "Cloud"),
    ("DDOS", "DDoS Protection"),
    ("DNS", "DNS"),
    ("STORAGE", "Storage"),
    ("STREAMING", "Streaming"),
];

/// Checks a new product's key (2 to 32 of A-Z, 0-9, _) and name (1 to 100 characters).
pub fn check_new_product(key: &str, name: &str) -> Vec<Violation> {
    let mut violations = Vec::new();
    let key_ok = (2..=32).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !key_ok {
        violations.push(Violation::new(
            "key",
            Rule::Format,
            "a product key is 2 to 32 characters of A-Z, 0-9 and _",
        ));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        violations.push(Violation::new(
            "name",
            Rule::Length,
            "a product name is 1 to 100 printable characters",
        ));
    }
    violations
}

/// Whether a product may go from `from` to `to` with `setProductStatus`.
///
/// NEW is only ever set by activation; DELETED is final until the product is activated
/// again; a paid (ACTIVE) product does not go back to a trial.
pub fn transition_allowed(from: ProductStatus, to: ProductStatus) -> bool {
    use ProductStatus::*;
    matches!(
        (from, to),
        (New, Trial | Active | Deleted)
            | (Trial, Active | Paused | TrialEnd | Deleted)
            | (Active, Paused | Deleted)
            | (Paused, Trial | Active | Deleted)
            | (TrialEnd, Trial | Active | Deleted)
    )
}

impl ProductStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProductStatus::New => "NEW",
            ProductStatus::Trial => "TRIAL",
            ProductStatus::Active => "ACTIVE",
            ProductStatus::Paused => "PAUSED",
            ProductStatus::TrialEnd => "TRIAL_END",
            ProductStatus::Deleted => "DELETED",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        use ProductStatus::*;
        [New, Trial, Active, Paused, TrialEnd, Deleted]
            .into_iter()
            .find(|s| s.as_str() == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProductStatus::*;

    #[test]
    fn nothing_goes_back_to_new_and_deleted_is_final() {
        for status in [New, Trial, Active, Paused, TrialEnd, Deleted] {
            assert!(!transition_allowed(status, New));
            assert!(!transition_allowed(Deleted, status));
            assert!(!transition_allowed(status, status));
        }
    }

    #[test]
    fn a_paid_product_does_not_return_to_trial() {
        assert!(!transition_allowed(Active, Trial));
        assert!(!transition_allowed(Active, TrialEnd));
        assert!(transition_allowed(Trial, Active));
    }

    #[test]
    fn product_keys_are_upper_snake_case() {
        assert!(check_new_product("IOT_HUB", "IoT hub").is_empty());
        assert_eq!(check_new_product("iot", " ").len(), 2);
    }
}
