//! The derived account status: the enum, its history, its explanation, the counts per
//! status, and the changes subscriptions deliver.

use std::sync::Arc;

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use clientele_store::{CustomerRecord, StatusTransition, Store};

use super::products::{load_products, ProductStatus};
use super::profile::CustomerType;
use crate::error::ApiResult;

/// Where an account stands; derived from its products, never edited.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::AccountStatus")]
pub enum AccountStatus {
    /// No product used yet.
    Preparation,
    /// At least one product in TRIAL, none ACTIVE.
    Trial,
    /// At least one product ACTIVE.
    Active,
    /// At least one product DELETED, TRIAL_END or PAUSED, none ACTIVE or TRIAL.
    TrialEnd,
    /// The customer is deleted.
    Deleted,
}

/// One change of a customer's account status.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccountStatusTransition {
    /// Null for the first status, set at creation.
    pub from: Option<AccountStatus>,
    /// The status after the change.
    pub to: AccountStatus,
    /// When it changed.
    pub at: DateTime<Utc>,
    /// The type of the event that caused the change, and the customer version it made.
    pub cause: String,
    /// The customer's version after the causing event.
    pub cause_version: i64,
}

impl From<StatusTransition> for AccountStatusTransition {
    fn from(t: StatusTransition) -> Self {
        AccountStatusTransition {
            from: t.from.map(Into::into),
            to: t.to.into(),
            at: t.at,
            cause: t.cause,
            cause_version: t.cause_version,
        }
    }
}

/// A product's status, as it counts for the account status.
#[derive(SimpleObject, Debug, Clone)]
pub struct ProductStatusEntry {
    /// The product's key, e.g. CDN.
    pub key: String,
    /// The product's status for this customer.
    pub status: ProductStatus,
}

/// Why the account has its status.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccountStatusExplanation {
    /// The account status.
    pub status: AccountStatus,
    /// A sentence naming the products that decide it.
    pub reason: String,
    /// Every activated product and its status.
    pub products: Vec<ProductStatusEntry>,
}

impl AccountStatusExplanation {
    /// The explanation of `derive_account_status` for these product statuses.
    pub fn of(
        deleted: bool,
        statuses: Vec<(String, clientele_domain::ProductStatus)>,
    ) -> AccountStatusExplanation {
        let (status, reason) = clientele_domain::explain_account_status(deleted, &statuses);
        AccountStatusExplanation {
            status: status.into(),
            reason,
            products: statuses
                .into_iter()
                .map(|(key, status)| ProductStatusEntry {
                    key,
                    status: status.into(),
                })
                .collect(),
        }
    }
}

/// How many of the tenant's customers are in one account status.
#[derive(SimpleObject)]
pub struct StatusCount {
    /// The account status counted.
    pub status: AccountStatus,
    /// How many customers are in it.
    pub count: i64,
}

impl StatusCount {
    /// The store's counts as the API lists them.
    pub fn list(counts: Vec<(clientele_domain::AccountStatus, i64)>) -> Vec<StatusCount> {
        counts
            .into_iter()
            .map(|(status, count)| StatusCount {
                status: status.into(),
                count,
            })
            .collect()
    }
}

/// Which customers `customerCountsByStatus` counts. Test accounts and the tenant's own
/// company are left out unless asked for; deleted customers are counted apart (DELETED).
#[derive(InputObject, Default, Debug)]
pub struct CustomerCountsFilter {
    /// Only customers of this account type.
    #[graphql(name = "type")]
    pub customer_type: Option<CustomerType>,
    /// Only this seller's customers, in any case ("alice" counts Alice's), as the list's
    /// `seller` filter.
    pub seller: Option<String>,
    /// Count test accounts with the real customers.
    #[graphql(default)]
    pub include_test_accounts: bool,
    /// Count the tenant's own company.
    #[graphql(default)]
    pub include_own_company: bool,
}

impl From<CustomerCountsFilter> for clientele_store::CustomerFilter {
    fn from(f: CustomerCountsFilter) -> Self {
        clientele_store::CustomerFilter {
            customer_type: f.customer_type.map(Into::into),
            seller_any_case: f.seller,
            include_test_accounts: f.include_test_accounts,
            own_company: (!f.include_own_company).then_some(false),
            include_deleted: true,
            ..Default::default()
        }
    }
}

/// Which changes an `accountStatusChanged` subscription receives.
#[derive(InputObject, Default)]
pub struct AccountStatusChangeFilter {
    /// Only this customer's changes.
    pub customer_id: Option<ID>,
    /// Only changes to one of these statuses.
    pub to: Option<Vec<AccountStatus>>,
}

/// A customer's derived account status changed.
#[derive(SimpleObject)]
pub struct AccountStatusChange {
    /// The cursor of the `AccountStatusChanged` event (see `customerEvents`).
    pub cursor: String,
    /// The customer whose status changed.
    pub customer_id: ID,
    /// The status before.
    pub from: AccountStatus,
    /// The status after.
    pub to: AccountStatus,
    /// The type of the event that caused the change.
    pub cause: String,
    /// The customer's version after the change.
    pub version: i64,
    /// When the change was committed.
    pub occurred_at: DateTime<Utc>,
}

/// The account-status fields of a customer.
#[derive(Debug, Clone)]
pub struct CustomerAccountStatus(pub(crate) Arc<CustomerRecord>);

#[Object]
impl CustomerAccountStatus {
    /// Every change of the account status, oldest first, with the event that caused it.
    async fn account_status_history(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<AccountStatusTransition>> {
        let store = ctx.data_unchecked::<Store>();
        let history = store
            .account_status_history(&self.0.tenant, &self.0.id)
            .await?;
        Ok(history.into_iter().map(Into::into).collect())
    }

    /// Why the account has its status: the products that decide it.
    async fn account_status_explanation(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<AccountStatusExplanation> {
        let products = load_products(ctx, &self.0).await?;
        let statuses: Vec<(String, clientele_domain::ProductStatus)> = products
            .iter()
            .filter_map(|p| p.status.map(|s| (p.key.clone(), s.into())))
            .collect();
        let deleted = self.0.account_status == clientele_domain::AccountStatus::Deleted;
        Ok(AccountStatusExplanation::of(deleted, statuses))
    }
}
