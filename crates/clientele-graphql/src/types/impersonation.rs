//! Impersonation: the token that acts as a customer's admin user.

use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};

/// A token that acts as a customer's admin user.
#[derive(SimpleObject)]
pub struct Impersonation {
    /// Send it as `Authorization: Bearer …`; answers made with it carry `extensions.impersonation`.
    pub token: String,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
}
