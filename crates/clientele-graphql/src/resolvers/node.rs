//! `node(id:)` and `nodes(ids:)`: any object by its id, as far as the caller may see it.

use async_graphql::{Context, Object, ID};
use clientele_domain::Rule;
use clientele_store::Store;

use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::ids::is_uuid;
use crate::types::node::Node;

/// The most ids one `nodes` call takes.
const MAX_NODES: usize = 100;

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The customer, user or webhook endpoint with this id; null when there is none the
    /// caller may see (a customer out of reach, a user of one, or a kind its role may not read).
    async fn node(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The object's id, as its `id` field gave it.")] id: ID,
    ) -> ApiResult<Option<Node>> {
        guard::require(ctx, needs!(Query, "node"))?;
        find(ctx, &id).await
    }

    /// The objects with these ids, in the order given; null for each one there is none of
    /// the caller may see. At most 100 ids.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The ids, at most 100.")] ids: Vec<ID>,
    ) -> ApiResult<Vec<Option<Node>>> {
        guard::require(ctx, needs!(Query, "nodes"))?;
        if ids.len() > MAX_NODES {
            return Err(ApiError::argument(
                "ids",
                Rule::Range,
                format!("ids takes at most {MAX_NODES} ids"),
            ));
        }
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(find(ctx, id).await?);
        }
        Ok(out)
    }
}

/// The object with this id the caller may see: a customer, else a user, else a webhook
/// endpoint (ids are UUIDs, so a kind never shadows another).
async fn find(ctx: &Context<'_>, id: &str) -> ApiResult<Option<Node>> {
    if !is_uuid(id) {
        return Ok(None);
    }
    if let Some(record) = guard::visible_customer(ctx, id).await? {
        return Ok(Some(Node::Customer(Box::new(record.into()))));
    }
    let me = guard::principal(ctx);
    let store = ctx.data_unchecked::<Store>();
    if guard::may(me.role, guard::Root::Customer, "users") {
        if let Some(user) = store.customer_user(&me.tenant, id).await? {
            if guard::visible_customer(ctx, &user.customer_id)
                .await?
                .is_some()
            {
                return Ok(Some(Node::CustomerUser(user.into())));
            }
        }
    }
    if guard::may(me.role, guard::Root::Query, "webhookEndpoint") {
        if let Some(endpoint) = store.webhook_endpoint(&me.tenant, id).await? {
            return Ok(Some(Node::WebhookEndpoint(endpoint.into())));
        }
    }
    Ok(None)
}
