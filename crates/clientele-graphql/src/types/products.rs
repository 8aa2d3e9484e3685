//! Products: the tenant's catalogue, each customer's products, and the loader that reads a
//! page's products in two queries.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, Enum, InputObject, Object, SimpleObject};
use clientele_store::{CatalogueProduct, CustomerRecord, Store};

use crate::error::{ApiError, ApiResult};

/// A product of the tenant's catalogue.
#[derive(SimpleObject, Debug, Clone)]
pub struct Product {
    /// Stable key, e.g. CDN.
    pub key: String,
    /// The name shown to people.
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

/// One product toggle of the creation form: the new customer's own visibility of it.
#[derive(InputObject, Debug, Clone)]
pub struct ProductVisibilityInput {
    /// The key of a product of the tenant's catalogue, e.g. CDN.
    pub product: String,
    /// Whether the customer sees it; an override of the global setting either way.
    pub visible: bool,
}

/// One catalogue product as it stands for one customer.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerProduct {
    /// The product's stable key, e.g. CDN.
    pub key: String,
    /// The name shown to people.
    pub name: String,
    /// Whether the customer sees it (a tab in its portal); visible does not mean activated.
    pub visible: bool,
    /// Whether `visible` comes from the tenant's global setting or the customer's own.
    pub visibility_source: VisibilitySource,
    /// Null until the product is activated.
    pub status: Option<ProductStatus>,
}

impl CustomerProduct {
    /// A catalogue product for one customer: its own visibility override, if any, else the
    /// catalogue's; and its status once activated.
    pub fn of(
        product: &CatalogueProduct,
        visible: Option<bool>,
        status: Option<clientele_domain::ProductStatus>,
    ) -> CustomerProduct {
        CustomerProduct {
            key: product.key.clone(),
            name: product.name.clone(),
            visible: visible.unwrap_or(product.visible),
            visibility_source: if visible.is_some() {
                VisibilitySource::Customer
            } else {
                VisibilitySource::Global
            },
            status: status.map(Into::into),
        }
    }
}

/// Loads the products of every customer on a page in two queries (catalogue and rows),
/// whatever the page size. Keys are (tenant, customer id).
pub struct ProductsLoader(pub Store);

impl Loader<(String, String)> for ProductsLoader {
    type Value = Vec<CustomerProduct>;
    type Error = ApiError;

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
            let catalogue = self.0.catalogue(tenant).await?;
            let mut rows = self.0.customer_products(tenant, &ids).await?;
            for id in ids {
                let own = rows.remove(&id).unwrap_or_default();
                let products = catalogue
                    .iter()
                    .map(|p| {
                        let row = own.iter().find(|r| r.product == p.key);
                        CustomerProduct::of(
                            p,
                            row.and_then(|r| r.visible),
                            row.and_then(|r| r.status()),
                        )
                    })
                    .collect();
                result.insert((tenant.clone(), id), products);
            }
        }
        Ok(result)
    }
}

/// The products of one customer, through the schema's `ProductsLoader`.
pub(crate) async fn load_products(
    ctx: &Context<'_>,
    record: &CustomerRecord,
) -> ApiResult<Vec<CustomerProduct>> {
    let loader = ctx.data_unchecked::<DataLoader<ProductsLoader>>();
    Ok(loader
        .load_one((record.tenant.clone(), record.id.clone()))
        .await?
        .unwrap_or_default())
}

/// The product fields of a customer.
#[derive(Debug, Clone)]
pub struct CustomerProducts(pub(crate) Arc<CustomerRecord>);

#[Object]
impl CustomerProducts {
    /// Every product of the tenant's catalogue as it stands for this customer.
    async fn products(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerProduct>> {
        load_products(ctx, &self.0).await
    }
}

/// The status of one product of a customer.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::ProductStatus")]
pub enum ProductStatus {
    /// Activated, not yet in use.
    New,
    /// On trial.
    Trial,
    /// In paid use.
    Active,
    /// Paused.
    Paused,
    /// The trial has ended.
    TrialEnd,
    /// Removed from the customer.
    Deleted,
}

/// Where a customer's visibility of a product comes from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum VisibilitySource {
    /// The tenant's global setting (`setGlobalProductVisibility`).
    Global,
    /// The customer's own setting (`setProductVisibility`, or a toggle given to
    /// `createCustomer`), which global changes never touch until `resetProductVisibility`.
    Customer,
}
