//! The entity's side of an assignment: which customer a device, asset or edge belongs to,
//! and which customers a dashboard is assigned to.

use clientele_domain::assignment::EntityKind;

use crate::db::{keyset_page, Arg};
use crate::profile::{filter_sql, CustomerFilter, CustomerRecord, CustomerRow, READ_COLUMNS};
use crate::{Store, StoreError};

impl Store {
    /// The customer a device, asset or edge is assigned to, if any.
    pub async fn owner_of(
        &self,
        tenant: &str,
        kind: EntityKind,
        entity_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let row: Option<(Option<String>,)> = self
            .db()
            .fetch_optional(
                "SELECT customer_id FROM assigned_entities WHERE tenant_id = $1 AND kind = $2 AND entity_id = $3",
                &[tenant.into(), kind.as_str().into(), entity_id.into()],
            )
            .await?;
        Ok(row.and_then(|(c,)| c))
    }

    /// A page of the customers `filter` passes that the dashboard is assigned to, by id
    /// after `after`. Returns the page and whether there is more.
    pub async fn dashboard_customers(
        &self,
        tenant: &str,
        dashboard_id: &str,
        filter: &CustomerFilter,
        first: usize,
        after: Option<&str>,
    ) -> Result<(Vec<CustomerRecord>, bool), StoreError> {
        let mut args = Vec::new();
        let mut sql = format!(
            "SELECT {READ_COLUMNS} FROM customers {}",
            filter_sql(tenant, filter, &mut args)
        );
        args.push(Arg::from(dashboard_id));
        let dashboard = args.len();
        args.push(Arg::Text(after.unwrap_or_default().to_string()));
        sql.push_str(&format!(
            " AND id IN (SELECT customer_id FROM dashboard_assignments WHERE tenant_id = $1 \
               AND dashboard_id = ${dashboard} AND assigned = TRUE) \
             AND id > ${} ORDER BY id LIMIT {}",
            dashboard + 1,
            first + 1
        ));
        let rows: Vec<CustomerRow> = self.db().fetch_all(&sql, &args).await?;
        keyset_page(rows, first)
    }
}
