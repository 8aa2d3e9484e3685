//! The customer tree: a customer's parent, ancestors and inner customers, as far as the
//! caller may see them.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Object, SimpleObject};
use clientele_store::{CustomerRecord, Store};

use super::customer::{Customer, CustomerEdge};
use super::page::{self, PageInfo};
use crate::error::ApiResult;
use crate::guard;

/// A page of customers below another, by id.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct DescendantConnection {
    /// The inner customers of this page the caller may see, each with its cursor (its id).
    pub edges: Vec<CustomerEdge>,
    /// Where this page sits; pass `endCursor` as `after` for the next.
    pub page_info: PageInfo,
}

#[ComplexObject]
impl DescendantConnection {
    /// The inner customers of this page the caller may see (the edges' nodes).
    async fn nodes(&self) -> Vec<Customer> {
        self.edges.iter().map(|e| e.node.clone()).collect()
    }
}

/// A page of a customer's inner customers one level down, by name.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct InnerCustomerConnection {
    /// The inner customers of this page the caller may see, each with its cursor.
    pub edges: Vec<CustomerEdge>,
    /// Where this page sits; pass `endCursor` as `after` for the next.
    pub page_info: PageInfo,
}

#[ComplexObject]
impl InnerCustomerConnection {
    /// The inner customers of this page the caller may see (the edges' nodes).
    async fn nodes(&self) -> Vec<Customer> {
        self.edges.iter().map(|e| e.node.clone()).collect()
    }
}

/// The page info of a page read in full (`read` records), of which only some may be shown:
/// the end cursor is the last record read, seen or not, so the next page starts after it.
fn read_page_info(
    edges: &[CustomerEdge],
    last_read: Option<String>,
    more: bool,
    after: bool,
) -> PageInfo {
    PageInfo {
        has_next_page: more,
        has_previous_page: after,
        start_cursor: edges.first().map(|e| e.cursor.clone()),
        end_cursor: last_read,
    }
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

    /// The live inner customers one level down, by name (at most 100 a page, 20 by default).
    async fn children(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The cursor to start after (from `pageInfo.endCursor`).")] after: Option<
            String,
        >,
    ) -> ApiResult<InnerCustomerConnection> {
        let store = ctx.data_unchecked::<Store>();
        let me = guard::principal(ctx);
        let first = page::first(first)?;
        let cursor = page::key_cursor("after", after.as_deref())?;
        let (records, more) = store
            .children(
                &self.0.tenant,
                &self.0.id,
                first,
                cursor.as_ref().map(|(k, i)| (k.as_str(), i.as_str())),
            )
            .await?;
        let last_read = records
            .last()
            .map(|r| page::encode_key_cursor(&r.profile.name, &r.id));
        let edges: Vec<CustomerEdge> = records
            .into_iter()
            .filter(|c| guard::can_see(me, c))
            .map(|r| CustomerEdge {
                cursor: page::encode_key_cursor(&r.profile.name, &r.id),
                node: r.into(),
            })
            .collect();
        let page_info = read_page_info(&edges, last_read, more, cursor.is_some());
        Ok(InnerCustomerConnection { edges, page_info })
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
        let last_read = records.last().map(|r| r.id.clone());
        let edges: Vec<CustomerEdge> = records
            .into_iter()
            .filter(|r| guard::can_see(me, r))
            .map(|r| CustomerEdge {
                cursor: r.id.clone(),
                node: r.into(),
            })
            .collect();
        let page_info = read_page_info(&edges, last_read, more, after.is_some());
        Ok(DescendantConnection { edges, page_info })
    }
}
