//! Deletion: reads of deletion requests (for auditors and for the deletion scheduler) and
//! the tenant's grace period; delete.rs deletes a customer, alone or with its whole
//! subtree, and preview.rs says what a deletion would do (its dry run).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};

use crate::db::{time, Arg};
use crate::profile::filter_sql;
use crate::{CustomerFilter, Store, StoreError};

mod delete;
mod preview;

pub(crate) use delete::live_children;
pub use preview::{ClosedRequest, DeletionPreview};

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
    /// Whether the inner customers go with it when it falls due.
    pub delete_inner_customers: bool,
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
    delete_inner_customers: bool,
}

/// A request that is due: (tenant, customer, request).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DueRequest {
    pub tenant_id: String,
    pub customer_id: String,
    pub request_id: String,
    /// Whether the request takes the inner customers with it.
    pub delete_inner_customers: bool,
}

/// Which deletion requests a tenant-wide list holds.
#[derive(Debug, Clone, Default)]
pub struct DeletionRequestFilter {
    /// OPEN, CANCELLED or CARRIED_OUT; every status when `None`.
    pub status: Option<String>,
    /// Only requests due strictly before this instant.
    pub due_before: Option<DateTime<Utc>>,
    pub customer_id: Option<String>,
    /// Only requests of the customers this filter passes (the principal's reach); every
    /// customer of the tenant when `None`.
    pub customers: Option<CustomerFilter>,
}

/// A position in the list: (due, customer, request) of the row it points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletionRequestCursor {
    due_at: i64,
    customer_id: String,
    request_id: String,
}

impl DeletionRequestCursor {
    pub fn encode(&self) -> String {
        let raw = format!("{}|{}|{}", self.due_at, self.customer_id, self.request_id);
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn decode(cursor: &str) -> Option<Self> {
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
        let mut parts = raw.splitn(3, '|');
        Some(DeletionRequestCursor {
            due_at: parts.next()?.parse().ok()?,
            customer_id: parts.next()?.to_string(),
            request_id: parts.next()?.to_string(),
        })
    }
}

/// One page of the tenant-wide list: each request with its customer and cursor.
#[derive(Debug, Clone)]
pub struct DeletionRequestPage {
    pub items: Vec<(DeletionRequestCursor, String, DeletionRequestRecord)>,
    pub has_next_page: bool,
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    customer_id: String,
    #[sqlx(flatten)]
    row: Row,
}

impl From<Row> for DeletionRequestRecord {
    fn from(r: Row) -> Self {
        DeletionRequestRecord {
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
            delete_inner_customers: r.delete_inner_customers,
        }
    }
}

const REQUEST_COLUMNS: &str = "request_id, requested_by, requested_at, reason, due_at, status, \
     closed_by, closed_at, note, automatic, delete_inner_customers";

impl Store {
    /// The tenant's deletion requests, soonest due first (ties by customer and request),
    /// by keyset after `after`.
    pub async fn list_deletion_requests(
        &self,
        tenant: &str,
        filter: &DeletionRequestFilter,
        first: usize,
        after: Option<&DeletionRequestCursor>,
    ) -> Result<DeletionRequestPage, StoreError> {
        let mut args: Vec<Arg> = Vec::new();
        let mut clauses = Vec::new();
        if let Some(customers) = &filter.customers {
            let visible = filter_sql(tenant, customers, &mut args);
            clauses.push(format!(
                "customer_id IN (SELECT id FROM customers {visible})"
            ));
        }
        let mut push = |clause: &str, arg: Arg, args: &mut Vec<Arg>| {
            args.push(arg);
            clauses.push(clause.replace('?', &format!("${}", args.len())));
        };
        push("tenant_id = ?", tenant.into(), &mut args);
        if let Some(status) = &filter.status {
            push("status = ?", status.as_str().into(), &mut args);
        }
        if let Some(due) = filter.due_before {
            push("due_at < ?", Arg::Int(due.timestamp_micros()), &mut args);
        }
        if let Some(customer) = &filter.customer_id {
            push("customer_id = ?", customer.as_str().into(), &mut args);
        }
        if let Some(after) = after {
            args.push(Arg::Int(after.due_at));
            args.push(after.customer_id.as_str().into());
            args.push(after.request_id.as_str().into());
            let n = args.len();
            clauses.push(format!(
                "(due_at, customer_id, request_id) > (${}, ${}, ${})",
                n - 2,
                n - 1,
                n
            ));
        }
        let sql = format!(
            "SELECT customer_id, {REQUEST_COLUMNS} FROM deletion_requests WHERE {} \
             ORDER BY due_at, customer_id, request_id LIMIT {}",
            clauses.join(" AND "),
            first + 1
        );
        let rows: Vec<ListedRow> = self.db().fetch_all(&sql, &args).await?;
        let has_next_page = rows.len() > first;
        let items = rows
            .into_iter()
            .take(first)
            .map(|ListedRow { customer_id, row }| {
                let cursor = DeletionRequestCursor {
                    due_at: row.due_at,
                    customer_id: customer_id.clone(),
                    request_id: row.request_id.clone(),
                };
                (cursor, customer_id, row.into())
            })
            .collect();
        Ok(DeletionRequestPage {
            items,
            has_next_page,
        })
    }

    /// Every deletion request of a customer, oldest first.
    pub async fn deletion_requests(
        &self,
        tenant: &str,
        customer: &str,
    ) -> Result<Vec<DeletionRequestRecord>, StoreError> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM deletion_requests \
             WHERE tenant_id = $1 AND customer_id = $2 ORDER BY requested_at, version"
        );
        let rows: Vec<Row> = self
            .db()
            .fetch_all(&sql, &[tenant.into(), customer.into()])
            .await?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    /// Open requests due at `now`, every tenant, oldest first.
    pub async fn due_deletion_requests(
        &self,
        now: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<DueRequest>, StoreError> {
        self.db()
            .fetch_all(
                "SELECT tenant_id, customer_id, request_id, delete_inner_customers FROM deletion_requests \
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
