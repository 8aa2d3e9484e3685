//! Ids that are UUIDs (customers and their users) are parsed as UUIDs before they reach SQL,
//! in two places. A customer id (`id`, `customerId`) goes through `guard::visible_customer`,
//! and a user id (`userId`) through the users resolvers' `user_id_parsed`: a malformed one
//! is answered as an unknown one is, without SQL: `null` for `customer(id)`, NOT_FOUND
//! elsewhere, as the API promises. The arguments below are
//! parsed at the edge, with the other argument rules of `charset.rs`, before any resolver
//! runs, and refused with BAD_USER_INPUT naming the argument. Device, asset, edge and
//! dashboard ids belong to another system and are free text (their charset rule applies).

use clientele_domain::Rule;

/// The argument paths (`input.parentId`, `filter.customerId`) whose values are UUIDs, with
/// the rule a malformed one breaks. A parent that names no customer is already
/// `UNKNOWN_CUSTOMER`, so a malformed parent id is reported the same way.
const UUID_ARGUMENTS: [(&str, Rule); 4] = [
    ("filter.customerId", Rule::Format),
    ("parentId", Rule::UnknownCustomer),
    ("input.parentId", Rule::UnknownCustomer),
    ("filter.parentId", Rule::UnknownCustomer),
];

/// True for the hyphenated form (`8-4-4-4-12` hex digits, either case): the only form
/// the service gives out.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36 && uuid::Uuid::try_parse(text).is_ok()
}

/// The rule `text` breaks when the argument at `path` must be a UUID and it is not one.
pub(crate) fn malformed(path: &str, text: &str) -> Option<(Rule, String)> {
    let (_, rule) = UUID_ARGUMENTS.iter().find(|(p, _)| *p == path)?;
    match is_uuid(text) {
        true => None,
        false => Some((
            *rule,
            format!("{path} is not an id this service gave out (a UUID)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hyphenated_uuids_pass() {
        assert!(is_uuid("0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"));
        assert!(is_uuid("0193A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"));
        for bad in [
            "",
            "nope",
            "0193a1b2c3d47e5f8a9b0c1d2e3f4a5b",
            "{0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}",
            "' OR 1=1 --",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
        assert_eq!(malformed("deviceId", "dev-4"), None);
        assert_eq!(
            malformed("input.parentId", "x").map(|m| m.0),
            Some(Rule::UnknownCustomer)
        );
    }
}
