//! The derived account status: its history, the counts per status, and both live.

use std::sync::Arc;

use async_graphql::{Context, Object, Subscription, ID};
use clientele_store::feed::{Counts, LatestCounts};
use futures::{Stream, StreamExt};
use tokio::sync::watch;

use super::shared::{feed, parts, subscribe, within_reach};
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::types::account_status::{
    AccountStatusChange, AccountStatusChangeFilter, AccountStatusTransition, CustomerCountsFilter,
    StatusCount,
};
use crate::types::page::encode_cursor;

#[derive(Default)]
pub struct AccountStatusQuery;

#[Object]
impl AccountStatusQuery {
    /// How many of the customers the caller can see (a SELLER: its own) are in each account
    /// status, by the list's rules: test accounts and the own company left out unless
    /// asked for, deleted customers counted apart.
    async fn customer_counts_by_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Which customers to count; omitted: live real customers, the own company left out."
        )]
        filter: Option<CustomerCountsFilter>,
    ) -> ApiResult<Vec<StatusCount>> {
        let me = guard::require(ctx, needs!(Query, "customerCountsByStatus"))?;
        let (_, store, _) = parts(ctx);
        let filter = counted(ctx, filter).await?;
        Ok(StatusCount::list(
            store.customer_counts_of(&me.tenant, &filter).await?,
        ))
    }

    /// Every account-status change of a customer, oldest first.
    async fn account_status_history(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] customer_id: ID,
    ) -> ApiResult<Vec<AccountStatusTransition>> {
        let needed = needs!(Query, "accountStatusHistory");
        guard::customer_for(ctx, &customer_id, needed).await?;
        let (me, store, _) = parts(ctx);
        let history = store
            .account_status_history(&me.tenant, &customer_id)
            .await?;
        Ok(history.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct AccountStatusSubscription;

// The streams are typed `Result<…, ApiError>`, not `ApiResult<…>`: the Subscription macro
// tells a fallible stream by the name `Result`.
#[Subscription]
impl AccountStatusSubscription {
    /// Account-status changes of the customers the principal may see, as they happen.
    async fn account_status_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which changes to receive; omitted: every change the caller may see.")]
        filter: Option<AccountStatusChangeFilter>,
        #[graphql(
            desc = "A `cursor` this subscription gave out: replay the changes after it, then go live."
        )]
        after: Option<String>,
    ) -> Result<impl Stream<Item = ApiResult<AccountStatusChange>>, ApiError> {
        let filter = filter.unwrap_or_default();
        let needed = needs!(Subscription, "accountStatusChanged");
        let types = Some(vec!["AccountStatusChanged".into()]);
        let stream = subscribe(ctx, needed, filter.customer_id, types, after).await?;
        let to = filter.to;
        Ok(stream.into_stream().filter_map(move |item| {
            let item = item.and_then(|event| {
                let change: clientele_domain::customer::AccountStatusChanged =
                    serde_json::from_value(event.body().clone()).map_err(|e| {
                        ApiError::Internal(format!(
                            "AccountStatusChanged {} does not decode: {e}",
                            event.aggregate_id
                        ))
                    })?;
                Ok(AccountStatusChange {
                    cursor: encode_cursor(event.log_position),
                    customer_id: ID(event.aggregate_id.clone()),
                    from: change.from.into(),
                    to: change.to.into(),
                    cause: change.cause,
                    version: event.sequence,
                    occurred_at: event.metadata.occurred_at,
                })
            });
            let wanted = match (&item, &to) {
                (Ok(change), Some(to)) => to.contains(&change.to),
                _ => true,
            };
            std::future::ready(wanted.then_some(item))
        }))
    }

    /// The customers per account status, as the query counts them: the current counts at
    /// once, then a fresh list whenever they change (within milliseconds of the commit).
    async fn customer_counts_by_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which customers to count, as in the query.")] filter: Option<
            CustomerCountsFilter,
        >,
    ) -> Result<impl Stream<Item = ApiResult<Vec<StatusCount>>>, ApiError> {
        let me = guard::require(ctx, needs!(Subscription, "customerCountsByStatus"))?.clone();
        let feed = feed(ctx)?;
        let filter = counted(ctx, filter).await?;
        let state = CountsState {
            latest: feed.counts(&me.tenant, &filter),
            closing: feed.closing(),
            last: None,
        };
        Ok(futures::stream::unfold(state, |mut state| async move {
            let item = state.next().await?;
            Some((item, state))
        }))
    }
}

/// The counts' filter narrowed to the caller's reach.
async fn counted(
    ctx: &Context<'_>,
    filter: Option<CustomerCountsFilter>,
) -> ApiResult<clientele_store::CustomerFilter> {
    let mut filter = filter.unwrap_or_default().into();
    within_reach(ctx, &mut filter).await?;
    Ok(filter)
}

struct CountsState {
    /// The shared count of this (tenant, filter), kept by the feed.
    latest: watch::Receiver<LatestCounts>,
    closing: watch::Receiver<bool>,
    last: Option<Arc<Counts>>,
}

impl CountsState {
    /// The next counts that differ from the last ones sent (the first ones at once).
    async fn next(&mut self) -> Option<ApiResult<Vec<StatusCount>>> {
        loop {
            if *self.closing.borrow() {
                return None;
            }
            let latest = self.latest.borrow_and_update().clone();
            match latest {
                Some(Ok(counts)) if self.last.as_ref() != Some(&counts) => {
                    self.last = Some(counts.clone());
                    return Some(Ok(StatusCount::list(counts.to_vec())));
                }
                Some(Err(error)) => return Some(Err(ApiError::Internal(error))),
                _ => {}
            }
            tokio::select! {
                changed = self.latest.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                _ = self.closing.changed() => return None,
            }
        }
    }
}
