//! The customer's own fields: reading one customer, the tenant's required fields, the
//! owners of unique values, and lists (`list`). The record itself is in `record`.

mod filter;
mod list;
mod record;
mod search;
mod sellers;

use std::collections::HashMap;

use clientele_domain::customer::{suffixed_name, CustomerField, UniqueKey};

use crate::db::Arg;
use crate::{Store, StoreError};

pub(crate) use filter::filter_sql;
pub use filter::CustomerFilter;
pub use list::{CustomerCursor, CustomerOrderField, CustomerPage, PageError, PageRequest};
pub use record::CustomerRecord;
pub(crate) use record::{CustomerRow, COLUMNS, READ_COLUMNS};
pub use search::fold;
pub(crate) use search::{refresh_search_text, search_text};
pub use sellers::SellerCount;

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
        let rows: Vec<Row> = self
            .db()
            .fetch_all_planned(
                "SELECT aggregate_id FROM unique_keys WHERE tenant_id = $1 AND kind = $2 AND value = $3",
                &[tenant.into(), kind.into(), value.into()],
            )
            .await?;
        Ok(rows.into_iter().next().map(|r| r.aggregate_id))
    }

    /// The first name of `name`, `name-2`, `name-3`, … (`suffixed_name`) from the `from`th
    /// on that no live customer of the tenant holds, with its number; none among the
    /// first `limit` tried. The answer may be taken by a concurrent create before the
    /// caller's commits; the unique values then refuse the later one, which tries again.
    pub async fn first_free_name(
        &self,
        tenant: &str,
        name: &str,
        from: u32,
        limit: u32,
    ) -> Result<Option<(u32, String)>, StoreError> {
        const WINDOW: u32 = 100;
        let mut start = from.max(1);
        let end = start.saturating_add(limit);
        while start < end {
            let numbers: Vec<u32> = (start..end.min(start.saturating_add(WINDOW))).collect();
            let candidates: Vec<String> = numbers.iter().map(|n| suffixed_name(name, *n)).collect();
            let taken = self
                .unique_owners(tenant, UniqueKey::Name.as_str(), &candidates)
                .await?;
            let free = numbers
                .into_iter()
                .zip(candidates)
                .find(|(_, candidate)| !taken.contains_key(candidate));
            if free.is_some() {
                return Ok(free);
            }
            start = start.saturating_add(WINDOW);
        }
        Ok(None)
    }

    /// The owners of many unique values of one kind at once (an import's batch): value to
    /// customer id, for the values some customer holds.
    pub async fn unique_owners(
        &self,
        tenant: &str,
        kind: &str,
        values: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let sql = "SELECT value, aggregate_id FROM unique_keys WHERE tenant_id = $1 AND kind = $2 AND value IN";
        self.lookup_many(sql, &[tenant.into(), kind.into()], values)
            .await
    }

    /// The live customers with these custom ids (an import's batch): custom id to id.
    pub async fn customers_by_custom_ids(
        &self,
        tenant: &str,
        custom_ids: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let sql = "SELECT custom_id, id FROM customers WHERE tenant_id = $1 AND account_status <> 'DELETED' \
                   AND own_company = $2 AND custom_id IN";
        self.lookup_many(sql, &[tenant.into(), Arg::Bool(false)], custom_ids)
            .await
    }

    /// Runs `sql` (ending in `IN`) with `keys` as its list, a thousand at a time, planned
    /// for the values (a plan cached while the table was small would scan it once it
    /// grew), and maps each row's first column to its second.
    async fn lookup_many(
        &self,
        sql: &str,
        fixed: &[Arg],
        keys: &[String],
    ) -> Result<HashMap<String, String>, StoreError> {
        let mut found = HashMap::new();
        let mut keys: Vec<&String> = keys.iter().collect();
        keys.sort_unstable();
        keys.dedup();
        for chunk in keys.chunks(1000) {
            let list: Vec<String> = (0..chunk.len())
                .map(|i| format!("${}", fixed.len() + 1 + i))
                .collect();
            let mut args = fixed.to_vec();
            args.extend(chunk.iter().map(|key| Arg::Text(key.to_string())));
            let sql = format!("{sql} ({})", list.join(", "));
            let rows: Vec<(String, String)> = self.db().fetch_all_planned(&sql, &args).await?;
            found.extend(rows);
        }
        Ok(found)
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
        // Planned for the value: a plan cached while the table was small scans it later.
        let rows: Vec<Row> = self
            .db()
            .fetch_all_planned(
                "SELECT id FROM customers WHERE tenant_id = $1 AND custom_id = $2 AND account_status <> 'DELETED' \
                 AND own_company = $3 LIMIT 1",
                &[tenant.into(), custom_id.into(), Arg::Bool(false)],
            )
            .await?;
        Ok(rows.into_iter().next().map(|r| r.id))
    }
}
