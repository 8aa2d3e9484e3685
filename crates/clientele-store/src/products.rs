//! Products: reads of the tenant's catalogue and of each customer's products.

use std::collections::HashMap;

use clientele_domain::customer::CatalogueEntry;
use clientele_domain::product::DEFAULT_PRODUCTS;
use clientele_domain::ProductStatus;

use crate::db::Arg;
use crate::{Store, StoreError};

/// A product of the tenant's catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueProduct {
    pub key: String,
    pub name: String,
    pub visible: bool,
}

/// A customer's own setting and status for one product.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CustomerProductRow {
    pub customer_id: String,
    pub product: String,
    pub visible: Option<bool>,
    pub status: Option<String>,
}

impl CustomerProductRow {
    pub fn status(&self) -> Option<ProductStatus> {
        self.status.as_deref().and_then(ProductStatus::parse)
    }
}

#[derive(sqlx::FromRow)]
struct CatalogueRow {
    product: String,
    name: String,
    visible: bool,
}

impl Store {
    /// The tenant's catalogue: the default products (hidden unless set) and its own, by key.
    pub async fn catalogue(&self, tenant: &str) -> Result<Vec<CatalogueProduct>, StoreError> {
        let rows: Vec<CatalogueRow> = self
            .db()
            .fetch_all(
                "SELECT product, name, visible FROM tenant_products WHERE tenant_id = $1",
                &[tenant.into()],
            )
            .await?;
        let mut catalogue: Vec<CatalogueProduct> = DEFAULT_PRODUCTS
            .iter()
            .map(|(key, name)| CatalogueProduct {
                key: key.to_string(),
                name: name.to_string(),
                visible: false,
            })
            .collect();
        for row in rows {
            match catalogue.iter_mut().find(|p| p.key == row.product) {
                Some(product) => {
                    product.name = row.name;
                    product.visible = row.visible;
                }
                None => catalogue.push(CatalogueProduct {
                    key: row.product,
                    name: row.name,
                    visible: row.visible,
                }),
            }
        }
        catalogue.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(catalogue)
    }

    /// What the catalogue says of one product, for a command.
    pub async fn catalogue_entry(
        &self,
        tenant: &str,
        key: &str,
    ) -> Result<CatalogueEntry, StoreError> {
        let catalogue = self.catalogue(tenant).await?;
        Ok(match catalogue.into_iter().find(|p| p.key == key) {
            Some(product) => CatalogueEntry::Listed {
                globally_visible: product.visible,
            },
            None => CatalogueEntry::Unknown,
        })
    }

    /// The product rows of several customers at once (one query for a whole page).
    pub async fn customer_products(
        &self,
        tenant: &str,
        customer_ids: &[String],
    ) -> Result<HashMap<String, Vec<CustomerProductRow>>, StoreError> {
        if customer_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let placeholders: Vec<String> = (0..customer_ids.len())
            .map(|i| format!("${}", i + 2))
            .collect();
        let sql = format!(
            "SELECT customer_id, product, visible, status FROM customer_products \
             WHERE tenant_id = $1 AND customer_id IN ({}) ORDER BY product",
            placeholders.join(", ")
        );
        let mut args = vec![Arg::from(tenant)];
        args.extend(customer_ids.iter().map(|id| Arg::from(id.as_str())));
        // Planned for the ids: a plan cached while the table was small would scan it later.
        let rows: Vec<CustomerProductRow> = self.db().fetch_all_planned(&sql, &args).await?;
        let mut by_customer: HashMap<String, Vec<CustomerProductRow>> = HashMap::new();
        for row in rows {
            by_customer
                .entry(row.customer_id.clone())
                .or_default()
                .push(row);
        }
        Ok(by_customer)
    }
}
