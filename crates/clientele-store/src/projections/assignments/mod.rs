//! Assignment read models (projection `assignments`): the owner of each device, asset and
//! edge (`assigned_entities`), the dashboards of each customer (`dashboard_assignments`) and
//! how many of each kind a customer has (`assignment_counts`). Applied inline; idempotent by
//! the entity aggregate's version (rows are kept, with no owner, when unassigned). The home
//! dashboard columns of `customers` are written here for the `customers` projection.

use clientele_domain::assignment::{DashboardEvent, DashboardLink, EntityKind, OwnershipEvent};
use clientele_domain::customer::{CustomerEvent, HomeDashboardSet};

use crate::db::{Arg, Tx};
use crate::events::{Envelope, LogEvent};
use crate::StoreError;

mod batch;

pub(crate) use batch::apply_batch;

pub(crate) async fn apply(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    match &e.event {
        LogEvent::Entity(event) => {
            let (kind, entity_id, to) = ownership(event);
            log_for_customers(tx, e, kind_type(kind), &named(event)).await?;
            set_owner(tx, e, kind, entity_id, to).await
        }
        LogEvent::Dashboard(DashboardEvent::DashboardAssigned(link)) => {
            log_for_customers(tx, e, DASHBOARD_TYPE, &[link.customer_id.as_str()]).await?;
            set_dashboard(tx, e, link, true).await
        }
        LogEvent::Dashboard(DashboardEvent::DashboardUnassigned(link)) => {
            log_for_customers(tx, e, DASHBOARD_TYPE, &[link.customer_id.as_str()]).await?;
            set_dashboard(tx, e, link, false).await
        }
        LogEvent::Customer(event) => customer(tx, e, event).await,
        LogEvent::Tenant(_) => Ok(()),
    }
}

const DASHBOARD_TYPE: &str = "DashboardAssignment";

/// The aggregate type of an entity kind's ownership events.
fn kind_type(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Device => "Device",
        EntityKind::Asset => "Asset",
        EntityKind::Edge => "Edge",
        EntityKind::Dashboard => DASHBOARD_TYPE,
    }
}

/// Lists the event under every customer it names (`customer_assignment_log`), so that the
/// customer's history finds it by the customer's id.
async fn log_for_customers(
    tx: &mut Tx,
    e: &Envelope,
    aggregate_type: &str,
    customers: &[&str],
) -> Result<(), StoreError> {
    for customer in customers {
        tx.execute(
            "INSERT INTO customer_assignment_log (tenant_id, customer_id, aggregate_type, aggregate_id, sequence) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            &[
                Arg::from(e.tenant()),
                Arg::from(*customer),
                Arg::from(aggregate_type),
                Arg::from(e.aggregate_id.as_str()),
                Arg::Int(e.sequence),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn customer(tx: &mut Tx, e: &Envelope, event: &CustomerEvent) -> Result<(), StoreError> {
    match event {
        // One event releases everything the deleted customer had, however much.
        CustomerEvent::AssignmentsReleased(_) => {
            let args = [Arg::from(e.tenant()), Arg::from(e.aggregate_id.as_str())];
            tx.execute(
                "UPDATE assigned_entities SET customer_id = NULL WHERE tenant_id = $1 AND customer_id = $2",
                &args,
            )
            .await?;
            tx.execute(
                "UPDATE dashboard_assignments SET assigned = $3 WHERE tenant_id = $1 AND customer_id = $2",
                &[args[0].clone(), args[1].clone(), Arg::Bool(false)],
            )
            .await?;
            tx.execute(
                "DELETE FROM assignment_counts WHERE tenant_id = $1 AND customer_id = $2",
                &args,
            )
            .await?;
            // A deleted customer has no dashboards, so no home dashboard.
            tx.execute(
                "UPDATE customers SET home_dashboard_id = NULL, hide_toolbar = $3 WHERE tenant_id = $1 AND id = $2",
                &[args[0].clone(), args[1].clone(), Arg::Bool(false)],
            )
            .await?;
            Ok(())
        }
        // The home dashboard is a column of `customers`, written by that projection
        // (`home_dashboard`).
        CustomerEvent::HomeDashboardSet(_)
        | CustomerEvent::CustomerCreated(_)
        | CustomerEvent::CustomerEdited(_)
        | CustomerEvent::ProductVisibilitySet(_)
        | CustomerEvent::ProductVisibilityReset(_)
        | CustomerEvent::ProductActivated(_)
        | CustomerEvent::ProductStatusChanged(_)
        | CustomerEvent::AccountStatusChanged(_)
        | CustomerEvent::DeletionRequested(_)
        | CustomerEvent::DeletionCancelled(_)
        | CustomerEvent::CustomerDeleted(_)
        | CustomerEvent::ImpersonationStarted(_)
        | CustomerEvent::ImpersonationEnded(_)
        | CustomerEvent::SessionEnded(_)
        | CustomerEvent::SignInLockedOut(_)
        | CustomerEvent::PasswordSet(_)
        | CustomerEvent::PasswordResetIssued(_)
        | CustomerEvent::CustomerUserAdded(_)
        | CustomerEvent::CustomerUserEdited(_)
        | CustomerEvent::CustomerUserDisabled(_)
        | CustomerEvent::CustomerUserEnabled(_)
        | CustomerEvent::CustomerUserRemoved(_)
        | CustomerEvent::ActivationIssued(_)
        | CustomerEvent::CustomerUserActivated(_)
        | CustomerEvent::CustomerMoved(_) => Ok(()),
    }
}

/// The customer's home dashboard and toolbar, on its `customers` row (for the `customers`
/// projection), if the row is older than the event.
pub(super) async fn home_dashboard(
    tx: &mut Tx,
    e: &Envelope,
    set: &HomeDashboardSet,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE customers SET version = $3, updated_at = $4, home_dashboard_id = $5, hide_toolbar = $6 \
         WHERE tenant_id = $1 AND id = $2 AND version < $3",
        &[
            Arg::from(e.tenant()),
            Arg::from(e.aggregate_id.as_str()),
            Arg::Int(e.sequence),
            Arg::Int(e.occurred_at().timestamp_micros()),
            Arg::OptText(set.dashboard_id.clone()),
            Arg::Bool(set.hide_toolbar),
        ],
    )
    .await?;
    Ok(())
}

async fn count(
    tx: &mut Tx,
    tenant: &str,
    customer: &str,
    kind: EntityKind,
    delta: i64,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO assignment_counts (tenant_id, customer_id, kind, assigned) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (tenant_id, customer_id, kind) DO UPDATE SET assigned = assignment_counts.assigned + excluded.assigned",
        &[tenant.into(), customer.into(), kind.as_str().into(), Arg::Int(delta)],
    )
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Owner {
    customer_id: Option<String>,
    version: i64,
}

/// Moves an entity to `to` (or to no customer), if the row is older than the event.
async fn set_owner(
    tx: &mut Tx,
    e: &Envelope,
    kind: EntityKind,
    entity_id: &str,
    to: Option<&str>,
) -> Result<(), StoreError> {
    let tenant = e.tenant();
    let row: Option<Owner> = tx
        .fetch_optional(
            "SELECT customer_id, version FROM assigned_entities WHERE tenant_id = $1 AND kind = $2 AND entity_id = $3",
            &[tenant.into(), kind.as_str().into(), entity_id.into()],
        )
        .await?;
    if row.as_ref().is_some_and(|r| r.version >= e.sequence) {
        return Ok(());
    }
    if let Some(from) = row.and_then(|r| r.customer_id) {
        count(tx, tenant, &from, kind, -1).await?;
    }
    tx.execute(
        "INSERT INTO assigned_entities (tenant_id, kind, entity_id, customer_id, assigned_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, kind, entity_id) DO UPDATE SET \
         customer_id = excluded.customer_id, assigned_at = excluded.assigned_at, version = excluded.version",
        &[
            tenant.into(),
            kind.as_str().into(),
            entity_id.into(),
            Arg::OptText(to.map(str::to_string)),
            Arg::Int(e.occurred_at().timestamp_micros()),
            Arg::Int(e.sequence),
        ],
    )
    .await?;
    if let Some(to) = to {
        count(tx, tenant, to, kind, 1).await?;
    }
    Ok(())
}

/// Assigns or unassigns a dashboard for one customer, if the row is older than the event.
async fn set_dashboard(
    tx: &mut Tx,
    e: &Envelope,
    link: &DashboardLink,
    assigned: bool,
) -> Result<(), StoreError> {
    let tenant = e.tenant();
    let row: Option<(bool, i64)> = tx
        .fetch_optional(
            "SELECT assigned, version FROM dashboard_assignments WHERE tenant_id = $1 AND customer_id = $2 AND dashboard_id = $3",
            &[tenant.into(), link.customer_id.as_str().into(), link.dashboard_id.as_str().into()],
        )
        .await?;
    if row.is_some_and(|(_, version)| version >= e.sequence) {
        return Ok(());
    }
    let was = row.is_some_and(|(a, _)| a);
    tx.execute(
        "INSERT INTO dashboard_assignments (tenant_id, customer_id, dashboard_id, assigned, assigned_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, customer_id, dashboard_id) DO UPDATE SET \
         assigned = excluded.assigned, assigned_at = excluded.assigned_at, version = excluded.version",
        &[
            tenant.into(),
            link.customer_id.as_str().into(),
            link.dashboard_id.as_str().into(),
            Arg::Bool(assigned),
            Arg::Int(e.occurred_at().timestamp_micros()),
            Arg::Int(e.sequence),
        ],
    )
    .await?;
    if was != assigned {
        let delta = if assigned { 1 } else { -1 };
        count(tx, tenant, &link.customer_id, EntityKind::Dashboard, delta).await?;
    }
    Ok(())
}

/// The kind, the entity and its new owner (none when unassigned) of an ownership event.
fn ownership(event: &OwnershipEvent) -> (EntityKind, &str, Option<&str>) {
    match event {
        OwnershipEvent::DeviceAssigned(a) => {
            (EntityKind::Device, &a.entity_id, Some(&a.customer_id))
        }
        OwnershipEvent::AssetAssigned(a) => (EntityKind::Asset, &a.entity_id, Some(&a.customer_id)),
        OwnershipEvent::EdgeAssigned(a) => (EntityKind::Edge, &a.entity_id, Some(&a.customer_id)),
        OwnershipEvent::DeviceUnassigned(u) => (EntityKind::Device, &u.entity_id, None),
        OwnershipEvent::AssetUnassigned(u) => (EntityKind::Asset, &u.entity_id, None),
        OwnershipEvent::EdgeUnassigned(u) => (EntityKind::Edge, &u.entity_id, None),
    }
}

/// The customers an ownership event is listed under: the new owner and the previous one.
fn named(event: &OwnershipEvent) -> Vec<&str> {
    match event {
        OwnershipEvent::DeviceAssigned(a)
        | OwnershipEvent::AssetAssigned(a)
        | OwnershipEvent::EdgeAssigned(a) => std::iter::once(a.customer_id.as_str())
            .chain(a.previous_customer_id.as_deref())
            .collect(),
        OwnershipEvent::DeviceUnassigned(u)
        | OwnershipEvent::AssetUnassigned(u)
        | OwnershipEvent::EdgeUnassigned(u) => vec![u.customer_id.as_str()],
    }
}
