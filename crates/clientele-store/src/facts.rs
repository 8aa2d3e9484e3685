//! How each aggregate is stored: its tenant, its unique values, and the read-model facts
//! its commands need, looked up inside the command's transaction.

use clientele_domain::assignment::{
    CustomerState, DashboardAssignment, DashboardCommand, Exclusive, Owned, OwnershipCommand,
};
use clientele_domain::customer::{
    Confirmation, Customer, CustomerCommand, CustomerError, ParentFacts,
};

use crate::commands::{lock_hierarchy, retryable, Attempt, Committed, StoredAggregate};
use crate::db::{Arg, Tx};
use crate::events::EventMetadata;
use crate::{CommandError, Store, StoreError};

/// The kind under which a user's email is unique within the tenant.
pub const USER_EMAIL: &str = "user_email";

impl StoredAggregate for Customer {
    fn tenant(&self) -> Option<&str> {
        self.profile.as_ref().map(|_| self.tenant.as_str())
    }

    /// A deleted customer releases its name and shortname; each user holds its email
    /// (lower-cased) for as long as it exists.
    fn unique_keys(&self) -> Vec<(&'static str, String)> {
        if self.deleted {
            return Vec::new();
        }
        let users = self
            .users
            .values()
            .map(|u| (USER_EMAIL, u.profile.email.to_lowercase()));
        self.profile
            .iter()
            .flat_map(|p| p.unique_keys())
            .map(|(kind, value)| (kind.as_str(), value))
            .chain(users)
            .collect()
    }

    fn changes_hierarchy(command: &CustomerCommand) -> bool {
        matches!(
            command,
            CustomerCommand::CreateCustomer {
                parent: Some(_),
                ..
            } | CustomerCommand::MoveCustomer { .. }
                | CustomerCommand::DeleteCustomer { .. }
        )
    }

    async fn prepare(
        command: CustomerCommand,
        tx: &mut Tx,
        tenant: &str,
        id: &str,
        _current: &Customer,
    ) -> Result<CustomerCommand, CommandError<CustomerError>> {
        Ok(match command {
            CustomerCommand::CreateCustomer {
                tenant: t,
                draft,
                required,
                parent: Some(parent),
            } => CustomerCommand::CreateCustomer {
                tenant: t,
                draft,
                required,
                parent: Some(parent_facts(tx, tenant, parent.id).await?),
            },
            CustomerCommand::MoveCustomer {
                id,
                parent: Some(parent),
            } => CustomerCommand::MoveCustomer {
                id,
                parent: Some(parent_facts(tx, tenant, parent.id).await?),
            },
            CustomerCommand::DeleteCustomer {
                confirmation,
                deleted_by,
                ..
            } => CustomerCommand::DeleteCustomer {
                confirmation,
                deleted_by,
                inner_customers: live_children(tx, tenant, id).await?,
            },
            CustomerCommand::SetHomeDashboard {
                dashboard: Some(mut dashboard),
                hide_toolbar,
            } => {
                let assigned = tx
                    .fetch_optional::<(bool,)>(
                        "SELECT assigned FROM dashboard_assignments WHERE tenant_id = $1 AND customer_id = $2 AND dashboard_id = $3",
                        &[tenant.into(), id.into(), dashboard.id.as_str().into()],
                    )
                    .await?;
                dashboard.assigned = assigned.is_some_and(|(a,)| a);
                CustomerCommand::SetHomeDashboard {
                    dashboard: Some(dashboard),
                    hide_toolbar,
                }
            }
            other => other,
        })
    }
}

/// What the read model knows of a would-be parent.
async fn parent_facts(tx: &mut Tx, tenant: &str, id: String) -> Result<ParentFacts, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        ancestry: String,
        account_status: String,
    }
    let row: Option<Row> = tx
        .fetch_optional(
            "SELECT ancestry, account_status FROM customers WHERE tenant_id = $1 AND id = $2",
            &[tenant.into(), id.as_str().into()],
        )
        .await?;
    Ok(match row {
        Some(row) if row.account_status != "DELETED" => ParentFacts {
            ancestors: row
                .ancestry
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            exists: true,
            id,
        },
        _ => ParentFacts::unchecked(id),
    })
}

/// Whether a customer of the tenant is live, deleted or missing. With `lock`, the row is
/// share-locked on PostgreSQL until the transaction ends, so the customer cannot be
/// deleted before a command that relies on it commits.
pub(crate) async fn customer_state(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
    lock: bool,
) -> Result<CustomerState, StoreError> {
    let sql = match (&tx, lock) {
        (Tx::Pg(_), true) => {
            "SELECT account_status FROM customers WHERE tenant_id = $1 AND id = $2 FOR SHARE"
        }
        _ => "SELECT account_status FROM customers WHERE tenant_id = $1 AND id = $2",
    };
    #[derive(sqlx::FromRow)]
    struct Row {
        account_status: String,
    }
    let row: Option<Row> = tx.fetch_optional(sql, &[tenant.into(), id.into()]).await?;
    Ok(match row {
        None => CustomerState::Missing,
        Some(r) if r.account_status == "DELETED" => CustomerState::Deleted,
        Some(_) => CustomerState::Live,
    })
}

/// True when the customer that owned an entity is deleted (its assignments were released).
async fn owner_deleted(tx: &mut Tx, tenant: &str, owner: Option<&str>) -> Result<bool, StoreError> {
    Ok(match owner {
        Some(owner) => customer_state(tx, tenant, owner, false).await? != CustomerState::Live,
        None => false,
    })
}

impl<K: Exclusive> StoredAggregate for Owned<K> {
    fn tenant(&self) -> Option<&str> {
        (!self.tenant.is_empty()).then_some(self.tenant.as_str())
    }

    async fn prepare(
        command: OwnershipCommand,
        tx: &mut Tx,
        tenant: &str,
        _id: &str,
        current: &Self,
    ) -> Result<OwnershipCommand, CommandError<clientele_domain::assignment::AssignmentError>> {
        let deleted = owner_deleted(tx, tenant, current.owner.as_deref()).await?;
        Ok(match command {
            OwnershipCommand::Assign {
                tenant: t,
                entity_id,
                customer_id,
                ..
            } => OwnershipCommand::Assign {
                target: customer_state(tx, tenant, &customer_id, true).await?,
                tenant: t,
                entity_id,
                customer_id,
                owner_deleted: deleted,
            },
            OwnershipCommand::Unassign { .. } => OwnershipCommand::Unassign {
                owner_deleted: deleted,
            },
        })
    }
}

impl StoredAggregate for DashboardAssignment {
    fn tenant(&self) -> Option<&str> {
        (!self.tenant.is_empty()).then_some(self.tenant.as_str())
    }

    async fn prepare(
        command: DashboardCommand,
        tx: &mut Tx,
        tenant: &str,
        _id: &str,
        current: &Self,
    ) -> Result<DashboardCommand, CommandError<clientele_domain::assignment::AssignmentError>> {
        Ok(match command {
            DashboardCommand::Assign {
                tenant: t,
                dashboard_id,
                customer_id,
                ..
            } => DashboardCommand::Assign {
                target: customer_state(tx, tenant, &customer_id, true).await?,
                tenant: t,
                dashboard_id,
                customer_id,
            },
            DashboardCommand::Unassign { .. } => {
                #[derive(sqlx::FromRow)]
                struct Row {
                    home_dashboard_id: Option<String>,
                }
                let home: Option<Row> = tx
                    .fetch_optional(
                        "SELECT home_dashboard_id FROM customers WHERE tenant_id = $1 AND id = $2",
                        &[tenant.into(), current.customer_id.as_str().into()],
                    )
                    .await?;
                DashboardCommand::Unassign {
                    target: customer_state(tx, tenant, &current.customer_id, true).await?,
                    is_home: home.and_then(|h| h.home_dashboard_id).as_deref()
                        == Some(current.dashboard_id.as_str()),
                }
            }
        })
    }
}

/// The aggregate id of a device, asset or edge: the tenant is part of it, so two tenants
/// may use the same entity id.
pub fn entity_aggregate_id(tenant: &str, entity_id: &str) -> String {
    format!("{}/{entity_id}", escape(tenant))
}

/// The aggregate id of one (dashboard, customer) pair.
pub fn dashboard_aggregate_id(tenant: &str, customer_id: &str, dashboard_id: &str) -> String {
    format!("{}/{customer_id}/{dashboard_id}", escape(tenant))
}

fn escape(tenant: &str) -> String {
    tenant.replace('%', "%25").replace('/', "%2F")
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
        for _ in 0..8 {
            let mut tx = self.db().begin().await?;
            lock_hierarchy(&mut tx, tenant).await?;
            let mut appended = 0;
            if subtree {
                for inner in live_descendants(&mut tx, tenant, id).await? {
                    let command =
                        delete_command(Confirmation::Subtree { root: id.into() }, deleted_by);
                    let outcome = self
                        .attempt::<Customer>(&mut tx, &inner, command, metadata)
                        .await;
                    match retryable(outcome)? {
                        Attempt::Done(inner) => appended += inner.events.len(),
                        Attempt::Retry => continue,
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
                        self.commit(tx, appended + committed.events.len()).await?;
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
    }
}

/// The customer's live inner customers (children).
async fn live_children(tx: &mut Tx, tenant: &str, id: &str) -> Result<Vec<String>, StoreError> {
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

/// The range of `ancestry` values under the customer whose own path is `prefix`.
pub(crate) fn subtree_range(ancestry: &str, id: &str) -> (String, String) {
    let start = format!("{ancestry}{id}/");
    // '0' follows '/' in ASCII: every path that starts with `start` sorts below this.
    let end = format!("{ancestry}{id}0");
    (start, end)
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
