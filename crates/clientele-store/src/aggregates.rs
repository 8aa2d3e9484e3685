//! How each aggregate is stored: its tenant, its unique values, its events as projections
//! receive them, and the read-model facts its commands need, looked up inside the command's
//! transaction.

use clientele_domain::assignment::{
    AssignmentError, CustomerState, DashboardAssignment, DashboardCommand, Exclusive, Owned,
    OwnershipCommand, OwnershipEvent,
};
use clientele_domain::customer::{Customer, CustomerCommand, CustomerError, CustomerEvent};
use clientele_domain::tenant::{Tenant, TenantEvent};

use crate::commands::StoredAggregate;
use crate::db::Tx;
use crate::deletion::live_children;
use crate::events::LogEvent;
use crate::tree::{parent_facts, subtree_height};
use crate::users::USER_EMAIL;
use crate::{CommandError, StoreError};

impl StoredAggregate for Tenant {
    fn logged(event: TenantEvent) -> LogEvent {
        LogEvent::Tenant(event)
    }

    fn tenant(&self) -> Option<&str> {
        None
    }
}

impl StoredAggregate for Customer {
    fn logged(event: CustomerEvent) -> LogEvent {
        LogEvent::Customer(event)
    }

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
                | CustomerCommand::RequestDeletion { .. }
        )
    }

    /// The create resolvers and the import give every new customer a new UUID.
    fn creates(command: &CustomerCommand) -> bool {
        matches!(command, CustomerCommand::CreateCustomer { .. })
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
                requested_name,
                products,
            } => CustomerCommand::CreateCustomer {
                tenant: t,
                draft,
                required,
                parent: Some(parent_facts(tx, tenant, parent.id).await?),
                requested_name,
                products,
            },
            CustomerCommand::MoveCustomer {
                id,
                parent: Some(parent),
                ..
            } => CustomerCommand::MoveCustomer {
                parent: Some(parent_facts(tx, tenant, parent.id).await?),
                height: subtree_height(tx, tenant, &id).await?,
                id,
            },
            CustomerCommand::RequestDeletion {
                request_id,
                reason,
                requested_by,
                due_at,
                delete_inner_customers,
                ..
            } => CustomerCommand::RequestDeletion {
                request_id,
                reason,
                requested_by,
                due_at,
                delete_inner_customers,
                inner_customers: live_children(tx, tenant, id).await?,
            },
            CustomerCommand::DeleteCustomer {
                confirmation,
                deleted_by,
                ..
            } => CustomerCommand::DeleteCustomer {
                confirmation,
                deleted_by,
                inner_customers: live_children(tx, tenant, id).await?,
                released: assigned_ids(tx, tenant, id).await?,
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
    fn logged(event: OwnershipEvent) -> LogEvent {
        LogEvent::Entity(event)
    }

    fn tenant(&self) -> Option<&str> {
        (!self.tenant.is_empty()).then_some(self.tenant.as_str())
    }

    async fn prepare(
        command: OwnershipCommand,
        tx: &mut Tx,
        tenant: &str,
        _id: &str,
        current: &Self,
    ) -> Result<OwnershipCommand, CommandError<AssignmentError>> {
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
    fn logged(event: clientele_domain::assignment::DashboardEvent) -> LogEvent {
        LogEvent::Dashboard(event)
    }

    fn tenant(&self) -> Option<&str> {
        (!self.tenant.is_empty()).then_some(self.tenant.as_str())
    }

    async fn prepare(
        command: DashboardCommand,
        tx: &mut Tx,
        tenant: &str,
        _id: &str,
        current: &Self,
    ) -> Result<DashboardCommand, CommandError<AssignmentError>> {
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

/// The device, asset, edge and dashboard ids assigned to a customer, by kind, by id (what
/// its deletion releases, named in its `AssignmentsReleased` events).
async fn assigned_ids(tx: &mut Tx, tenant: &str, id: &str) -> Result<[Vec<String>; 4], StoreError> {
    let mut out: [Vec<String>; 4] = Default::default();
    for (slot, kind) in ["DEVICE", "ASSET", "EDGE"].into_iter().enumerate() {
        let rows: Vec<(String,)> = tx
            .fetch_all(
                "SELECT entity_id FROM assigned_entities WHERE tenant_id = $1 AND customer_id = $2 AND kind = $3 ORDER BY entity_id",
                &[tenant.into(), id.into(), kind.into()],
            )
            .await?;
        out[slot] = rows.into_iter().map(|(e,)| e).collect();
    }
    let rows: Vec<(String,)> = tx
        .fetch_all(
            "SELECT dashboard_id FROM dashboard_assignments WHERE tenant_id = $1 AND customer_id = $2 AND assigned = $3 ORDER BY dashboard_id",
            &[tenant.into(), id.into(), crate::db::Arg::Bool(true)],
        )
        .await?;
    out[3] = rows.into_iter().map(|(d,)| d).collect();
    Ok(out)
}
