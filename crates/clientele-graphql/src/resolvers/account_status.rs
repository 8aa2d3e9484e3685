//! The derived account status: its history, the counts per status, and both live.

use std::time::Duration;

use async_graphql::{Context, Object, Subscription, ID};
use clientele_store::{LogPosition, Store};
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

/// How often `customerCountsByStatus` looks again even when no event woke it.
const COUNTS_POLL: Duration = Duration::from_secs(2);

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
    /// once, then a fresh list whenever they change.
    async fn customer_counts_by_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which customers to count, as in the query.")] filter: Option<
            CustomerCountsFilter,
        >,
    ) -> Result<impl Stream<Item = ApiResult<Vec<StatusCount>>>, ApiError> {
        let me = guard::require(ctx, needs!(Subscription, "customerCountsByStatus"))?.clone();
        let store = ctx.data_unchecked::<Store>().clone();
        let feed = feed(ctx)?;
        let filter = counted(ctx, filter).await?;
        let state = CountsState {
            head: feed.head_changes(),
            closing: feed.closing(),
            store,
            tenant: me.tenant,
            filter,
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
    head: watch::Receiver<LogPosition>,
    closing: watch::Receiver<bool>,
    store: Store,
    tenant: String,
    filter: clientele_store::CustomerFilter,
    last: Option<Vec<(clientele_domain::AccountStatus, i64)>>,
}

impl CountsState {
    /// The next counts that differ from the last ones sent. They are counted in the inline
    /// `customers` read model, so every commit is in them when the feed's head (woken by
    /// local commits and, on PostgreSQL, other instances' NOTIFY) moves past it; a slow
    /// poll covers the rest.
    async fn next(&mut self) -> Option<ApiResult<Vec<StatusCount>>> {
        loop {
            if *self.closing.borrow() {
                return None;
            }
            if self.last.is_some() {
                tokio::select! {
                    changed = self.head.changed() => {
                        if changed.is_err() {
                            return None;
                        }
                        self.head.borrow_and_update();
                    }
                    _ = tokio::time::sleep(COUNTS_POLL) => {}
                    _ = self.closing.changed() => return None,
                }
            }
            let counts = match self
                .store
                .customer_counts_of(&self.tenant, &self.filter)
                .await
            {
                Ok(counts) => counts,
                Err(error) => return Some(Err(error.into())),
            };
            if self.last.as_ref() != Some(&counts) {
                self.last = Some(counts.clone());
                return Some(Ok(StatusCount::list(counts)));
            }
        }
    }
}
