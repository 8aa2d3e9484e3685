//! What a deletion would do, read from the events its dry run decided: the inner customers
//! deleted with it, the users removed, the devices, assets, edges and dashboards released,
//! the open deletion requests it closes.

use clientele_domain::customer::CustomerEvent;

use crate::events::{Envelope, LogEvent};

/// What deleting a customer (with its subtree, when asked) would do. Every list is in the
/// order the deletion writes it: inner customers deepest first, then the customer itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeletionPreview {
    /// The inner customers deleted with it (empty unless the subtree goes too).
    pub inner_customers: Vec<String>,
    /// The users removed, of the customer and of its deleted inner customers.
    pub users: Vec<String>,
    /// The devices released.
    pub devices: Vec<String>,
    /// The assets released.
    pub assets: Vec<String>,
    /// The edges released.
    pub edges: Vec<String>,
    /// The dashboards released.
    pub dashboards: Vec<String>,
    /// The open deletion requests the deletion carries out (closes).
    pub closed_requests: Vec<ClosedRequest>,
    /// How many events the deletion would write.
    pub events: usize,
}

/// An open deletion request a deletion closes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosedRequest {
    pub customer_id: String,
    pub request_id: String,
}

impl DeletionPreview {
    /// Reads the preview of deleting `root` from the events the deletion decided.
    pub(crate) fn of(root: &str, events: &[Envelope]) -> Self {
        let mut preview = DeletionPreview {
            events: events.len(),
            ..Default::default()
        };
        for envelope in events {
            let LogEvent::Customer(event) = &envelope.event else {
                continue;
            };
            let customer = envelope.aggregate_id.as_str();
            // A deletion writes only these (decide_delete); the account status it derives
            // and the products it ends say nothing about what else goes.
            match event {
                CustomerEvent::CustomerUserRemoved(user) => {
                    preview.users.push(user.user_id.clone());
                }
                CustomerEvent::AssignmentsReleased(released) => {
                    preview.devices.extend(released.devices.iter().cloned());
                    preview.assets.extend(released.assets.iter().cloned());
                    preview.edges.extend(released.edges.iter().cloned());
                    preview
                        .dashboards
                        .extend(released.dashboards.iter().cloned());
                }
                CustomerEvent::CustomerDeleted(deleted) => {
                    if customer != root {
                        preview.inner_customers.push(customer.to_string());
                    }
                    if let Some(request_id) = &deleted.request_id {
                        preview.closed_requests.push(ClosedRequest {
                            customer_id: customer.to_string(),
                            request_id: request_id.clone(),
                        });
                    }
                }
                _ => {}
            }
        }
        preview
    }
}
