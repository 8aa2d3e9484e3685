//! The customer tree: a customer's parent, ancestors and inner customers, as far as the
//! caller may see them.

use std::sync::Arc;

use async_graphql::{Context, Object, SimpleObject};
use clientele_store::{CustomerRecord, Store};

use super::customer::Customer;
use super::page::{self, PageInfo};
use crate::error::ApiResult;
use crate::guard;

/// A page of customers below another, by id.
#[derive(SimpleObject, Debug, Clone)]
pub struct DescendantConnection {
    /// The inner customers of this page the caller may see.
    pub nodes: Vec<Customer>,
    /// Where this page sits; pass `endCursor` as `after` for the next.
    pub page_info: PageInfo,
}

/// The tree fields of a customer.
#[derive(Debug, Clone)]
pub struct CustomerTree(pub(crate) Arc<CustomerRecord>);

#[Object]
impl CustomerTree {
    /// The parent customer, if it is one the caller may see.
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        match &self.0.parent_id {
            Some(id) => Ok(guard::visible_customer(ctx, id).await?.map(Into::into)),
            None => Ok(None),
        }
    }

    /// The ancestors the caller may see, root first, up to the parent.
    async fn ancestors(&self, ctx: &Context<'_>) -> ApiResult<Vec<Customer>> {
        let mut out = Vec::new();
        for id in self.0.ancestors() {
            if let Some(record) = guard::visible_customer(ctx, &id).await? {
                out.push(record.into());
            }
        }
        Ok(out)
    }

    /// The live inner customers one level down, by name.
    async fn children(&self, ctx: &Context<'_>) -> ApiResult<Vec<Customer>> {
        let store = ctx.data_unchecked::<Store>();
        let me = guard::principal(ctx);
        let children = store.children(&self.0.tenant, &self.0.id).await?;
        Ok(children
            .into_iter()
            .filter(|c| guard::can_see(me, c))
            .map(Into::into)
            .collect())
    }

    /// The live inner customers at any depth, by id (at most 100 a page, 20 by default).
    async fn descendants(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(
            desc = "The id of the inner customer to start after (from `pageInfo.endCursor`)."
        )]
        after: Option<String>,
    ) -> ApiResult<DescendantConnection> {
        let store = ctx.data_unchecked::<Store>();
        let me = guard::principal(ctx);
        let first = page::first(first)?;
        let (records, more) = store.descendants(&self.0, first, after.as_deref()).await?;
        // The cursor is the last id read, seen or not, so the next page starts after it.
        let end_cursor = records.last().map(|r| r.id.clone());
        let nodes = records
            .into_iter()
            .filter(|r| guard::can_see(me, r))
            .map(Into::into)
            .collect();
        Ok(DescendantConnection {
            nodes,
            page_info: PageInfo {
                has_next_page: more,
                has_previous_page: after.is_some(),
                start_cursor: None,
                end_cursor,
            },
        })
    }
}
