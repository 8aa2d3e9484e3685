//! The customer's own fields: reading one customer, the tenant's required fields, the
//! owners of unique values, and lists (`list`). The record itself is in `record`.

mod list;
mod record;

use clientele_domain::customer::CustomerField;

use crate::db::Arg;
use crate::{Store, StoreError};

pub(crate) use list::filter_sql;
pub use list::{
    CustomerCursor, CustomerFilter, CustomerOrderField, CustomerPage, PageError, PageRequest,
};
pub use record::CustomerRecord;
pub(crate) use record::{CustomerRow, COLUMNS, READ_COLUMNS};

impl Store {
    /// One customer of the tenant, as the read model holds it.
    pub async fn customer(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Option<CustomerRecord>, StoreError> {
        let sql = format!("SELECT {READ_COLUMNS} FROM customers WHERE tenant_id = $1 AND id = $2");
        let row: Option<CustomerRow> = self
            .db()
            .fetch_optional(&sql, &[tenant.into(), id.into()])
            .await?;
        row.map(CustomerRecord::try_from).transpose()
    }

    /// The fields the tenant requires of every customer besides the name.
    pub async fn required_customer_fields(
        &self,
        tenant: &str,
    ) -> Result<Vec<CustomerField>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            required_fields: String,
        }
        let row: Option<Row> = self
            .db()
            .fetch_optional(
                "SELECT required_fields FROM tenant_settings WHERE tenant_id = $1",
                &[tenant.into()],
            )
            .await?;
        match row {
            None => Ok(Vec::new()),
            Some(row) => serde_json::from_str(&row.required_fields)
                .map_err(|e| StoreError::Corrupt(format!("tenant_settings of {tenant}: {e}"))),
        }
    }

    /// The customer holding a unique value (`name`, or a lower-cased `shortname`), if any.
    pub async fn unique_owner(
        &self,
        tenant: &str,
        kind: &str,
        value: &str,
    ) -> Result<Option<String>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            aggregate_id: String,
        }
        let row: Option<Row> = self
            .db()
            .fetch_optional(
                "SELECT aggregate_id FROM unique_keys WHERE tenant_id = $1 AND kind = $2 AND value = $3",
                &[tenant.into(), kind.into(), value.into()],
            )
            .await?;
        Ok(row.map(|r| r.aggregate_id))
    }

    /// The live customer with this custom id, if any.
    pub async fn customer_by_custom_id(
        &self,
        tenant: &str,
        custom_id: &str,
    ) -> Result<Option<String>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: String,
        }
        let row: Option<Row> = self
            .db()
            .fetch_optional(
                "SELECT id FROM customers WHERE tenant_id = $1 AND custom_id = $2 AND account_status <> 'DELETED' \
                 AND own_company = $3 LIMIT 1",
                &[tenant.into(), custom_id.into(), Arg::Bool(false)],
            )
            .await?;
        Ok(row.map(|r| r.id))
    }
}
