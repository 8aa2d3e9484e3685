//! GraphQL types.

pub mod customer;
pub mod deletion;
pub mod enums;
pub mod history;
pub mod import;
pub mod product;
pub mod relations;
