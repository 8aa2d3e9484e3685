//! The audit trail: a customer's history, its state at a past instant, the NDJSON export,
//! and the log live (`customerEvents`).

use async_graphql::{Context, Object, Subscription, ID};
use chrono::{DateTime, Utc};
use futures::{Stream, StreamExt};

use super::shared::{parts, subscribe};
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs, Ability};
use crate::types::as_of::CustomerAsOf;
use crate::types::audit::{CustomerEvent, CustomerEventFilter, HistoryConnection, HistoryEdge};
use crate::types::page::{self, history_cursor, PageInfo};

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// A customer's history in global order, oldest first (at most 100 a page, 20 by
    /// default): its own events and the device, asset, edge and dashboard assignment events
    /// that name it (as the new or the previous owner).
    async fn customer_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this history (`pageInfo.endCursor`).")] after: Option<
            String,
        >,
    ) -> ApiResult<HistoryConnection> {
        guard::customer_for(ctx, &id, needs!(Query, "customerHistory")).await?;
        let (me, store, _) = parts(ctx);
        let first = page::first(first)? as i64;
        let after_version = history_cursor(after)?;
        let mut events = store
            .customer_history(&me.tenant, &id, after_version, first + 1)
            .await?;
        let has_next_page = events.len() as i64 > first;
        events.truncate(first as usize);
        let edges: Vec<HistoryEdge> = events
            .into_iter()
            .map(|e| HistoryEdge {
                cursor: e.log_position.position.to_string(),
                node: e.into(),
            })
            .collect();
        Ok(HistoryConnection {
            page_info: PageInfo::of(
                &edges,
                |e| e.cursor.clone(),
                has_next_page,
                after_version > 0,
            ),
            edges,
        })
    }

    /// The customer as it was at a past instant, every field of that one instant, folded
    /// from its events up to it; null if it did not exist yet.
    async fn customer_as_of(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
        #[graphql(desc = "The instant (RFC 3339); null answer before the customer existed.")]
        at: DateTime<Utc>,
    ) -> ApiResult<Option<CustomerAsOf>> {
        guard::customer_for(ctx, &id, needs!(Query, "customerAsOf")).await?;
        let (me, store, _) = parts(ctx);
        let snapshot = store.customer_snapshot(&me.tenant, &id, at).await?;
        Ok(snapshot.map(Into::into))
    }

    /// A customer's whole history (or, without `customerId`, the tenant's) as NDJSON: one
    /// event per line, in order, with metadata. Folding it replays the same state.
    async fn history_export(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The customer; omitted: the whole tenant (TENANT_ADMIN, RESELLER, AUDITOR)."
        )]
        customer_id: Option<ID>,
    ) -> ApiResult<String> {
        match &customer_id {
            Some(id) => {
                guard::customer_for(ctx, id, needs!(Query, "historyExport")).await?;
            }
            None => {
                guard::require(ctx, Ability::ReadTenant)?;
            }
        }
        let (me, store, _) = parts(ctx);
        let mut out = String::new();
        store
            .export_history(
                &me.tenant,
                customer_id.as_ref().map(|id| id.as_str()),
                |line| {
                    out.push_str(&line);
                    out.push('\n');
                },
            )
            .await?;
        Ok(out)
    }
}

#[derive(Default)]
pub struct AuditSubscription;

// The streams are typed `Result<…, ApiError>`, not `ApiResult<…>`: the Subscription macro
// tells a fallible stream by the name `Result`.
#[Subscription]
impl AuditSubscription {
    /// The tenant's customer events as they are committed, in global order. With `after`
    /// (a `cursor` this subscription gave out), it first replays every event after it,
    /// then continues live. A subscriber that falls too far behind gets a
    /// `SUBSCRIBER_LAGGED` error with `extensions.lastCursor` and resumes from it.
    async fn customer_events(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which events to receive; omitted: every event the caller may see.")]
        filter: Option<CustomerEventFilter>,
        #[graphql(
            desc = "A `cursor` this subscription gave out: replay the events after it, then go live."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = ApiResult<CustomerEvent>>, ApiError> {
        let filter = filter.unwrap_or_default();
        let needed = needs!(Subscription, "customerEvents");
        let stream = subscribe(ctx, needed, filter.customer_id, filter.types, after).await?;
        Ok(stream
            .into_stream()
            .map(|item| item.map(|event| CustomerEvent::from(event.as_ref()))))
    }
}
