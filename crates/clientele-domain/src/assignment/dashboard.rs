//! Dashboards: one may be assigned to many customers, so each (dashboard, customer) pair
//! is an aggregate of its own.

use serde::{Deserialize, Serialize};

use super::{check_entity_id, check_target, AssignmentError, CustomerState, EntityKind};
use crate::aggregate::{decided_aggregate, event_enum};

/// One dashboard and one customer: whether the dashboard is assigned to it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardAssignment {
    pub tenant: String,
    pub dashboard_id: String,
    pub customer_id: String,
    pub assigned: bool,
}

/// What can be asked of a (dashboard, customer) pair; the facts are filled in by the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DashboardCommand {
    Assign {
        tenant: String,
        dashboard_id: String,
        customer_id: String,
        target: CustomerState,
    },
    Unassign {
        target: CustomerState,
        /// The dashboard is the customer's home dashboard.
        is_home: bool,
    },
}

/// A dashboard and a customer, as the events name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardLink {
    pub tenant: String,
    pub dashboard_id: String,
    pub customer_id: String,
}

event_enum! {
    /// Events of dashboard assignments: a storage contract.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub enum DashboardEvent {
        DashboardAssigned(DashboardLink),
        DashboardUnassigned(DashboardLink),
    }
}

decided_aggregate!(
    DashboardAssignment,
    TYPE = "DashboardAssignment",
    DashboardCommand => DashboardEvent, AssignmentError
);

impl DashboardAssignment {
    /// The events a command produces from the pair's state, or why it is refused.
    fn decide(&self, command: DashboardCommand) -> Result<Vec<DashboardEvent>, AssignmentError> {
        Ok(match command {
            DashboardCommand::Assign {
                tenant,
                dashboard_id,
                customer_id,
                target,
            } => {
                check_entity_id(EntityKind::Dashboard, &dashboard_id)?;
                check_target(target)?;
                if self.assigned {
                    return Ok(vec![]);
                }
                let link = DashboardLink {
                    tenant,
                    dashboard_id,
                    customer_id,
                };
                vec![DashboardEvent::DashboardAssigned(link)]
            }
            // A deleted customer's dashboards were released with it: nothing to do.
            DashboardCommand::Unassign { target, is_home } => {
                if !self.assigned || target != CustomerState::Live {
                    return Ok(vec![]);
                }
                if is_home {
                    return Err(AssignmentError::HomeDashboard);
                }
                let link = DashboardLink {
                    tenant: self.tenant.clone(),
                    dashboard_id: self.dashboard_id.clone(),
                    customer_id: self.customer_id.clone(),
                };
                vec![DashboardEvent::DashboardUnassigned(link)]
            }
        })
    }

    /// Folds one event. Never fails: events are facts.
    fn evolve(&mut self, event: DashboardEvent) {
        match event {
            DashboardEvent::DashboardAssigned(link) => {
                self.tenant = link.tenant;
                self.dashboard_id = link.dashboard_id;
                self.customer_id = link.customer_id;
                self.assigned = true;
            }
            DashboardEvent::DashboardUnassigned(_) => self.assigned = false,
        }
    }
}
