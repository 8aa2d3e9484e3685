//! Assignments: devices, assets and edges (one customer each), dashboards (many customers
//! each), and a customer's home dashboard, which must be one of its dashboards.

use async_graphql::{Context, Object, ID};
use clientele_domain::assignment::{check_entity_id, EntityKind as Kind};
use clientele_domain::customer::{CustomerCommand, DashboardFacts};
use clientele_domain::Rule;
use clientele_store::CommandError;

use super::shared::{customer_command, parts, within_reach};
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs, Ability};
use crate::types::assignments::{
    Assignment, BulkAssignment, DashboardCustomerConnection, EntityKind,
};
use crate::types::customer::{Customer, CustomerEdge};
use crate::types::page::{self, PageInfo};

/// BAD_USER_INPUT unless `id` is a valid id of an entity of this kind.
pub(super) fn entity(kind: Kind, id: &str) -> ApiResult<()> {
    check_entity_id(kind, id).map_err(|e| ApiError::from(CommandError::Rejected(e)))
}

/// Assigns an entity to a customer the caller may change with `ability`.
async fn assign(
    ctx: &Context<'_>,
    ability: Ability,
    kind: Kind,
    customer: &str,
    entity_id: &str,
) -> ApiResult<Assignment> {
    guard::customer_for(ctx, customer, ability).await?;
    entity(kind, entity_id)?;
    let (me, store, clock) = parts(ctx);
    let written = store
        .assign(kind, customer, entity_id, &me.metadata(clock.now()))
        .await?;
    Ok(Assignment {
        kind: kind.into(),
        entity_id: ID(entity_id.to_string()),
        customer_id: Some(ID(customer.to_string())),
        changed: written > 0,
    })
}

/// Most entities one bulk assignment takes.
pub const MAX_BULK_ASSIGN: usize = 10_000;

/// Assigns many devices, assets or edges to one customer, all or nothing.
async fn assign_many(
    ctx: &Context<'_>,
    ability: Ability,
    kind: Kind,
    argument: &str,
    customer: &str,
    entity_ids: Vec<ID>,
) -> ApiResult<BulkAssignment> {
    guard::customer_for(ctx, customer, ability).await?;
    if entity_ids.len() > MAX_BULK_ASSIGN {
        return Err(ApiError::argument(
            argument,
            Rule::Limit,
            format!(
                "{argument} holds {} ids; at most {MAX_BULK_ASSIGN} are allowed a call",
                entity_ids.len()
            ),
        ));
    }
    for (i, id) in entity_ids.iter().enumerate() {
        // Each refusal names the id's place in the list: `deviceIds.3`.
        check_entity_id(kind, id).map_err(|e| match ApiError::from(CommandError::Rejected(e)) {
            ApiError::BadUserInput {
                mut violations,
                prefix,
            } => {
                for violation in &mut violations {
                    violation.field = format!("{argument}.{i}");
                }
                ApiError::BadUserInput { violations, prefix }
            }
            other => other,
        })?;
    }
    let ids: Vec<String> = entity_ids.into_iter().map(|id| id.0).collect();
    let (me, store, clock) = parts(ctx);
    let done = store
        .assign_many(kind, customer, &ids, &me.metadata(clock.now()))
        .await?;
    Ok(BulkAssignment {
        kind: kind.into(),
        customer_id: ID(customer.to_string()),
        assigned: done.assigned as i32,
        unchanged: done.unchanged as i32,
    })
}

/// Takes an entity from its customer; a dashboard, which may have many, from `customer`.
async fn unassign(
    ctx: &Context<'_>,
    ability: Ability,
    kind: Kind,
    customer: Option<&str>,
    entity_id: &str,
) -> ApiResult<Assignment> {
    match customer {
        Some(customer) => {
            guard::customer_for(ctx, customer, ability).await?;
        }
        None => {
            guard::require(ctx, ability)?;
        }
    }
    entity(kind, entity_id)?;
    let (me, store, clock) = parts(ctx);
    let written = store
        .unassign(
            kind,
            customer.unwrap_or_default(),
            entity_id,
            &me.metadata(clock.now()),
        )
        .await?;
    Ok(Assignment {
        kind: kind.into(),
        entity_id: ID(entity_id.to_string()),
        customer_id: customer.map(|c| ID(c.to_string())),
        changed: written > 0,
    })
}

#[derive(Default)]
pub struct AssignmentsMutation;

#[Object]
impl AssignmentsMutation {
    /// Sets the customer's home dashboard (one of its dashboards, or null) and whether its
    /// toolbar is hidden.
    async fn set_home_dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] customer_id: ID,
        #[graphql(desc = "A dashboard assigned to the customer, or null for none.")]
        dashboard_id: Option<ID>,
        #[graphql(
            default,
            desc = "Whether the home dashboard's toolbar is hidden; false when omitted."
        )]
        hide_toolbar: bool,
    ) -> ApiResult<Customer> {
        guard::customer_for(ctx, &customer_id, needs!(Mutation, "setHomeDashboard")).await?;
        if let Some(d) = &dashboard_id {
            entity(Kind::Dashboard, d)?;
        }
        let command = CustomerCommand::SetHomeDashboard {
            dashboard: dashboard_id.map(|d| DashboardFacts {
                id: d.to_string(),
                assigned: false,
            }),
            hide_toolbar,
        };
        customer_command(ctx, &customer_id, command).await
    }

    /// Assigns a device to a customer; a device has one customer at a time, and
    /// re-assigning names both customers in the event.
    async fn assign_device(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer that gets the device.")] customer_id: ID,
        #[graphql(desc = "The device's id (a UUID).")] device_id: ID,
    ) -> ApiResult<Assignment> {
        let needed = needs!(Mutation, "assignDevice");
        assign(ctx, needed, Kind::Device, &customer_id, &device_id).await
    }

    /// Assigns up to 10,000 devices to a customer in one transaction, all or nothing: one
    /// event per device that moves (naming its previous customer), none for the devices the
    /// customer already has. The same rules as `assignDevice`, each device by its own
    /// aggregate.
    async fn assign_devices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer that gets the devices.")] customer_id: ID,
        #[graphql(desc = "1 to 10,000 device ids (UUIDs).")] device_ids: Vec<ID>,
    ) -> ApiResult<BulkAssignment> {
        let needed = needs!(Mutation, "assignDevices");
        assign_many(
            ctx,
            needed,
            Kind::Device,
            "deviceIds",
            &customer_id,
            device_ids,
        )
        .await
    }

    /// Assigns up to 10,000 assets to a customer, all or nothing (as `assignDevices`).
    async fn assign_assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer that gets the assets.")] customer_id: ID,
        #[graphql(desc = "1 to 10,000 asset ids (UUIDs).")] asset_ids: Vec<ID>,
    ) -> ApiResult<BulkAssignment> {
        let needed = needs!(Mutation, "assignAssets");
        assign_many(
            ctx,
            needed,
            Kind::Asset,
            "assetIds",
            &customer_id,
            asset_ids,
        )
        .await
    }

    /// Assigns up to 10,000 edges to a customer, all or nothing (as `assignDevices`).
    async fn assign_edges(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer that gets the edges.")] customer_id: ID,
        #[graphql(desc = "1 to 10,000 edge ids (UUIDs).")] edge_ids: Vec<ID>,
    ) -> ApiResult<BulkAssignment> {
        let needed = needs!(Mutation, "assignEdges");
        assign_many(ctx, needed, Kind::Edge, "edgeIds", &customer_id, edge_ids).await
    }

    /// Takes a device from its customer.
    async fn unassign_device(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The device's id.")] device_id: ID,
    ) -> ApiResult<Assignment> {
        let needed = needs!(Mutation, "unassignDevice");
        unassign(ctx, needed, Kind::Device, None, &device_id).await
    }

    /// Assigns an asset to a customer (one customer at a time).
    async fn assign_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer that gets the asset.")] customer_id: ID,
        #[graphql(desc = "The asset's id (a UUID).")] asset_id: ID,
    ) -> ApiResult<Assignment> {
        let needed = needs!(Mutation, "assignAsset");
        assign(ctx, needed, Kind::Asset, &customer_id, &asset_id).await
    }

    /// Takes an asset from its customer.
    async fn unassign_asset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The asset's id.")] asset_id: ID,
    ) -> ApiResult<Assignment> {
        let needed = needs!(Mutation, "unassignAsset");
        unassign(ctx, needed, Kind::Asset, None, &asset_id).await
    }

    /// Assigns an edge to a customer (one customer at a time).
    async fn assign_edge(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer that gets the edge.")] customer_id: ID,
        #[graphql(desc = "The edge's id (a UUID).")] edge_id: ID,
    ) -> ApiResult<Assignment> {
        let needed = needs!(Mutation, "assignEdge");
        assign(ctx, needed, Kind::Edge, &customer_id, &edge_id).await
    }

    /// Takes an edge from its customer.
    async fn unassign_edge(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The edge's id.")] edge_id: ID,
    ) -> ApiResult<Assignment> {
        let needed = needs!(Mutation, "unassignEdge");
        unassign(ctx, needed, Kind::Edge, None, &edge_id).await
    }

    /// Assigns a dashboard to a customer; a dashboard may be assigned to many customers.
    async fn assign_dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer the dashboard is assigned to.")] customer_id: ID,
        #[graphql(desc = "The dashboard's id (a UUID).")] dashboard_id: ID,
    ) -> ApiResult<Assignment> {
        let needed = needs!(Mutation, "assignDashboard");
        assign(ctx, needed, Kind::Dashboard, &customer_id, &dashboard_id).await
    }

    /// Takes a dashboard from one customer (not its home dashboard: CONFLICT).
    async fn unassign_dashboard(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer the dashboard is taken from.")] customer_id: ID,
        #[graphql(desc = "The dashboard's id.")] dashboard_id: ID,
    ) -> ApiResult<Assignment> {
        let needed = needs!(Mutation, "unassignDashboard");
        unassign(
            ctx,
            needed,
            Kind::Dashboard,
            Some(&customer_id),
            &dashboard_id,
        )
        .await
    }
}

/// The entity's side of its assignments.
#[derive(Default)]
pub struct AssignmentsQuery;

#[Object]
impl AssignmentsQuery {
    /// The customer a device, asset or edge is assigned to; null when it is assigned to
    /// none, or to a customer the caller may not see (the two look the same). A dashboard
    /// may be assigned to many customers: ask `dashboardCustomers`.
    async fn entity_owner(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "DEVICE, ASSET or EDGE.")] kind: EntityKind,
        #[graphql(desc = "The entity's id (a UUID).")] entity_id: ID,
    ) -> ApiResult<Option<Customer>> {
        guard::require(ctx, needs!(Query, "entityOwner"))?;
        let kind = Kind::from(kind);
        if kind == Kind::Dashboard {
            return Err(ApiError::argument(
                "kind",
                Rule::AllowedValues,
                "a dashboard may be assigned to many customers: ask dashboardCustomers",
            ));
        }
        entity(kind, &entity_id)?;
        let (me, store, _) = parts(ctx);
        let Some(owner) = store.owner_of(&me.tenant, kind, &entity_id).await? else {
            return Ok(None);
        };
        Ok(guard::visible_customer(ctx, &owner).await?.map(Into::into))
    }

    /// The customers a dashboard is assigned to, by id, as far as the caller may see them.
    async fn dashboard_customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The dashboard's id (a UUID).")] dashboard_id: ID,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The id of the customer to start after (from `pageInfo.endCursor`).")]
        after: Option<String>,
    ) -> ApiResult<DashboardCustomerConnection> {
        guard::require(ctx, needs!(Query, "dashboardCustomers"))?;
        entity(Kind::Dashboard, &dashboard_id)?;
        let first = page::first(first)?;
        let mut filter = clientele_store::CustomerFilter {
            include_test_accounts: true,
            ..Default::default()
        };
        within_reach(ctx, &mut filter).await?;
        let (me, store, _) = parts(ctx);
        let (records, more) = store
            .dashboard_customers(&me.tenant, &dashboard_id, &filter, first, after.as_deref())
            .await?;
        let edges: Vec<CustomerEdge> = records
            .into_iter()
            .map(|r| CustomerEdge {
                cursor: r.id.clone(),
                node: r.into(),
            })
            .collect();
        Ok(DashboardCustomerConnection {
            page_info: PageInfo::of(&edges, |e| e.cursor.clone(), more, after.is_some()),
            edges,
        })
    }
}
