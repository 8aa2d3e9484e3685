//! Assignment read models (seed 004): the owner of each device, asset and edge
//! (`assigned_entities`), the dashboards of each customer (`dashboard_assignments`) and how
//! many of each kind a customer has (`assignment_counts`). Applied inline; idempotent by
//! the entity aggregate's version (rows are kept, with no owner, when unassigned).

use clientele_domain::assignment::{Assigned, DashboardLink, EntityKind, Unassigned};

use crate::db::{Arg, Tx};
use crate::events::StoredEvent;
use crate::StoreError;

fn body<T: serde::de::DeserializeOwned>(event: &StoredEvent) -> Result<T, StoreError> {
    serde_json::from_value(event.body().clone()).map_err(|e| {
        StoreError::Corrupt(format!(
            "{} #{} of {} does not decode: {e}",
            event.event_type, event.sequence, event.aggregate_id
        ))
    })
}

fn kind_of(aggregate_type: &str) -> Option<EntityKind> {
    match aggregate_type {
        "Device" => Some(EntityKind::Device),
        "Asset" => Some(EntityKind::Asset),
        "Edge" => Some(EntityKind::Edge),
        _ => None,
    }
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
    event: &StoredEvent,
    kind: EntityKind,
    entity_id: &str,
    to: Option<&str>,
) -> Result<(), StoreError> {
    let tenant = event.metadata.tenant.as_str();
    let row: Option<Owner> = tx
        .fetch_optional(
            "SELECT customer_id, version FROM assigned_entities WHERE tenant_id = $1 AND kind = $2 AND entity_id = $3",
            &[tenant.into(), kind.as_str().into(), entity_id.into()],
        )
        .await?;
    if row.as_ref().is_some_and(|r| r.version >= event.sequence) {
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
            Arg::Int(event.metadata.occurred_at.timestamp_micros()),
            Arg::Int(event.sequence),
        ],
    )
    .await?;
    if let Some(to) = to {
        count(tx, tenant, to, kind, 1).await?;
    }
    Ok(())
}

/// Assigns or unassigns a dashboard for one customer, if the row is older than the event.
async fn set_dashboard(tx: &mut Tx, event: &StoredEvent, assigned: bool) -> Result<(), StoreError> {
    let link: DashboardLink = body(event)?;
    let tenant = event.metadata.tenant.as_str();
    let row: Option<(bool, i64)> = tx
        .fetch_optional(
            "SELECT assigned, version FROM dashboard_assignments WHERE tenant_id = $1 AND customer_id = $2 AND dashboard_id = $3",
            &[tenant.into(), link.customer_id.as_str().into(), link.dashboard_id.as_str().into()],
        )
        .await?;
    if row.is_some_and(|(_, version)| version >= event.sequence) {
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
            Arg::Int(event.metadata.occurred_at.timestamp_micros()),
            Arg::Int(event.sequence),
        ],
    )
    .await?;
    if was != assigned {
        let delta = if assigned { 1 } else { -1 };
        count(tx, tenant, &link.customer_id, EntityKind::Dashboard, delta).await?;
    }
    Ok(())
}

pub(crate) async fn apply(tx: &mut Tx, event: &StoredEvent) -> Result<(), StoreError> {
    if let Some(kind) = kind_of(&event.aggregate_type) {
        return if event.event_type.ends_with("Unassigned") {
            let unassigned: Unassigned = body(event)?;
            set_owner(tx, event, kind, &unassigned.entity_id, None).await
        } else {
            let assigned: Assigned = body(event)?;
            set_owner(
                tx,
                event,
                kind,
                &assigned.entity_id,
                Some(&assigned.customer_id),
            )
            .await
        };
    }
    match (event.aggregate_type.as_str(), event.event_type.as_str()) {
        ("DashboardAssignment", "DashboardAssigned") => set_dashboard(tx, event, true).await,
        ("DashboardAssignment", "DashboardUnassigned") => set_dashboard(tx, event, false).await,
        // One event releases everything the deleted customer had, however much.
        ("Customer", "AssignmentsReleased") => {
            let args = [
                Arg::from(event.metadata.tenant.as_str()),
                Arg::from(event.aggregate_id.as_str()),
            ];
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
            Ok(())
        }
        _ => Ok(()),
    }
}
