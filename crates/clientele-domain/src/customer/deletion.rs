//! Deletion: a request that stops the products in use and falls due after the tenant's grace
//! period, its cancellation, and deletion itself, which cannot be undone: personal data is
//! erased, and users and assignments go with the customer.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::event::{
    AssignmentsReleased, CustomerDeleted, CustomerEvent, DeletionCancelled, DeletionRequested,
    ProductStatusChanged, StoppedProduct, UserRef,
};
use super::profile::fields::CustomerProfile;
use super::{Customer, CustomerError};
use crate::{ProductStatus, Rule, Violation};

/// The deletion request that is open, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenRequest {
    pub request_id: String,
    pub due_at: DateTime<Utc>,
    pub stopped: Vec<StoppedProduct>,
    /// Whether the inner customers go with it when it falls due.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_inner_customers: bool,
}

/// How a deletion is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Confirmation {
    /// A person typed the customer's shortname (or its name when it has none).
    Typed(String),
    /// The service deletes because the open request `request_id` is due at `now`.
    DueRequest {
        request_id: String,
        now: DateTime<Utc>,
    },
    /// Deleted with its ancestor `root`, whose deletion was confirmed (a subtree deletion).
    Subtree {
        root: String,
        /// The root's request, when the root is deleted because it fell due.
        #[serde(default)]
        due_request: Option<String>,
    },
}

/// The customer fields that are personal data, erased when the customer is deleted.
/// The name, organization, shortname and commercial settings stay for the audit trail.
pub const PERSONAL_FIELDS: [&str; 11] = [
    "email",
    "givenName",
    "familyName",
    "title",
    "country",
    "city",
    "address",
    "phone",
    "state",
    "zip",
    "address2",
];

/// Removes every personal value from a profile.
pub fn erase_personal_data(profile: &mut CustomerProfile) {
    profile.email = None;
    profile.given_name = None;
    profile.family_name = None;
    profile.title = None;
    profile.country = None;
    profile.city = None;
    profile.address = None;
    profile.phone = None;
    profile.state = None;
    profile.zip = None;
    profile.address2 = None;
}

impl Customer {
    /// Opens a deletion request due at `due_at` and stops (PAUSED) every product in use.
    pub(super) fn decide_request_deletion(
        &self,
        request_id: String,
        reason: Option<String>,
        requested_by: String,
        due_at: DateTime<Utc>,
        (delete_inner_customers, inner_customers): (bool, Vec<String>),
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        if self.open_request.is_some() {
            return Err(CustomerError::RequestAlreadyOpen);
        }
        // The rule of a manual deletion, decided when the request is made.
        if !delete_inner_customers && !inner_customers.is_empty() {
            return Err(CustomerError::HasInnerCustomers(inner_customers));
        }
        let stopped = self.products_to_stop();
        let paused: Vec<CustomerEvent> = stopped
            .iter()
            .map(|p| {
                CustomerEvent::ProductStatusChanged(ProductStatusChanged {
                    product: p.product.clone(),
                    from: p.previous,
                    to: ProductStatus::Paused,
                })
            })
            .collect();
        let requested = CustomerEvent::DeletionRequested(DeletionRequested {
            request_id,
            reason,
            requested_by,
            due_at,
            stopped,
            delete_inner_customers,
        });
        Ok([requested].into_iter().chain(paused).collect())
    }

    /// Cancels the open request; only products still stopped by it go back to their earlier
    /// statuses, one changed since stays as it is.
    pub(super) fn decide_cancel_deletion(
        &self,
        note: String,
        cancelled_by: String,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        let Some(open) = self.open_request.clone() else {
            return Err(CustomerError::NoOpenRequest);
        };
        let restored: Vec<StoppedProduct> = open
            .stopped
            .into_iter()
            .filter(|p| {
                self.products.get(&p.product).and_then(|s| s.status) == Some(ProductStatus::Paused)
            })
            .collect();
        let resumed: Vec<CustomerEvent> = restored
            .iter()
            .map(|p| {
                CustomerEvent::ProductStatusChanged(ProductStatusChanged {
                    product: p.product.clone(),
                    from: ProductStatus::Paused,
                    to: p.previous,
                })
            })
            .collect();
        let cancelled = CustomerEvent::DeletionCancelled(DeletionCancelled {
            request_id: open.request_id,
            note,
            cancelled_by,
            restored,
        });
        Ok([cancelled].into_iter().chain(resumed).collect())
    }

    /// Deletes the customer now, for good: its products end (DELETED), its users and its
    /// assignments go with it. A customer with live inner customers is refused; they are
    /// deleted first, or with it as a subtree.
    pub(super) fn decide_delete(
        &self,
        confirmation: Confirmation,
        deleted_by: String,
        inner_customers: Vec<String>,
        released: [Vec<String>; 4],
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        let own_request = self.check_confirmation(&confirmation)?;
        // What caused it: a person, this customer's due request, or its ancestor's.
        let (request_id, automatic, deleted_with) = match &confirmation {
            Confirmation::Typed(_) => (own_request, false, None),
            Confirmation::DueRequest { request_id, .. } => (Some(request_id.clone()), true, None),
            Confirmation::Subtree {
                root,
                due_request: Some(request),
            } => (Some(request.clone()), true, Some(root.clone())),
            Confirmation::Subtree {
                root,
                due_request: None,
            } => (own_request, false, Some(root.clone())),
        };
        if !inner_customers.is_empty() {
            return Err(CustomerError::HasInnerCustomers(inner_customers));
        }
        let ended = self
            .products_to_delete()
            .into_iter()
            .map(|(product, from)| {
                CustomerEvent::ProductStatusChanged(ProductStatusChanged {
                    product,
                    from,
                    to: ProductStatus::Deleted,
                })
            });
        let removed = self.users.keys().map(|user_id| {
            CustomerEvent::CustomerUserRemoved(UserRef {
                user_id: user_id.clone(),
            })
        });
        let released = AssignmentsReleased::chunked(released)
            .into_iter()
            .map(CustomerEvent::AssignmentsReleased);
        let deleted = CustomerEvent::CustomerDeleted(CustomerDeleted {
            request_id,
            deleted_by,
            automatic,
            deleted_with,
        });
        Ok(ended
            .chain(removed)
            .chain(released)
            .chain([deleted])
            .collect())
    }

    /// Products a deletion request stops: those in use or about to be.
    fn products_to_stop(&self) -> Vec<StoppedProduct> {
        self.products
            .iter()
            .filter_map(|(key, p)| match p.status {
                Some(s @ (ProductStatus::New | ProductStatus::Trial | ProductStatus::Active)) => {
                    Some(StoppedProduct {
                        product: key.clone(),
                        previous: s,
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// Products a deletion ends: every activated product not already deleted.
    fn products_to_delete(&self) -> Vec<(String, ProductStatus)> {
        self.products
            .iter()
            .filter_map(|(key, p)| match p.status {
                Some(s) if s != ProductStatus::Deleted => Some((key.clone(), s)),
                _ => None,
            })
            .collect()
    }

    /// Checks a deletion's confirmation; returns the request it carries out, if any.
    fn check_confirmation(
        &self,
        confirmation: &Confirmation,
    ) -> Result<Option<String>, CustomerError> {
        match confirmation {
            Confirmation::Typed(typed) => {
                let profile = self.profile.as_ref().ok_or(CustomerError::NotFound)?;
                let expected = profile.shortname.as_deref().unwrap_or(&profile.name);
                if typed.trim() != expected {
                    let what = if profile.shortname.is_some() {
                        "shortname"
                    } else {
                        "name"
                    };
                    return Err(CustomerError::Invalid(vec![Violation::new(
                        "confirm",
                        Rule::Confirmation,
                        format!("type the customer's {what} to confirm; deletion cannot be undone"),
                    )]));
                }
                Ok(self.open_request.as_ref().map(|r| r.request_id.clone()))
            }
            Confirmation::Subtree { .. } => {
                Ok(self.open_request.as_ref().map(|r| r.request_id.clone()))
            }
            Confirmation::DueRequest { request_id, now } => match &self.open_request {
                Some(open) if &open.request_id == request_id && open.due_at <= *now => {
                    Ok(Some(request_id.clone()))
                }
                _ => Err(CustomerError::NotDue),
            },
        }
    }
}
