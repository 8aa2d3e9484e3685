//! Products, per tenant and per customer, and the account status they decide.

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use async_graphql::SimpleObject;
use chrono::{DateTime, Utc};
use clientele_store::{CatalogueProduct, StatusTransition, Store};

use super::enums::{AccountStatus, ProductStatus, VisibilitySource};
use crate::error::ApiError;

/// A product of the tenant's catalogue.
#[derive(SimpleObject, Debug, Clone)]
pub struct Product {
    /// Stable key, e.g. CDN.
    pub key: String,
    pub name: String,
    /// The global visibility new customers inherit.
    pub visible: bool,
}

impl From<CatalogueProduct> for Product {
    fn from(p: CatalogueProduct) -> Self {
        Product {
            key: p.key,
            name: p.name,
            visible: p.visible,
        }
    }
}

/// One catalogue product as it stands for one customer.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerProduct {
    pub key: String,
    pub name: String,
    /// Whether the customer sees it (a tab in its portal); visible does not mean activated.
    pub visible: bool,
    pub visibility_source: VisibilitySource,
    /// Null until the product is activated.
    pub status: Option<ProductStatus>,
}

/// One change of a customer's account status.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccountStatusTransition {
    /// Null for the first status, set at creation.
    pub from: Option<AccountStatus>,
    pub to: AccountStatus,
    pub at: DateTime<Utc>,
    /// The type of the event that caused the change, and the customer version it made.
    pub cause: String,
    pub cause_version: i64,
}

impl From<StatusTransition> for AccountStatusTransition {
    fn from(t: StatusTransition) -> Self {
        AccountStatusTransition {
            from: t.from.map(Into::into),
            to: t.to.into(),
            at: t.at,
            cause: t.cause,
            cause_version: t.cause_version,
        }
    }
}

/// A product's status, as it counts for the account status.
#[derive(SimpleObject, Debug, Clone)]
pub struct ProductStatusEntry {
    pub key: String,
    pub status: ProductStatus,
}

/// Why the account has its status.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccountStatusExplanation {
    pub status: AccountStatus,
    /// A sentence naming the products that decide it.
    pub reason: String,
    /// Every activated product and its status.
    pub products: Vec<ProductStatusEntry>,
}

/// Loads the products of every customer on a page in two queries (catalogue and rows),
/// whatever the page size. Keys are (tenant, customer id).
pub struct ProductsLoader(pub Store);

impl Loader<(String, String)> for ProductsLoader {
    type Value = Vec<CustomerProduct>;
    type Error = async_graphql::Error;

    async fn load(
        &self,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), Self::Value>, Self::Error> {
        let mut result = HashMap::new();
        let mut tenants: Vec<&String> = keys.iter().map(|(t, _)| t).collect();
        tenants.sort();
        tenants.dedup();
        for tenant in tenants {
            let ids: Vec<String> = keys
                .iter()
                .filter(|(t, _)| t == tenant)
                .map(|(_, id)| id.clone())
                .collect();
            let catalogue = self.0.catalogue(tenant).await.map_err(ApiError::from)?;
            let mut rows = self
                .0
                .customer_products(tenant, &ids)
                .await
                .map_err(ApiError::from)?;
            for id in ids {
                let own = rows.remove(&id).unwrap_or_default();
                let products = catalogue
                    .iter()
                    .map(|p| {
                        let row = own.iter().find(|r| r.product == p.key);
                        let visible = row.and_then(|r| r.visible);
                        CustomerProduct {
                            key: p.key.clone(),
                            name: p.name.clone(),
                            visible: visible.unwrap_or(p.visible),
                            visibility_source: if visible.is_some() {
                                VisibilitySource::Customer
                            } else {
                                VisibilitySource::Global
                            },
                            status: row.and_then(|r| r.status()).map(Into::into),
                        }
                    })
                    .collect();
                result.insert((tenant.clone(), id), products);
            }
        }
        Ok(result)
    }
}
