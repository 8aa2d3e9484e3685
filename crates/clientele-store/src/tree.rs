//! Reads of the customer tree (seed 003): children, descendants and ancestors.

use crate::db::Arg;
use crate::facts::subtree_range;
use crate::projections::customers::{CustomerRecord, CustomerRow, READ_COLUMNS};
use crate::{Store, StoreError};

impl Store {
    /// The live children of a customer, by name.
    pub async fn children(
        &self,
        tenant: &str,
        id: &str,
    ) -> Result<Vec<CustomerRecord>, StoreError> {
        let sql = format!(
            "SELECT {READ_COLUMNS} FROM customers WHERE tenant_id = $1 AND parent_id = $2 \
             AND account_status <> 'DELETED' ORDER BY name, id"
        );
        let rows: Vec<CustomerRow> = self
            .db()
            .fetch_all(&sql, &[tenant.into(), id.into()])
            .await?;
        rows.into_iter().map(CustomerRecord::try_from).collect()
    }

    /// A page of the live customers below `root` at any depth, by id after `after`; one
    /// index range, however deep the tree. Returns the page and whether there is more.
    pub async fn descendants(
        &self,
        root: &CustomerRecord,
        first: usize,
        after: Option<&str>,
    ) -> Result<(Vec<CustomerRecord>, bool), StoreError> {
        let (start, end) = subtree_range(&root.ancestry, &root.id);
        let sql = format!(
            "SELECT {READ_COLUMNS} FROM customers WHERE tenant_id = $1 AND ancestry >= $2 AND ancestry < $3 \
             AND account_status <> 'DELETED' AND id > $4 ORDER BY id LIMIT {}",
            first + 1
        );
        let args = [
            Arg::from(root.tenant.as_str()),
            Arg::Text(start),
            Arg::Text(end),
            Arg::Text(after.unwrap_or_default().to_string()),
        ];
        let rows: Vec<CustomerRow> = self.db().fetch_all(&sql, &args).await?;
        let more = rows.len() > first;
        let records = rows
            .into_iter()
            .take(first)
            .map(CustomerRecord::try_from)
            .collect::<Result<_, _>>()?;
        Ok((records, more))
    }

    /// How many live customers are below `root`.
    pub async fn count_descendants(&self, root: &CustomerRecord) -> Result<i64, StoreError> {
        let (start, end) = subtree_range(&root.ancestry, &root.id);
        Ok(self
            .db()
            .fetch_scalar(
                "SELECT count(*) FROM customers WHERE tenant_id = $1 AND ancestry >= $2 AND ancestry < $3 \
                 AND account_status <> 'DELETED'",
                &[root.tenant.as_str().into(), Arg::Text(start), Arg::Text(end)],
            )
            .await?
            .unwrap_or(0))
    }
}
