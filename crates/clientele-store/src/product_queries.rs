//! Reads of the product read models.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use clientele_domain::customer::CatalogueEntry;
use clientele_domain::product::DEFAULT_PRODUCTS;
use clientele_domain::{AccountStatus, ProductStatus};

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

/// One account-status transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusTransition {
    pub from: Option<AccountStatus>,
    pub to: AccountStatus,
    /// The customer version of this transition.
    pub version: i64,
    /// The event that caused it, and its version.
    pub cause: String,
    pub cause_version: i64,
    pub at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct CatalogueRow {
    product: String,
    name: String,
    visible: bool,
}

#[derive(sqlx::FromRow)]
struct TransitionRow {
    version: i64,
    from_status: Option<String>,
    to_status: String,
    cause: String,
    cause_version: i64,
    occurred_at: i64,
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
        let rows: Vec<CustomerProductRow> = self.db().fetch_all(&sql, &args).await?;
        let mut by_customer: HashMap<String, Vec<CustomerProductRow>> = HashMap::new();
        for row in rows {
            by_customer
                .entry(row.customer_id.clone())
                .or_default()
                .push(row);
        }
        Ok(by_customer)
    }

    /// Every account-status transition of a customer, oldest first.
    pub async fn account_status_history(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Vec<StatusTransition>, StoreError> {
        let rows: Vec<TransitionRow> = self
            .db()
            .fetch_all(
                "SELECT version, from_status, to_status, cause, cause_version, occurred_at FROM account_status_history \
                 WHERE tenant_id = $1 AND customer_id = $2 ORDER BY version",
                &[tenant.into(), id.into()],
            )
            .await?;
        rows.into_iter()
            .map(|r| {
                let status = |s: &str| {
                    AccountStatus::parse(s)
                        .ok_or_else(|| StoreError::Corrupt(format!("unknown account status {s}")))
                };
                Ok(StatusTransition {
                    from: r.from_status.as_deref().map(status).transpose()?,
                    to: status(&r.to_status)?,
                    version: r.version,
                    cause: r.cause,
                    cause_version: r.cause_version,
                    at: DateTime::from_timestamp_micros(r.occurred_at).unwrap_or_default(),
                })
            })
            .collect()
    }
}
