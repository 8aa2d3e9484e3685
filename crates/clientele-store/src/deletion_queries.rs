//! Reads of deletion requests, for auditors and for the deletion scheduler.

use chrono::{DateTime, Utc};

use crate::db::Arg;
use crate::{Store, StoreError};

/// One deletion request and how it ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRequestRecord {
    pub request_id: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub due_at: DateTime<Utc>,
    /// OPEN, CANCELLED or CARRIED_OUT.
    pub status: String,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub note: Option<String>,
    pub automatic: bool,
}

#[derive(sqlx::FromRow)]
struct Row {
    request_id: String,
    requested_by: String,
    requested_at: i64,
    reason: Option<String>,
    due_at: i64,
    status: String,
    closed_by: Option<String>,
    closed_at: Option<i64>,
    note: Option<String>,
    automatic: bool,
}

/// A request that is due: (tenant, customer, request).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueRequest {
    pub tenant_id: String,
    pub customer_id: String,
    pub request_id: String,
}

fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

impl Store {
    /// Every deletion request of a customer, oldest first.
    pub async fn deletion_requests(
        &self,
        tenant: &str,
        customer: &str,
    ) -> Result<Vec<DeletionRequestRecord>, StoreError> {
        let rows: Vec<Row> = self
            .db()
            .fetch_all(
                "SELECT request_id, requested_by, requested_at, reason, due_at, status, closed_by, closed_at, note, automatic \
                 FROM deletion_requests WHERE tenant_id = $1 AND customer_id = $2 ORDER BY requested_at, version",
                &[tenant.into(), customer.into()],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| DeletionRequestRecord {
                request_id: r.request_id,
                requested_by: r.requested_by,
                requested_at: time(r.requested_at),
                reason: r.reason,
                due_at: time(r.due_at),
                status: r.status,
                closed_by: r.closed_by,
                closed_at: r.closed_at.map(time),
                note: r.note,
                automatic: r.automatic,
            })
            .collect())
    }

    /// Open requests due at `now`, every tenant, oldest first.
    pub async fn due_deletion_requests(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DueRequest>, StoreError> {
        self.db()
            .fetch_all(
                "SELECT tenant_id, customer_id, request_id FROM deletion_requests \
                 WHERE status = 'OPEN' AND due_at <= $1 ORDER BY due_at LIMIT $2",
                &[Arg::Int(now.timestamp_micros()), Arg::Int(limit)],
            )
            .await
    }

    /// Days between a deletion request and the automatic deletion, for the tenant.
    pub async fn deletion_grace_days(&self, tenant: &str) -> Result<u32, StoreError> {
        let days = self
            .db()
            .fetch_scalar(
                "SELECT CAST(deletion_grace_days AS BIGINT) FROM tenant_settings WHERE tenant_id = $1",
                &[tenant.into()],
            )
            .await?;
        Ok(days.map_or(clientele_domain::tenant::DEFAULT_GRACE_DAYS, |d| d as u32))
    }
}
