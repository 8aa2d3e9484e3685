//! The GraphQL documents the benchmark sends, and the request templates built from them.

use serde_json::json;

use super::http::{Template, HOLE};

pub const CREATE: &str =
    "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }";
pub const EDIT: &str = "mutation($id: ID!, $input: EditCustomerInput!) { editCustomer(id: $id, input: $input) { id version } }";
pub const BY_ID: &str =
    "query($id: ID!) { customer(id: $id) { id name organization shortname accountStatus version } }";
/// The first page of the list, newest first.
pub const PAGE: &str = "{ customers(first: 50, orderBy: { field: CREATED_AT, direction: DESC }) { edges { node { id name organization shortname accountStatus version } } } }";

/// The create request with its name open: `{prefix} {i}`.
pub fn create_template(prefix: &str) -> Template {
    Template::graphql(
        CREATE,
        json!({ "input": { "name": format!("{prefix} {HOLE}"), "organization": "Acme" } }),
    )
}

/// The edit request with the id and the new organization (`{prefix} {i}`) open.
pub fn edit_template(prefix: &str) -> Template {
    Template::graphql(
        EDIT,
        json!({ "id": HOLE, "input": { "organization": format!("{prefix} {HOLE}") } }),
    )
}
