//! End-to-end tests: the real app on a random port, over real PostgreSQL and SQLite.

mod as_of;
mod assignments;
mod auth;
mod consistency;
mod creating;
mod deletion;
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
mod sign_in;
mod subscriptions;
mod tree;
mod upcasting;
mod users;
