//! End-to-end tests: the real app on a random port, over real PostgreSQL and SQLite.

mod auth;
mod consistency;
mod creating;
mod deletion;
mod editing;
mod http;
mod import;
mod isolation;
mod listing;
mod log_and_projections;
mod operations;
mod products;
mod relations;
mod schema;
mod subscriptions;
mod upcasting;
