//! Finding customers: the tenant's sellers (the `customers` list itself is in `profile`).

use async_graphql::{Context, Object};

use super::shared::{parts, within_reach};
use crate::error::ApiResult;
use crate::guard::{self, needs};
use crate::types::search::{SellerCount, TestAccounts};

#[derive(Default)]
pub struct SearchQuery;

#[Object]
impl SearchQuery {
    /// The sellers of the tenant's live customers, by seller, each with how many of them
    /// it has. Only the customers the caller can see are counted (as in `customers`): a
    /// seller sees itself, a customer's user its customer's subtree. Customers without a
    /// seller, and deleted ones, are not counted.
    async fn sellers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Real customers only (EXCLUDE, the default), test accounts only (ONLY), or both (INCLUDE).",
            default
        )]
        test_accounts: TestAccounts,
    ) -> ApiResult<Vec<SellerCount>> {
        let me = guard::require(ctx, needs!(Query, "sellers"))?;
        let (_, store, _) = parts(ctx);
        let mut filter = clientele_store::CustomerFilter::default();
        test_accounts.narrow(&mut filter);
        within_reach(ctx, &mut filter).await?;
        let sellers = store.sellers(&me.tenant, &filter).await?;
        Ok(sellers.into_iter().map(Into::into).collect())
    }
}
