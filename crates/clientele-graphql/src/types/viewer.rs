//! `Viewer`: the caller as its token tells it, and what the access table lets it do.

use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};

use super::customer::Customer;
use super::profile::CustomerField;
use crate::error::ApiResult;
use crate::guard;

/// A role a token carries.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "crate::auth::Role")]
pub enum Role {
    /// Everything in the tenant.
    TenantAdmin,
    /// All the tenant's customers and its settings.
    Reseller,
    /// Creates customers and manages those whose seller it is.
    Seller,
    /// Reads everything in the tenant, history and exports included; changes nothing.
    Auditor,
    /// Bound to one customer: reads it and its inner customers, edits its customer-editable fields and users.
    CustomerAdmin,
    /// Bound to one customer: reads it and its inner customers.
    CustomerUser,
}

/// An impersonation (`loginAs`): who acts as which customer, until when.
#[derive(SimpleObject, Debug, Clone)]
pub struct ViewerImpersonation {
    /// The real person acting (their token's subject); events record them as the actor.
    pub actor: String,
    /// The real person's role.
    pub actor_role: Role,
    /// The customer acted as.
    pub customer_id: ID,
    /// When the impersonation token stops working.
    pub expires_at: DateTime<Utc>,
}

/// The caller: who it is, and what it may do.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Viewer {
    /// The token's subject (`sub`); under impersonation, the impersonated customer's admin.
    pub subject: String,
    /// The role the token acts with.
    pub role: Role,
    /// The tenant the token belongs to.
    pub tenant: String,
    /// The customer a customer-bound role (or an impersonation) is bound to; null otherwise.
    pub customer_id: Option<ID>,
    /// Set when a person acts as a customer through `loginAs`.
    pub impersonation: Option<ViewerImpersonation>,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
    /// The queries the role may run (from the access table the resolvers ask); a customer out of reach stays null or NOT_FOUND.
    pub queries: Vec<String>,
    /// The mutations the role may run (operations that need no bearer token, such as `signIn`, included).
    pub mutations: Vec<String>,
    /// The subscriptions the role may start.
    pub subscriptions: Vec<String>,
    /// The customer fields `editCustomer` lets the role change, on the customers it may edit.
    pub editable_customer_fields: Vec<CustomerField>,
}

#[ComplexObject]
impl Viewer {
    /// The customer the caller is bound to, if any (and it still exists).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        match &self.customer_id {
            Some(id) => Ok(guard::visible_customer(ctx, id).await?.map(Into::into)),
            None => Ok(None),
        }
    }
}
