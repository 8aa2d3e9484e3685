//! Deletion: reads of deletion requests (for auditors and for the deletion scheduler), the
//! tenant's grace period, and deleting a customer, alone or with its whole subtree.

use chrono::{DateTime, Utc};
use clientele_domain::customer::{Confirmation, Customer, CustomerCommand, CustomerError};

use crate::commands::{lock_hierarchy, retryable, Attempt, Committed, ATTEMPTS};
use crate::db::{time, Arg, Tx};
use crate::events::EventMetadata;
use crate::tree::subtree_range;
use crate::{CommandError, Store, StoreError};

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
                "SELECT request_id, requested_by, requested_at, reason, due_at, status, closed_by, closed_at, note, automatic, delete_inner_customers \
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
                delete_inner_customers: r.delete_inner_customers,
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

impl Store {
    /// Deletes a customer. One with live inner customers is refused
    /// (`HasInnerCustomers`) unless `subtree`: then every inner customer, deepest first,
    /// is deleted with it, in one transaction (all or nothing).
    pub async fn delete_customer(
        &self,
        id: &str,
        confirmation: Confirmation,
        subtree: bool,
        deleted_by: &str,
        metadata: &EventMetadata,
    ) -> Result<Committed<Customer>, CommandError<CustomerError>> {
        let tenant = metadata.tenant.as_str();
        'attempts: for _ in 0..ATTEMPTS {
            let mut tx = self.db().begin().await?;
            lock_hierarchy(&mut tx, tenant).await?;
            let mut appended = 0;
            let mut ending = Vec::new();
            if subtree {
                for inner in live_descendants(&mut tx, tenant, id).await? {
                    // An automatic deletion carries its cause to every inner customer.
                    let due_request = match &confirmation {
                        Confirmation::DueRequest { request_id, .. } => Some(request_id.clone()),
                        _ => None,
                    };
                    let subtree = Confirmation::Subtree {
                        root: id.into(),
                        due_request,
                    };
                    let command = delete_command(subtree, deleted_by);
                    let outcome = self
                        .attempt::<Customer>(&mut tx, &inner, command, metadata)
                        .await;
                    match retryable(outcome)? {
                        Attempt::Done(inner) => {
                            appended += inner.events.len();
                            ending.extend(inner.ending);
                        }
                        // The whole subtree is decided again, in a new transaction.
                        Attempt::Retry => continue 'attempts,
                    }
                }
            }
            let command = delete_command(confirmation.clone(), deleted_by);
            let outcome = self
                .attempt::<Customer>(&mut tx, id, command, metadata)
                .await;
            match retryable(outcome)? {
                Attempt::Done(committed) => {
                    if !committed.events.is_empty() {
                        ending.extend(committed.ending.iter().cloned());
                        self.commit(tx, appended + committed.events.len(), &ending)
                            .await?;
                        // The erased personal fields must leave the files before we answer.
                        self.db().truncate_wal().await?;
                    }
                    return Ok(committed);
                }
                Attempt::Retry => continue,
            }
        }
        Err(CommandError::Contended)
    }
}

/// A deletion command; `prepare` fills in the live inner customers.
fn delete_command(confirmation: Confirmation, deleted_by: &str) -> CustomerCommand {
    CustomerCommand::DeleteCustomer {
        confirmation,
        deleted_by: deleted_by.to_string(),
        inner_customers: Vec::new(),
        released: Default::default(),
    }
}

/// The customer's live inner customers (children).
pub(crate) async fn live_children(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
) -> Result<Vec<String>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
    }
    let children: Vec<Row> = tx
        .fetch_all(
            "SELECT id FROM customers WHERE tenant_id = $1 AND parent_id = $2 AND account_status <> 'DELETED' ORDER BY id",
            &[tenant.into(), id.into()],
        )
        .await?;
    Ok(children.into_iter().map(|r| r.id).collect())
}

/// Live customers under `id`, deepest first.
async fn live_descendants(tx: &mut Tx, tenant: &str, id: &str) -> Result<Vec<String>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        id: String,
    }
    #[derive(sqlx::FromRow)]
    struct Path {
        ancestry: String,
    }
    let Some(root) = tx
        .fetch_optional::<Path>(
            "SELECT ancestry FROM customers WHERE tenant_id = $1 AND id = $2",
            &[tenant.into(), id.into()],
        )
        .await?
    else {
        return Ok(Vec::new());
    };
    let (start, end) = subtree_range(&root.ancestry, id);
    let rows: Vec<Row> = tx
        .fetch_all(
            "SELECT id FROM customers WHERE tenant_id = $1 AND ancestry >= $2 AND ancestry < $3 \
             AND account_status <> 'DELETED' ORDER BY length(ancestry) DESC, id",
            &[tenant.into(), Arg::Text(start), Arg::Text(end)],
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.id).collect())
}
