//! Assignments: devices, assets, edges and dashboards of a customer, and the outcome of
//! assigning one.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use clientele_domain::assignment::EntityKind as Kind;
use clientele_store::{AssignedPage, AssignmentCounts as StoreCounts, CustomerRecord, Store};

use super::customer::{Customer, CustomerEdge};
use super::page::{self, PageInfo};
use crate::error::ApiResult;

/// The kinds of entity assigned to customers.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::assignment::EntityKind")]
pub enum EntityKind {
    /// A device (one owner at a time).
    Device,
    /// An asset (one owner at a time).
    Asset,
    /// An edge (one owner at a time).
    Edge,
    /// A dashboard (assigned to any number of customers).
    Dashboard,
}

/// The outcome of an assign or unassign.
#[derive(SimpleObject, Debug, Clone)]
pub struct Assignment {
    /// The kind of entity.
    pub kind: EntityKind,
    /// The entity's id.
    pub entity_id: ID,
    /// The customer the entity is assigned to now (for a dashboard: the customer named),
    /// or null.
    pub customer_id: Option<ID>,
    /// False when it was already so (nothing was written).
    pub changed: bool,
}

/// What a bulk assignment did (all of it, or nothing).
#[derive(SimpleObject, Debug, Clone)]
pub struct BulkAssignment {
    /// The kind of entity.
    pub kind: EntityKind,
    /// The customer the entities are assigned to now.
    pub customer_id: ID,
    /// Entities that moved to the customer: one event each, naming the previous customer.
    pub assigned: i32,
    /// Entities the customer already had (nothing written for them).
    pub unchanged: i32,
}

/// An entity assigned to a customer.
#[derive(SimpleObject, Debug, Clone)]
pub struct AssignedEntity {
    /// The entity's id.
    pub id: ID,
    /// When it was assigned to the customer.
    pub assigned_at: DateTime<Utc>,
}

/// An assigned entity, with its cursor.
#[derive(SimpleObject, Debug, Clone)]
pub struct AssignedEntityEdge {
    /// Pass as `after` to page from this entity.
    pub cursor: String,
    /// The entity.
    pub node: AssignedEntity,
}

/// A page of a customer's entities of one kind, by id.
#[derive(SimpleObject, Debug, Clone)]
pub struct AssignedEntityConnection {
    /// The entities of this page.
    pub edges: Vec<AssignedEntityEdge>,
    /// Where this page sits in the list.
    pub page_info: PageInfo,
}

impl AssignedEntityConnection {
    pub fn new(page: AssignedPage, after: bool) -> Self {
        let edges: Vec<AssignedEntityEdge> = page
            .items
            .into_iter()
            .map(|(id, at)| AssignedEntityEdge {
                cursor: id.clone(),
                node: AssignedEntity {
                    id: ID(id),
                    assigned_at: at,
                },
            })
            .collect();
        AssignedEntityConnection {
            page_info: PageInfo::of(&edges, |e| e.cursor.clone(), page.has_next_page, after),
            edges,
        }
    }
}

/// A page of the customers a dashboard is assigned to, by id.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct DashboardCustomerConnection {
    /// The customers of this page, each with its cursor (its id).
    pub edges: Vec<CustomerEdge>,
    /// Where this page sits; pass `endCursor` as `after` for the next.
    pub page_info: PageInfo,
}

#[ComplexObject]
impl DashboardCustomerConnection {
    /// The customers of this page (the edges' nodes).
    async fn nodes(&self) -> Vec<Customer> {
        self.edges.iter().map(|e| e.node.clone()).collect()
    }
}

/// How many entities of each kind a customer has.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct AssignmentCounts {
    /// Devices assigned.
    pub devices: i64,
    /// Assets assigned.
    pub assets: i64,
    /// Edges assigned.
    pub edges: i64,
    /// Dashboards assigned.
    pub dashboards: i64,
}

impl From<StoreCounts> for AssignmentCounts {
    fn from(c: StoreCounts) -> Self {
        AssignmentCounts {
            devices: c.devices,
            assets: c.assets,
            edges: c.edges,
            dashboards: c.dashboards,
        }
    }
}

/// The assignment fields of a customer.
#[derive(Debug, Clone)]
pub struct CustomerAssignments(pub(crate) Arc<CustomerRecord>);

impl CustomerAssignments {
    /// One page of the customer's entities of one kind.
    async fn assigned(
        &self,
        ctx: &Context<'_>,
        kind: Kind,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<AssignedEntityConnection> {
        let store = ctx.data_unchecked::<Store>();
        let first = page::first(first)?;
        let page = store
            .assigned(&self.0.tenant, &self.0.id, kind, first, after.as_deref())
            .await?;
        Ok(AssignedEntityConnection::new(page, after.is_some()))
    }
}

#[Object]
impl CustomerAssignments {
    /// How many devices, assets, edges and dashboards the customer has.
    async fn assignment_counts(&self, ctx: &Context<'_>) -> ApiResult<AssignmentCounts> {
        let store = ctx.data_unchecked::<Store>();
        Ok(store
            .assignment_counts(&self.0.tenant, &self.0.id)
            .await?
            .into())
    }

    /// The devices assigned to the customer, by id (at most 100 a page, 20 by default).
    async fn devices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The cursor of the entity to start after (from `pageInfo.endCursor`).")]
        after: Option<String>,
    ) -> ApiResult<AssignedEntityConnection> {
        self.assigned(ctx, Kind::Device, first, after).await
    }

    /// The assets assigned to the customer, by id.
    async fn assets(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The cursor of the entity to start after (from `pageInfo.endCursor`).")]
        after: Option<String>,
    ) -> ApiResult<AssignedEntityConnection> {
        self.assigned(ctx, Kind::Asset, first, after).await
    }

    /// The edges assigned to the customer, by id.
    async fn edges(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The cursor of the entity to start after (from `pageInfo.endCursor`).")]
        after: Option<String>,
    ) -> ApiResult<AssignedEntityConnection> {
        self.assigned(ctx, Kind::Edge, first, after).await
    }

    /// The dashboards assigned to the customer, by id.
    async fn dashboards(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The cursor of the entity to start after (from `pageInfo.endCursor`).")]
        after: Option<String>,
    ) -> ApiResult<AssignedEntityConnection> {
        self.assigned(ctx, Kind::Dashboard, first, after).await
    }
}
