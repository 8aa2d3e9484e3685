//! Devices, assets, edges and dashboards assigned to customers.
//!
//! The customer aggregate holds none of this: it is loaded and rewritten by every command
//! on the customer, and a customer may have millions of devices. Instead each device, asset
//! and edge is an aggregate of its own whose state is its owner (one customer at a time), and
//! each (dashboard, customer) pair is one (a dashboard may be assigned to many customers).
//! When a customer is deleted it writes one `AssignmentsReleased` event; these aggregates
//! treat an owner that is deleted as no owner, so nothing is replayed per device.

mod dashboard;
mod owned;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{Rule, Violation};

pub use dashboard::{DashboardAssignment, DashboardCommand, DashboardEvent, DashboardLink};
pub use owned::{
    Asset, Assigned, Device, Edge, Exclusive, Owned, OwnershipCommand, OwnershipEvent, Unassigned,
};

/// The kinds of entity a customer is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityKind {
    Device,
    Asset,
    Edge,
    Dashboard,
}

impl EntityKind {
    pub const ALL: [EntityKind; 4] = [
        EntityKind::Device,
        EntityKind::Asset,
        EntityKind::Edge,
        EntityKind::Dashboard,
    ];

    /// As stored in read models.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::Device => "DEVICE",
            EntityKind::Asset => "ASSET",
            EntityKind::Edge => "EDGE",
            EntityKind::Dashboard => "DASHBOARD",
        }
    }

    /// The GraphQL argument naming an entity of this kind.
    pub fn id_field(self) -> &'static str {
        match self {
            EntityKind::Device => "deviceId",
            EntityKind::Asset => "assetId",
            EntityKind::Edge => "edgeId",
            EntityKind::Dashboard => "dashboardId",
        }
    }
}

/// What the store found of the customer a command names, in the command's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerState {
    Live,
    Deleted,
    Missing,
}

/// Why an assignment command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AssignmentError {
    #[error("invalid input: {0:?}")]
    Invalid(Vec<Violation>),
    #[error("no such customer")]
    CustomerNotFound,
    #[error("the customer is deleted; it takes no further command")]
    CustomerDeleted,
    #[error(
        "this dashboard is the customer's home dashboard; choose another home dashboard first"
    )]
    HomeDashboard,
}

/// The longest entity id accepted.
pub const MAX_ENTITY_ID: usize = 128;

/// Checks an entity id: 1 to 128 letters, digits and `- _ . : ~` (UUIDs and the like).
pub fn check_entity_id(kind: EntityKind, id: &str) -> Result<(), AssignmentError> {
    let field = kind.id_field();
    let refuse = |rule, message: String| {
        Err(AssignmentError::Invalid(vec![Violation::new(
            field, rule, message,
        )]))
    };
    if id.is_empty() || id.chars().count() > MAX_ENTITY_ID {
        return refuse(
            Rule::Length,
            format!("{field} must be 1 to {MAX_ENTITY_ID} characters"),
        );
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "-_.:~".contains(c);
    if !id.chars().all(allowed) {
        return refuse(
            Rule::Charset,
            format!("{field} may only use letters, digits and - _ . : ~"),
        );
    }
    Ok(())
}

fn check_target(target: CustomerState) -> Result<(), AssignmentError> {
    match target {
        CustomerState::Live => Ok(()),
        CustomerState::Deleted => Err(AssignmentError::CustomerDeleted),
        CustomerState::Missing => Err(AssignmentError::CustomerNotFound),
    }
}
