//! GraphQL types, one file per slice; `customer.rs` merges each slice's fields of a
//! customer into the one `Customer` type, and `page.rs` holds what every list shares.

pub mod account_status;
pub mod as_of;
pub mod assignments;
pub mod audit;
pub mod bulk;
pub mod customer;
pub mod deletion;
pub mod dry_run;
pub mod field_rules;
pub mod impersonation;
pub mod import_export;
pub mod node;
pub mod page;
pub mod products;
pub mod profile;
pub mod search;
pub mod tree;
pub mod users;
pub mod viewer;
pub mod webhooks;
