//! Queries.

use async_graphql::{Context, Object, ID};
use chrono::{DateTime, Utc};
use clientele_domain::Rule;
use clientele_store::{CustomerCursor, PageError, PageRequest, Store};

use crate::auth::Role;
use crate::context::RequestContext;
use crate::error::{ApiError, ApiResult};
use crate::guard;
use crate::types::customer::{Customer, CustomerEdge, CustomerFilter, CustomerOrder, PageInfo};
use crate::types::deletion::DeletionRequest;
use crate::types::enums::{AccountStatus, CustomerField, OrderDirection};
use crate::types::history::{HistoryConnection, HistoryEdge};
use crate::types::product::{AccountStatusTransition, Product};

/// The largest page any list serves.
pub const MAX_PAGE_SIZE: i32 = 100;
/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

pub struct QueryRoot;

/// Every role.
pub(crate) const ALL_ROLES: &[Role] = &[
    Role::TenantAdmin,
    Role::Reseller,
    Role::Seller,
    Role::Auditor,
    Role::CustomerAdmin,
    Role::CustomerUser,
];
/// Roles that read a customer's history and deletion requests.
pub(crate) const HISTORY_READERS: &[Role] = &[
    Role::TenantAdmin,
    Role::Reseller,
    Role::Seller,
    Role::Auditor,
    Role::CustomerAdmin,
];
/// Staff roles that read audits of a customer they can see.
const STAFF_READERS: &[Role] = &[
    Role::TenantAdmin,
    Role::Reseller,
    Role::Seller,
    Role::Auditor,
];

/// Checks a page-size argument.
pub(crate) fn page_size(name: &str, value: Option<i32>) -> ApiResult<Option<usize>> {
    match value {
        Some(n) if !(0..=MAX_PAGE_SIZE).contains(&n) => Err(ApiError::argument(
            name,
            Rule::Range,
            format!("{name} must be between 0 and {MAX_PAGE_SIZE}"),
        )
        .into()),
        other => Ok(other.map(|n| n as usize)),
    }
}

fn cursor(name: &str, value: Option<String>) -> ApiResult<Option<CustomerCursor>> {
    value
        .map(|c| {
            CustomerCursor::decode(&c).ok_or_else(|| {
                ApiError::argument(
                    name,
                    Rule::Format,
                    format!("{name} is not a cursor this list gave out"),
                )
                .into()
            })
        })
        .transpose()
}

/// A page of customers; `totalCount` is only computed when asked for.
pub struct CustomerConnection {
    tenant: String,
    filter: clientele_store::CustomerFilter,
    page: clientele_store::CustomerPage,
}

#[Object]
impl CustomerConnection {
    async fn edges(&self) -> Vec<CustomerEdge> {
        self.page
            .items
            .iter()
            .map(|(cursor, record)| CustomerEdge {
                cursor: cursor.encode(),
                node: record.clone().into(),
            })
            .collect()
    }

    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.page.has_next_page,
            has_previous_page: self.page.has_previous_page,
            start_cursor: self.page.items.first().map(|(c, _)| c.encode()),
            end_cursor: self.page.items.last().map(|(c, _)| c.encode()),
        }
    }

    /// How many customers pass the filter, over all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let store = ctx.data_unchecked::<Store>();
        Ok(store
            .count_customers(&self.tenant, &self.filter)
            .await
            .map_err(ApiError::from)?)
    }
}

/// How many of the tenant's customers are in one account status.
#[derive(async_graphql::SimpleObject)]
pub struct StatusCount {
    pub status: AccountStatus,
    pub count: i64,
}

// Each resolver argument is a GraphQL argument; Relay lists take many by design.
#[allow(clippy::too_many_arguments)]
#[Object(name = "Query")]
impl QueryRoot {
    /// One customer of the tenant, or null.
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Customer>> {
        Ok(guard::visible_customer(ctx, &id).await?.map(Into::into))
    }

    /// The tenant's customers as a Relay connection (at most 100 a page, 20 by default).
    async fn customers(
        &self,
        ctx: &Context<'_>,
        filter: Option<CustomerFilter>,
        order_by: Option<CustomerOrder>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<CustomerConnection> {
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let (mut first, last) = (page_size("first", first)?, page_size("last", last)?);
        if first.is_some() && last.is_some() {
            return Err(
                ApiError::argument("last", Rule::Range, "give first or last, not both").into(),
            );
        }
        if first.is_none() && last.is_none() {
            first = Some(DEFAULT_PAGE_SIZE as usize);
        }
        let order = order_by.unwrap_or_default();
        let page = PageRequest {
            order: order.field.into(),
            descending: order.direction == OrderDirection::Desc,
            first,
            after: cursor("after", after)?,
            last,
            before: cursor("before", before)?,
        };
        let mut filter: clientele_store::CustomerFilter = filter.unwrap_or_default().into();
        // A seller sees its own customers; a customer-bound role sees its customer.
        match request.role {
            Role::Seller => filter.seller = Some(request.subject.clone()),
            Role::CustomerAdmin | Role::CustomerUser => {
                let mine = match &request.customer {
                    Some(id) => store
                        .customer(&request.tenant, id)
                        .await
                        .map_err(ApiError::from)?,
                    None => None,
                };
                match mine {
                    Some(mine) => filter.subtree_of = Some((mine.id, mine.ancestry)),
                    None => filter.only_id = Some(request.customer.clone().unwrap_or_default()),
                }
            }
            Role::TenantAdmin | Role::Reseller | Role::Auditor => {}
        }
        let page = match store
            .list_customers(&request.tenant, &filter, &page)
            .await
            .map_err(ApiError::from)?
        {
            Ok(page) => page,
            Err(PageError::CursorOrderMismatch) => {
                return Err(ApiError::argument(
                    "after",
                    Rule::Format,
                    "this cursor belongs to a list sorted another way",
                )
                .into())
            }
        };
        Ok(CustomerConnection {
            tenant: request.tenant.clone(),
            filter,
            page,
        })
    }

    /// A customer's events in order, oldest first (at most 100 a page, 20 by default).
    async fn customer_history(
        &self,
        ctx: &Context<'_>,
        id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<HistoryConnection> {
        guard::readable_customer(ctx, &id, HISTORY_READERS).await?;
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let first = page_size("first", first)?.unwrap_or(DEFAULT_PAGE_SIZE as usize) as i64;
        let after_version = match after {
            None => 0,
            Some(c) => c.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                ApiError::argument(
                    "after",
                    Rule::Format,
                    "after is not a cursor this history gave out",
                )
            })?,
        };
        let mut events = store
            .customer_history(&request.tenant, &id, after_version, first + 1)
            .await
            .map_err(ApiError::from)?;
        let has_next_page = events.len() as i64 > first;
        events.truncate(first as usize);
        let edges: Vec<HistoryEdge> = events
            .into_iter()
            .map(|e| HistoryEdge {
                cursor: e.sequence.to_string(),
                node: e.into(),
            })
            .collect();
        Ok(HistoryConnection {
            page_info: PageInfo {
                has_next_page,
                has_previous_page: after_version > 0,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        })
    }

    /// The customer fields this tenant requires besides the name.
    async fn required_customer_fields(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerField>> {
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let fields = store
            .required_customer_fields(&request.tenant)
            .await
            .map_err(ApiError::from)?;
        Ok(fields.into_iter().map(Into::into).collect())
    }

    /// How many customers the tenant has in each account status (follows the log
    /// asynchronously, so it may trail a write by a moment).
    async fn customer_counts_by_status(&self, ctx: &Context<'_>) -> ApiResult<Vec<StatusCount>> {
        guard::require(ctx, guard::TENANT_READERS)?;
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let counts = store
            .customer_counts(&request.tenant)
            .await
            .map_err(ApiError::from)?;
        Ok(counts
            .into_iter()
            .map(|(status, count)| StatusCount {
                status: status.into(),
                count,
            })
            .collect())
    }

    /// The tenant's product catalogue with each product's global visibility.
    async fn products(&self, ctx: &Context<'_>) -> ApiResult<Vec<Product>> {
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let catalogue = store
            .catalogue(&request.tenant)
            .await
            .map_err(ApiError::from)?;
        Ok(catalogue.into_iter().map(Into::into).collect())
    }

    /// Every account-status change of a customer, oldest first.
    async fn account_status_history(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
    ) -> ApiResult<Vec<AccountStatusTransition>> {
        guard::readable_customer(ctx, &customer_id, ALL_ROLES).await?;
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let history = store
            .account_status_history(&request.tenant, &customer_id)
            .await
            .map_err(ApiError::from)?;
        Ok(history.into_iter().map(Into::into).collect())
    }

    /// Every deletion request of a customer, oldest first, with how each ended.
    async fn deletion_requests(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
    ) -> ApiResult<Vec<DeletionRequest>> {
        guard::readable_customer(ctx, &customer_id, HISTORY_READERS).await?;
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let requests = store
            .deletion_requests(&request.tenant, &customer_id)
            .await
            .map_err(ApiError::from)?;
        Ok(requests.into_iter().map(Into::into).collect())
    }

    /// The customer as it was at a past instant (its fields, version and account status),
    /// folded from its events; null if it did not exist yet.
    async fn customer_as_of(
        &self,
        ctx: &Context<'_>,
        id: ID,
        at: DateTime<Utc>,
    ) -> ApiResult<Option<Customer>> {
        guard::readable_customer(ctx, &id, STAFF_READERS).await?;
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let record = store
            .customer_as_of(&request.tenant, &id, at)
            .await
            .map_err(ApiError::from)?;
        Ok(record.map(Into::into))
    }

    /// A customer's whole history (or, without `customerId`, the tenant's) as NDJSON: one
    /// event per line, in order, with metadata. Folding it replays the same state.
    async fn history_export(
        &self,
        ctx: &Context<'_>,
        customer_id: Option<ID>,
    ) -> ApiResult<String> {
        match &customer_id {
            Some(id) => guard::readable_customer(ctx, id, STAFF_READERS)
                .await
                .map(|_| ())?,
            None => guard::require(ctx, guard::TENANT_READERS).map(|_| ())?,
        }
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let mut out = String::new();
        store
            .export_history(
                &request.tenant,
                customer_id.as_ref().map(|id| id.as_str()),
                |line| {
                    out.push_str(&line);
                    out.push('\n');
                },
            )
            .await
            .map_err(ApiError::from)?;
        Ok(out)
    }

    /// The tenant's customers as CSV (every input field as a column; not deleted customers,
    /// not the tenant's own company). Importing it back gives the same customers.
    async fn export_customers(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let me = guard::require(ctx, guard::TENANT_READERS)?;
        let store = ctx.data_unchecked::<Store>();
        let mut out = Vec::new();
        crate::csv_io::export_csv(store, &me.tenant, &mut out)
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        String::from_utf8(out).map_err(|e| ApiError::Internal(e.to_string()).into())
    }
}
