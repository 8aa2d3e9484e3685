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

    /// Customers per account status (every status, in order), from the asynchronous
    /// `customer_counts` projection.
    pub async fn customer_counts(
        &self,
        tenant: &str,
    ) -> Result<Vec<(AccountStatus, i64)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            account_status: String,
            customers: i64,
        }
        let rows: Vec<Row> = self
            .db()
            .fetch_all(
                "SELECT account_status, customers FROM customer_counts WHERE tenant_id = $1",
                &[tenant.into()],
            )
            .await?;
        let all = [
            AccountStatus::Preparation,
            AccountStatus::Trial,
            AccountStatus::Active,
            AccountStatus::TrialEnd,
            AccountStatus::Deleted,
        ];
        Ok(all
            .into_iter()
            .map(|status| {
                let count = rows
                    .iter()
                    .find(|r| r.account_status == status.as_str())
                    .map_or(0, |r| r.customers);
                (status, count)
            })
            .collect())
    }
}
