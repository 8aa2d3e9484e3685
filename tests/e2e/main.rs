//! End-to-end tests: the real app on a random port, over real PostgreSQL and SQLite.

mod as_of;
mod assignments;
mod auth;
mod consistency;
mod counts;
mod creating;
mod deletion;
mod deletion_lists;
mod editing;
mod fuzz;
mod history;
mod hostile_input;
mod http;
mod import;
mod inner_deletion;
mod isolation;
mod listing;
mod log_and_projections;
mod operations;
mod products;
mod revocation;
mod schema;
mod subscriptions;
mod tree;
mod upcasting;
mod users;
