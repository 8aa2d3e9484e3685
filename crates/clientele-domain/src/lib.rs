//! Clientele's domain: aggregates, commands, events and the pure rules they obey.
//!
//! Nothing here does I/O. The store crate loads and saves aggregates; the GraphQL
//! crate turns requests into commands. Events are a storage contract: a landed
//! event's type name and shape never change (add a new event or bump its version
//! and write an upcaster instead).

pub mod account_status;
mod aggregate;
pub mod assignment;
pub mod customer;
pub mod product;
pub mod session;
pub mod tenant;
mod violation;

pub use account_status::{
    derive_account_status, explain_account_status, AccountStatus, ProductStatus,
};
pub use violation::{Rule, Violation};

/// The `event_version` written with every event of the first shape.
pub const EVENT_VERSION_1: &str = "1.0";
