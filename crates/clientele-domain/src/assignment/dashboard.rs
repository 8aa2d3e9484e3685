//! Dashboards: one may be assigned to many customers, so each (dashboard, customer) pair
//! is an aggregate of its own.

use cqrs_es::event_sink::EventSink;
use cqrs_es::{Aggregate, DomainEvent};
use serde::{Deserialize, Serialize};

use super::{check_entity_id, check_target, AssignmentError, CustomerState, EntityKind};
use crate::EVENT_VERSION_1;

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

/// Events of dashboard assignments: a storage contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DashboardEvent {
    DashboardAssigned(DashboardLink),
    DashboardUnassigned(DashboardLink),
}

impl DomainEvent for DashboardEvent {
    fn event_type(&self) -> String {
        match self {
            DashboardEvent::DashboardAssigned(_) => "DashboardAssigned",
            DashboardEvent::DashboardUnassigned(_) => "DashboardUnassigned",
        }
        .to_string()
    }

    fn event_version(&self) -> String {
        EVENT_VERSION_1.to_string()
    }
}

impl Aggregate for DashboardAssignment {
    const TYPE: &'static str = "DashboardAssignment";
    type Command = DashboardCommand;
    type Event = DashboardEvent;
    type Error = AssignmentError;
    type Services = ();

    async fn handle(
        &mut self,
        command: Self::Command,
        _services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        match command {
            DashboardCommand::Assign {
                tenant,
                dashboard_id,
                customer_id,
                target,
            } => {
                check_entity_id(EntityKind::Dashboard, &dashboard_id)?;
                check_target(target)?;
                if !self.assigned {
                    let link = DashboardLink {
                        tenant,
                        dashboard_id,
                        customer_id,
                    };
                    sink.write(DashboardEvent::DashboardAssigned(link), self)
                        .await;
                }
            }
            // A deleted customer's dashboards were released with it: nothing to do.
            DashboardCommand::Unassign { target, is_home } => {
                if self.assigned && target == CustomerState::Live {
                    if is_home {
                        return Err(AssignmentError::HomeDashboard);
                    }
                    let link = DashboardLink {
                        tenant: self.tenant.clone(),
                        dashboard_id: self.dashboard_id.clone(),
                        customer_id: self.customer_id.clone(),
                    };
                    sink.write(DashboardEvent::DashboardUnassigned(link), self)
                        .await;
                }
            }
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
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
