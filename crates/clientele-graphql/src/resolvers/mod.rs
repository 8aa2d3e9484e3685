//! The resolvers, one file per slice, merged into the schema's three roots. A slice's
//! queries, mutations and subscriptions sit together in its file; `shared.rs` holds what
//! they share, `event_stream.rs` the replay-then-live join every subscription reads.

mod account_status;
mod assignments;
mod audit;
mod bulk;
mod deletion;
mod event_stream;
mod field_rules;
mod impersonation;
mod import_export;
mod node;
mod products;
mod profile;
mod public;
mod search;
mod sessions;
mod shared;
mod sign_in;
mod tree;
mod users;
mod viewer;
mod webhooks;

use async_graphql::{MergedObject, MergedSubscription};

pub use impersonation::ImpersonationTtl;
pub use public::public_customer_id;
pub(crate) use shared::Outcome;
pub use sign_in::{ClientAddress, SignInLimits, SignInSettings};
pub use users::{token_hash, ActivationSettings};
pub use webhooks::WebhookSettings;

/// Every query. Each names the roles that may run it; a customer the caller may not see is null or NOT_FOUND, never FORBIDDEN.
#[derive(MergedObject, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    profile::ProfileQuery,
    search::SearchQuery,
    account_status::AccountStatusQuery,
    products::ProductsQuery,
    deletion::DeletionQuery,
    audit::AuditQuery,
    import_export::ImportExportQuery,
    webhooks::WebhooksQuery,
    field_rules::FieldRulesQuery,
    viewer::ViewerQuery,
    node::NodeQuery,
    assignments::AssignmentsQuery,
    public::PublicQuery,
);

/// Every mutation: the customer's own, and those of its users, tree and assignments.
#[derive(MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    profile::ProfileMutation,
    products::ProductsMutation,
    deletion::DeletionMutation,
    bulk::BulkMutation,
    impersonation::ImpersonationMutation,
    import_export::ImportExportMutation,
    users::UsersMutation,
    sessions::SessionsMutation,
    sign_in::SignInMutation,
    tree::TreeMutation,
    assignments::AssignmentsMutation,
    public::PublicMutation,
    webhooks::WebhooksMutation,
);

/// Every subscription, over graphql-transport-ws (or graphql-ws) at /graphql/ws.
#[derive(MergedSubscription, Default)]
#[graphql(name = "Subscription")]
pub struct SubscriptionRoot(
    audit::AuditSubscription,
    account_status::AccountStatusSubscription,
);
