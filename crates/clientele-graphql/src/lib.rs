//! Clientele's GraphQL schema: types, queries, mutations and error codes.
//!
//! The schema expects two pieces of data: the `Store` and a `Clock` (schema-wide), and a
//! `RequestContext` (per request, added by the HTTP layer).

pub mod auth;
mod charset;
mod codes;
pub mod context;
mod documents;
pub mod error;
pub mod guard;
pub mod ids;
mod limits;
pub mod mail;
mod observe;
mod resolvers;
pub mod types;

use async_graphql::dataloader::DataLoader;
use async_graphql::Schema;
use clientele_store::Store;

pub use auth::{Authenticator, Claims, Grant, Impersonator, Role};
pub use context::{Clock, RequestContext};
pub use error::{ApiError, ApiResult};
pub use limits::{MAX_ALIASES, MAX_DEPTH, MAX_INTROSPECTION_DEPTH, MAX_SELECTIONS};
pub use mail::{Mail, Mailer};
pub use resolvers::{
    token_hash, ActivationSettings, ClientAddress, ImpersonationTtl, MutationRoot, QueryRoot,
    SignInLimits, SignInSettings, SubscriptionRoot, WebhookSettings,
};
pub use types::page::{encode_cursor, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use types::products::ProductsLoader;

pub type ClienteleSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Most complex query accepted (each field counts 1).
pub const MAX_COMPLEXITY: usize = 2000;

/// Builds the schema over a store and its live feed (for subscriptions).
pub fn build_schema(
    store: Store,
    feed: clientele_store::feed::Feed,
    clock: Clock,
    auth: std::sync::Arc<Authenticator>,
    impersonation_ttl: chrono::Duration,
    activation: ActivationSettings,
    webhooks: WebhookSettings,
) -> ClienteleSchema {
    // Batching only (DataLoader::new caches nothing), so it can live as long as the schema.
    let products = DataLoader::new(ProductsLoader(store.clone()), tokio::spawn);
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .data(products)
    .data(feed)
    .data(store)
    .data(clock)
    .data(auth)
    .data(ImpersonationTtl(impersonation_ttl))
    .data(activation)
    .data(webhooks)
    .data(std::sync::Arc::new(SignInLimits::default()))
    // Outermost first: observe counts the codes that codes gives; documents parses (or
    // reuses) the document and checks the limits before async-graphql walks it, the
    // charset is checked before any resolver.
    .extension(observe::Observe)
    .extension(codes::Codes)
    .extension(documents::Documents::default())
    .extension(charset::Charset)
    .limit_complexity(MAX_COMPLEXITY)
    .finish()
}

/// The schema's SDL, as checked in at schema.graphql.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot::default(),
    )
    .finish()
    .sdl()
}
