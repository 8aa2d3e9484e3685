//! Deleting a customer now, alone or with its whole subtree, and the dry run of it.

use clientele_domain::customer::{Confirmation, Customer, CustomerCommand, CustomerError};

use super::preview::DeletionPreview;
use crate::commands::{lock_hierarchy, retryable, Attempt, Committed, ATTEMPTS};
use crate::db::{Arg, Tx};
use crate::events::{Envelope, EventMetadata};
use crate::tree::subtree_range;
use crate::{CommandError, Store, StoreError};

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
        let deletion = Deletion {
            id,
            confirmation,
            subtree,
            deleted_by,
            metadata,
        };
        Ok(self.delete(deletion, false).await?.0)
    }

    /// A dry run of `delete_customer`: the same checks and the same events, in a
    /// transaction that is rolled back; answers what the deletion would do.
    pub async fn preview_delete_customer(
        &self,
        id: &str,
        confirmation: Confirmation,
        subtree: bool,
        deleted_by: &str,
        metadata: &EventMetadata,
    ) -> Result<DeletionPreview, CommandError<CustomerError>> {
        let deletion = Deletion {
            id,
            confirmation,
            subtree,
            deleted_by,
            metadata,
        };
        let (_, typed) = self.delete(deletion, true).await?;
        Ok(DeletionPreview::of(id, &typed))
    }

    /// Deletes (or, with `dry_run`, tries and rolls back) one customer or its subtree;
    /// answers the root's commit and every event written, typed.
    async fn delete(
        &self,
        deletion: Deletion<'_>,
        dry_run: bool,
    ) -> Result<(Committed<Customer>, Vec<Envelope>), CommandError<CustomerError>> {
        let Deletion {
            id,
            confirmation,
            subtree,
            deleted_by,
            metadata,
        } = deletion;
        let tenant = metadata.tenant.as_str();
        'attempts: for _ in 0..ATTEMPTS {
            let mut tx = self.db().begin().await?;
            lock_hierarchy(&mut tx, tenant).await?;
            let mut appended = 0;
            let mut ending = Vec::new();
            let mut typed = Vec::new();
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
                            typed.extend(inner.typed);
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
                    typed.extend(committed.typed.iter().cloned());
                    if dry_run {
                        tx.rollback().await?;
                    } else if !committed.events.is_empty() {
                        ending.extend(committed.ending.iter().cloned());
                        self.commit(tx, appended + committed.events.len(), &ending)
                            .await?;
                        // The erased personal fields must leave the files before we answer.
                        self.db().truncate_wal().await?;
                    }
                    return Ok((committed, typed));
                }
                Attempt::Retry => continue,
            }
        }
        Err(CommandError::Contended)
    }
}

/// What a deletion is asked to do.
struct Deletion<'a> {
    id: &'a str,
    confirmation: Confirmation,
    subtree: bool,
    deleted_by: &'a str,
    metadata: &'a EventMetadata,
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
