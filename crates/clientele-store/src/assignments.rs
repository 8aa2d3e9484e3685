//! Assignments: devices, assets, edges and dashboards given to customers. Commands, the
//! aggregate ids, and reads (a customer's entities paged by id, and their counts).

use chrono::{DateTime, Utc};
use clientele_domain::assignment::{
    Asset, AssignmentError, CustomerState, DashboardAssignment, DashboardCommand, Device, Edge,
    EntityKind, Exclusive, Owned, OwnershipCommand,
};

use crate::commands::ATTEMPTS;
use crate::db::{time, Arg};
use crate::{CommandError, EventMetadata, Store, StoreError};

mod bulk;
mod owners;

/// One page of entity ids assigned to a customer, with when each was assigned.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignedPage {
    pub items: Vec<(String, DateTime<Utc>)>,
    pub has_next_page: bool,
}

/// What a bulk assignment did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkAssigned {
    /// Entities that moved to the customer (one event each).
    pub assigned: usize,
    /// Entities the customer already had.
    pub unchanged: usize,
}

/// How many entities of each kind a customer has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssignmentCounts {
    pub devices: i64,
    pub assets: i64,
    pub edges: i64,
    pub dashboards: i64,
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
    /// Assigns an entity to a customer: a device, asset or edge moves to it (from its
    /// previous owner, if any); a dashboard is added to the customer's dashboards.
    /// Returns the number of events written (0 when it was already so).
    pub async fn assign(
        &self,
        kind: EntityKind,
        customer_id: &str,
        entity_id: &str,
        metadata: &EventMetadata,
    ) -> Result<usize, CommandError<AssignmentError>> {
        let tenant = metadata.tenant.as_str();
        let command = || OwnershipCommand::Assign {
            tenant: tenant.to_string(),
            entity_id: entity_id.to_string(),
            customer_id: customer_id.to_string(),
            target: CustomerState::Missing,
            owner_deleted: false,
        };
        match kind {
            EntityKind::Device => self.owned::<Device>(entity_id, command(), metadata).await,
            EntityKind::Asset => self.owned::<Asset>(entity_id, command(), metadata).await,
            EntityKind::Edge => self.owned::<Edge>(entity_id, command(), metadata).await,
            EntityKind::Dashboard => {
                let command = DashboardCommand::Assign {
                    tenant: tenant.to_string(),
                    dashboard_id: entity_id.to_string(),
                    customer_id: customer_id.to_string(),
                    target: CustomerState::Missing,
                };
                let id = dashboard_aggregate_id(tenant, customer_id, entity_id);
                self.dashboard(&id, command, metadata).await
            }
        }
    }

    /// Unassigns a device, asset or edge from whichever customer has it (`customer_id` is
    /// ignored), or a dashboard from `customer_id`. Returns the number of events written.
    pub async fn unassign(
        &self,
        kind: EntityKind,
        customer_id: &str,
        entity_id: &str,
        metadata: &EventMetadata,
    ) -> Result<usize, CommandError<AssignmentError>> {
        let command = OwnershipCommand::Unassign {
            owner_deleted: false,
        };
        match kind {
            EntityKind::Device => self.owned::<Device>(entity_id, command, metadata).await,
            EntityKind::Asset => self.owned::<Asset>(entity_id, command, metadata).await,
            EntityKind::Edge => self.owned::<Edge>(entity_id, command, metadata).await,
            EntityKind::Dashboard => {
                let command = DashboardCommand::Unassign {
                    target: CustomerState::Missing,
                    is_home: false,
                };
                let id = dashboard_aggregate_id(&metadata.tenant, customer_id, entity_id);
                self.dashboard(&id, command, metadata).await
            }
        }
    }

    /// Runs a command on a device, asset or edge; returns the number of events written.
    async fn owned<K: Exclusive>(
        &self,
        entity_id: &str,
        command: OwnershipCommand,
        metadata: &EventMetadata,
    ) -> Result<usize, CommandError<AssignmentError>> {
        let id = entity_aggregate_id(&metadata.tenant, entity_id);
        let committed = self.execute::<Owned<K>>(&id, command, metadata).await?;
        Ok(committed.events.len())
    }

    /// Runs a command on a (dashboard, customer) pair; returns the number of events written.
    async fn dashboard(
        &self,
        id: &str,
        command: DashboardCommand,
        metadata: &EventMetadata,
    ) -> Result<usize, CommandError<AssignmentError>> {
        let committed = self
            .execute::<DashboardAssignment>(id, command, metadata)
            .await?;
        Ok(committed.events.len())
    }

    /// Assigns many devices, assets or edges to one customer in one transaction (all or
    /// nothing): each entity decided by the same command as `assign`, one event per entity
    /// that changes owner (naming its previous owner), none for one it already has. Loads,
    /// writes and read-model updates go a thousand rows a statement.
    pub async fn assign_many(
        &self,
        kind: EntityKind,
        customer_id: &str,
        entity_ids: &[String],
        metadata: &EventMetadata,
    ) -> Result<BulkAssigned, CommandError<AssignmentError>> {
        match kind {
            EntityKind::Device => {
                self.assign_many_of::<Device>(customer_id, entity_ids, metadata)
                    .await
            }
            EntityKind::Asset => {
                self.assign_many_of::<Asset>(customer_id, entity_ids, metadata)
                    .await
            }
            EntityKind::Edge => {
                self.assign_many_of::<Edge>(customer_id, entity_ids, metadata)
                    .await
            }
            EntityKind::Dashboard => Err(CommandError::Store(StoreError::Corrupt(
                "dashboards are assigned one at a time".into(),
            ))),
        }
    }

    async fn assign_many_of<K: Exclusive>(
        &self,
        customer_id: &str,
        entity_ids: &[String],
        metadata: &EventMetadata,
    ) -> Result<BulkAssigned, CommandError<AssignmentError>> {
        // Sorted, so that concurrent bulk assignments lock entities in the same order.
        let mut ids: Vec<&str> = entity_ids.iter().map(String::as_str).collect();
        ids.sort_unstable();
        ids.dedup();
        for attempt in 1..=ATTEMPTS {
            let mut tx = self.db().begin().await?;
            let outcome = bulk::assign::<K>(self, &mut tx, customer_id, &ids, metadata).await;
            match outcome {
                Ok(Some(done)) => {
                    if done.assigned > 0 {
                        // Entities' events end no session.
                        self.commit(tx, done.assigned, &[]).await?;
                    } else {
                        tx.rollback().await?;
                    }
                    return Ok(done);
                }
                Ok(None) => {
                    tracing::debug!(attempt, "concurrent write; deciding the bulk again");
                }
                Err(CommandError::Store(StoreError::Database(sqlx::Error::Database(db))))
                    if matches!(db.code().as_deref(), Some("40P01" | "40001")) => {}
                Err(error) => return Err(error),
            }
        }
        Err(CommandError::Contended)
    }

    /// A page of the entities of `kind` assigned to a customer, by id after `after`.
    pub async fn assigned(
        &self,
        tenant: &str,
        customer_id: &str,
        kind: EntityKind,
        first: usize,
        after: Option<&str>,
    ) -> Result<AssignedPage, StoreError> {
        let sql = match kind {
            EntityKind::Dashboard => format!(
                "SELECT dashboard_id, assigned_at FROM dashboard_assignments WHERE tenant_id = $1 AND customer_id = $2 \
                 AND assigned = $3 AND dashboard_id > $4 AND $5 = $5 ORDER BY dashboard_id LIMIT {}",
                first + 1
            ),
            _ => format!(
                "SELECT entity_id, assigned_at FROM assigned_entities WHERE tenant_id = $1 AND customer_id = $2 \
                 AND $3 = $3 AND entity_id > $4 AND kind = $5 ORDER BY entity_id LIMIT {}",
                first + 1
            ),
        };
        let args = [
            Arg::from(tenant),
            Arg::from(customer_id),
            Arg::Bool(true),
            Arg::Text(after.unwrap_or_default().to_string()),
            Arg::from(kind.as_str()),
        ];
        // Planned per customer: a generic plan, made for an average customer, walks the
        // whole tenant's primary key when one customer holds most of its devices.
        let rows: Vec<(String, i64)> = self.db().fetch_all_planned(&sql, &args).await?;
        let has_next_page = rows.len() > first;
        Ok(AssignedPage {
            items: rows
                .into_iter()
                .take(first)
                .map(|(id, at)| (id, time(at)))
                .collect(),
            has_next_page,
        })
    }

    /// How many entities of each kind the customer has.
    pub async fn assignment_counts(
        &self,
        tenant: &str,
        customer_id: &str,
    ) -> Result<AssignmentCounts, StoreError> {
        let rows: Vec<(String, i64)> = self
            .db()
            .fetch_all(
                "SELECT kind, assigned FROM assignment_counts WHERE tenant_id = $1 AND customer_id = $2",
                &[tenant.into(), customer_id.into()],
            )
            .await?;
        let mut counts = AssignmentCounts::default();
        for (kind, n) in rows {
            match kind.as_str() {
                "DEVICE" => counts.devices = n,
                "ASSET" => counts.assets = n,
                "EDGE" => counts.edges = n,
                "DASHBOARD" => counts.dashboards = n,
                _ => {}
            }
        }
        Ok(counts)
    }
}
