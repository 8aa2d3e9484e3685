//! Products of one customer: its own visibility (overriding the tenant's), activation and
//! status moves, and the guard that links them to the serviceStatus.

use serde::{Deserialize, Serialize};

use super::event::{
    CustomerEvent, ProductActivated, ProductStatusChanged, ProductVisibilityReset,
    ProductVisibilitySet,
};
use super::profile::fields::ServiceStatus;
use super::{Customer, CustomerError};
use crate::product::transition_allowed;
use crate::{ProductStatus, Rule, Violation};

/// One product as it stands for one customer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerProduct {
    /// The customer's own visibility; `None` follows the tenant's global setting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visible: Option<bool>,
    /// `None` until the product is activated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ProductStatus>,
}

/// What the tenant's catalogue says of a product when a command is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CatalogueEntry {
    /// Not in the tenant's catalogue.
    Unknown,
    /// In the catalogue, with its global visibility.
    Listed { globally_visible: bool },
}

/// One product toggle of the creation form: the customer's own visibility of `product`
/// from the start, with what the tenant's catalogue says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductToggle {
    pub product: String,
    pub visible: bool,
    pub catalogue: CatalogueEntry,
}

/// The visibility overrides a new customer starts with, one `ProductVisibilitySet` per
/// toggle of the creation form (a toggle given is an override, even when it matches the
/// global setting: later global changes leave it alone). A product outside the catalogue,
/// or one toggled twice, is refused (field `products`).
pub(super) fn creation_visibility(
    toggles: Vec<ProductToggle>,
) -> Result<Vec<CustomerEvent>, Vec<Violation>> {
    let mut violations = Vec::new();
    let mut events = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for toggle in toggles {
        if toggle.catalogue == CatalogueEntry::Unknown {
            violations.push(Violation::new(
                "products",
                Rule::UnknownProduct,
                format!("the catalogue has no product {}", toggle.product),
            ));
        } else if !seen.insert(toggle.product.clone()) {
            violations.push(Violation::new(
                "products",
                Rule::Unique,
                format!("product {} is toggled more than once", toggle.product),
            ));
        } else {
            events.push(CustomerEvent::ProductVisibilitySet(ProductVisibilitySet {
                product: toggle.product,
                visible: toggle.visible,
                previous: None,
            }));
        }
    }
    if violations.is_empty() {
        Ok(events)
    } else {
        Err(violations)
    }
}

fn refuse(field: &str, rule: Rule, message: impl Into<String>) -> CustomerError {
    CustomerError::Invalid(vec![Violation::new(field, rule, message)])
}

impl Customer {
    fn product(&self, key: &str) -> CustomerProduct {
        self.products.get(key).cloned().unwrap_or_default()
    }

    /// Overrides the tenant's global visibility of `product` for this customer; nothing is
    /// written when it is already set so.
    pub(super) fn decide_visibility(
        &self,
        product: String,
        visible: bool,
        catalogue: CatalogueEntry,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        if catalogue == CatalogueEntry::Unknown {
            return Err(refuse(
                "product",
                Rule::UnknownProduct,
                format!("the catalogue has no product {product}"),
            ));
        }
        let previous = self.product(&product).visible;
        if previous == Some(visible) {
            return Ok(vec![]);
        }
        Ok(vec![CustomerEvent::ProductVisibilitySet(
            ProductVisibilitySet {
                product,
                visible,
                previous,
            },
        )])
    }

    /// Removes the customer's own visibility of `product`, so the tenant's global setting
    /// applies again; nothing is written when it has none.
    pub(super) fn decide_reset_visibility(
        &self,
        product: String,
        catalogue: CatalogueEntry,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        if catalogue == CatalogueEntry::Unknown {
            return Err(refuse(
                "product",
                Rule::UnknownProduct,
                format!("the catalogue has no product {product}"),
            ));
        }
        let Some(previous) = self.product(&product).visible else {
            return Ok(vec![]);
        };
        Ok(vec![CustomerEvent::ProductVisibilityReset(
            ProductVisibilityReset { product, previous },
        )])
    }

    /// Activates a product the customer can see; it starts as NEW. A deleted product may be
    /// activated again.
    pub(super) fn decide_activation(
        &self,
        key: String,
        catalogue: CatalogueEntry,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        let CatalogueEntry::Listed { globally_visible } = catalogue else {
            return Err(refuse(
                "product",
                Rule::UnknownProduct,
                format!("the catalogue has no product {key}"),
            ));
        };
        let product = self.product(&key);
        if !product.visible.unwrap_or(globally_visible) {
            return Err(refuse(
                "product",
                Rule::NotVisible,
                format!(
                    "{key} is not visible to this customer; make it visible before activating it"
                ),
            ));
        }
        let previous = match product.status {
            Some(status) if status != ProductStatus::Deleted => {
                return Err(refuse(
                    "product",
                    Rule::AlreadyActivated,
                    format!("{key} is already activated (status {})", status.as_str()),
                ))
            }
            previous => previous,
        };
        Ok(vec![CustomerEvent::ProductActivated(ProductActivated {
            product: key,
            previous,
            status: ProductStatus::New,
        })])
    }

    /// Moves an activated product to another status, if the move makes sense; nothing is
    /// written when it already has that status.
    pub(super) fn decide_status(
        &self,
        key: String,
        to: ProductStatus,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        let Some(from) = self.product(&key).status else {
            return Err(refuse(
                "product",
                Rule::NotActivated,
                format!("{key} is not activated for this customer; activate it first"),
            ));
        };
        if from == to {
            return Ok(vec![]);
        }
        if !transition_allowed(from, to) {
            return Err(refuse(
                "status",
                Rule::Transition,
                format!("{key} cannot go from {} to {}", from.as_str(), to.as_str()),
            ));
        }
        let trial_contract = self.profile.as_ref().and_then(|p| p.service_status)
            == Some(ServiceStatus::TrialActive);
        if to == ProductStatus::Active && trial_contract {
            return Err(refuse(
                "status",
                Rule::ServiceStatus,
                "the customer's serviceStatus is TRIAL_ACTIVE; set it to ACTIVE before making a product ACTIVE",
            ));
        }
        Ok(vec![CustomerEvent::ProductStatusChanged(
            ProductStatusChanged {
                product: key,
                from,
                to,
            },
        )])
    }

    /// Refuses a TRIAL_ACTIVE serviceStatus while a product is ACTIVE.
    pub(super) fn check_service_status(
        &self,
        new: Option<ServiceStatus>,
    ) -> Result<(), CustomerError> {
        let has_active = self
            .products
            .values()
            .any(|p| p.status == Some(ProductStatus::Active));
        if new == Some(ServiceStatus::TrialActive) && has_active {
            return Err(refuse(
                "serviceStatus",
                Rule::ServiceStatus,
                "serviceStatus cannot be TRIAL_ACTIVE while a product is ACTIVE",
            ));
        }
        Ok(())
    }
}
