//! The tenant's sellers, each with how many customers it has.

use super::filter::{filter_sql, CustomerFilter};
use crate::{Store, StoreError};

/// A seller and how many of the filtered customers it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SellerCount {
    pub seller: String,
    pub customers: i64,
}

impl Store {
    /// The distinct sellers of the customers `filter` passes, by seller, with their
    /// customer counts. Customers without a seller are not counted.
    pub async fn sellers(
        &self,
        tenant: &str,
        filter: &CustomerFilter,
    ) -> Result<Vec<SellerCount>, StoreError> {
        let mut args = Vec::new();
        let sql = format!(
            "SELECT seller, count(*) FROM customers {} AND seller IS NOT NULL \
             GROUP BY seller ORDER BY seller",
            filter_sql(tenant, filter, &mut args)
        );
        let rows: Vec<(String, i64)> = self.db().fetch_all_planned(&sql, &args).await?;
        Ok(rows
            .into_iter()
            .map(|(seller, customers)| SellerCount { seller, customers })
            .collect())
    }
}
