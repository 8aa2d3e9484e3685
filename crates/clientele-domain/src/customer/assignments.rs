//! The customer's home dashboard. The devices, assets, edges and dashboards assigned to a
//! customer are aggregates of their own (`crate::assignment`); deleting the customer releases
//! them all with one `AssignmentsReleased` event (`deletion`).

use serde::{Deserialize, Serialize};

use super::event::{CustomerEvent, HomeDashboardSet};
use super::{Customer, CustomerError};
use crate::{Rule, Violation};

/// A dashboard named as the home dashboard, and whether it is assigned to the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardFacts {
    pub id: String,
    pub assigned: bool,
}

impl Customer {
    /// Sets the home dashboard (or none) and whether its toolbar is hidden; the dashboard
    /// must be assigned to the customer.
    pub(super) fn decide_home_dashboard(
        &self,
        dashboard: Option<DashboardFacts>,
        hide_toolbar: bool,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        if let Some(d) = dashboard.as_ref().filter(|d| !d.assigned) {
            return Err(CustomerError::Invalid(vec![Violation::new(
                "dashboardId",
                Rule::NotAssigned,
                format!(
                    "dashboard {} is not assigned to this customer; assign it first",
                    d.id
                ),
            )]));
        }
        let dashboard_id = dashboard.map(|d| d.id);
        if dashboard_id == self.home_dashboard && hide_toolbar == self.hide_toolbar {
            return Ok(vec![]);
        }
        Ok(vec![CustomerEvent::HomeDashboardSet(HomeDashboardSet {
            dashboard_id,
            hide_toolbar,
        })])
    }
}
