//! The derived account status: each customer's transitions and the tenant's customers per
//! status, as the read models hold them.

use chrono::{DateTime, Utc};
use clientele_domain::AccountStatus;

use crate::db::time;
use crate::{Store, StoreError};

/// One account-status transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusTransition {
    pub from: Option<AccountStatus>,
    pub to: AccountStatus,
    /// The customer version of this transition.
    pub version: i64,
    /// The event that caused it, and its version.
    pub cause: String,
    pub cause_version: i64,
    pub at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TransitionRow {
    version: i64,
    from_status: Option<String>,
    to_status: String,
    cause: String,
    cause_version: i64,
    occurred_at: i64,
}

impl Store {
    /// Every account-status transition of a customer, oldest first.
    pub async fn account_status_history(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Vec<StatusTransition>, StoreError> {
        let rows: Vec<TransitionRow> = self
            .db()
            .fetch_all(
                "SELECT version, from_status, to_status, cause, cause_version, occurred_at FROM account_status_history \
                 WHERE tenant_id = $1 AND customer_id = $2 ORDER BY version",
                &[tenant.into(), id.into()],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let status = |s: &str| {
                    AccountStatus::parse(s)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown account status {s}")))
                };
                Ok(StatusTransition {
                    from: r.from_status.as_deref().map(status).transpose()?,
                    to: status(&r.to_status)?,
                    version: r.version,
                    cause: r.cause,
                    cause_version: r.cause_version,
                    at: time(r.occurred_at),
                })
            })
            .collect()
    }

    /// Customers per account status (every status, in order) among those `filter` passes,
    /// counted in the `customers` read model: the same rules as the list, and as current
    /// as the last commit (the read model is inline). Deleted customers are their own
    /// status; the filter's `account_status` is ignored.
    pub async fn customer_counts_of(
        &self,
        tenant: &str,
        filter: &crate::CustomerFilter,
    ) -> Result<Vec<(AccountStatus, i64)>, StoreError> {
        let filter = crate::CustomerFilter {
            account_status: None,
            include_deleted: true,
            ..filter.clone()
        };
        let mut args = Vec::new();
        let sql = format!(
            "SELECT account_status, count(*) AS customers FROM customers {} GROUP BY account_status",
            crate::profile::filter_sql(tenant, &filter, &mut args)
        );
        let rows: Vec<CountRow> = self.db().fetch_all(&sql, &args).await?;
        Ok(every_status(&rows))
    }

    /// Customers per account status (every status, in order), from the asynchronous
    /// `customer_counts` projection: every customer of the tenant, test accounts and the
    /// own company included.
    pub async fn customer_counts(
        &self,
        tenant: &str,
    ) -> Result<Vec<(AccountStatus, i64)>, StoreError> {
        let rows: Vec<CountRow> = self
            .db()
            .fetch_all(
                "SELECT account_status, customers FROM customer_counts WHERE tenant_id = $1",
                &[tenant.into()],
            )
            .await?;
        Ok(every_status(&rows))
    }
}

#[derive(sqlx::FromRow)]
struct CountRow {
    account_status: String,
    customers: i64,
}

/// Every status, in order, with its count (0 when no row has it).
fn every_status(rows: &[CountRow]) -> Vec<(AccountStatus, i64)> {
    let all = [
        AccountStatus::Preparation,
        AccountStatus::Trial,
        AccountStatus::Active,
        AccountStatus::TrialEnd,
        AccountStatus::Deleted,
    ];
    all.into_iter()
        .map(|status| {
            let count = rows
                .iter()
                .find(|r| r.account_status == status.as_str())
                .map_or(0, |r| r.customers);
            (status, count)
        })
        .collect()
}
