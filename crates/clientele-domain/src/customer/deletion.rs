//! Deletion requests with a grace period, cancellation, and irreversible deletion (seed 001).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fields::CustomerProfile;
use super::{Customer, CustomerError};
use crate::{ProductStatus, Rule, Violation};

/// A product a deletion request stopped, and the status it had before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoppedProduct {
    pub product: String,
    pub previous: ProductStatus,
}

/// The deletion request that is open, if any.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenRequest {
    pub request_id: String,
    pub due_at: DateTime<Utc>,
    pub stopped: Vec<StoppedProduct>,
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
    Subtree { root: String },
}

/// The customer fields that are personal data, erased when the customer is deleted.
/// The name, organization, shortname and commercial settings stay for the audit trail.
pub const PERSONAL_FIELDS: [&str; 8] = [
    "email",
    "givenName",
    "familyName",
    "title",
    "country",
    "city",
    "address",
    "phone",
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
}

impl Customer {
    /// Products a deletion request stops: those in use or about to be.
    pub(super) fn products_to_stop(&self) -> Vec<StoppedProduct> {
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
    pub(super) fn products_to_delete(&self) -> Vec<(String, ProductStatus)> {
        self.products
            .iter()
            .filter_map(|(key, p)| match p.status {
                Some(s) if s != ProductStatus::Deleted => Some((key.clone(), s)),
                _ => None,
            })
            .collect()
    }

    /// Checks a deletion's confirmation; returns the request it carries out, if any.
    pub(super) fn check_confirmation(
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
