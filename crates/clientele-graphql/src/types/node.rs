//! The Relay `Node` interface: every object with a global id that `node(id:)` and
//! `nodes(ids:)` fetch again.

use async_graphql::{Interface, ID};

use super::customer::Customer;
use super::users::CustomerUser;
use super::webhooks::WebhookEndpoint;

/// An object with an id unique across the service, fetched again with `node(id:)`.
#[derive(Interface)]
#[graphql(field(
    name = "id",
    ty = "&ID",
    desc = "The object's id, a UUID: pass it to `node(id:)` to fetch the object again."
))]
pub enum Node {
    /// A customer.
    Customer(Box<Customer>),
    /// A user of a customer.
    CustomerUser(CustomerUser),
    /// A webhook endpoint of the tenant.
    WebhookEndpoint(WebhookEndpoint),
}
