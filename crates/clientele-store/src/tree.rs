//! The customer tree: inner customers under a parent. Reads of children and descendants,
//! what a command learns of a would-be parent, and the path arithmetic that makes a
//! subtree one index range.

use clientele_domain::customer::ParentFacts;

use crate::db::{Arg, Tx};
use crate::profile::{CustomerRecord, CustomerRow, READ_COLUMNS};
use crate::{Store, StoreError};

/// Where a customer stands in the tree, from its path.
impl CustomerRecord {
    /// The ancestors' ids, root first.
    pub fn ancestors(&self) -> Vec<String> {
        self.ancestry
            .split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// True when `ancestor` is above this customer in the tree.
    pub fn is_under(&self, ancestor: &str) -> bool {
        self.ancestry.contains(&format!("/{ancestor}/"))
    }
}

impl Store {
    /// A page of the live children of a customer by (name, id) after the cursor `after`, and
    /// whether more follow.
    pub async fn children(
        &self,
        tenant: &str,
        id: &str,
        first: usize,
        after: Option<(&str, &str)>,
    ) -> Result<(Vec<CustomerRecord>, bool), StoreError> {
        let mut args: Vec<Arg> = vec![tenant.into(), id.into()];
        let mut sql = format!(
            "SELECT {READ_COLUMNS} FROM customers WHERE tenant_id = $1 AND parent_id = $2 \
             AND account_status <> 'DELETED'"
        );
        if let Some((name, id)) = after {
            args.push(name.into());
            args.push(id.into());
            sql.push_str(" AND (name > $3 OR (name = $3 AND id > $4))");
        }
        sql.push_str(&format!(" ORDER BY name, id LIMIT {}", first + 1));
        let rows: Vec<CustomerRow> = self.db().fetch_all(&sql, &args).await?;
        crate::db::keyset_page(rows, first)
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
        crate::db::keyset_page(rows, first)
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

/// What the read model knows of a would-be parent.
pub(crate) async fn parent_facts(
    tx: &mut Tx,
    tenant: &str,
    id: String,
) -> Result<ParentFacts, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        ancestry: String,
        account_status: String,
    }
    let row: Option<Row> = tx
        .fetch_optional(
            "SELECT ancestry, account_status FROM customers WHERE tenant_id = $1 AND id = $2",
            &[tenant.into(), id.as_str().into()],
        )
        .await?;
    Ok(match row {
        Some(row) if row.account_status != "DELETED" => ParentFacts {
            ancestors: row
                .ancestry
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            exists: true,
            id,
        },
        _ => ParentFacts::unchecked(id),
    })
}

/// How many levels of customers are below `id` (0 for none), deleted ones included: a move
/// rewrites their paths too. A path has one '/' per level above and one more.
pub(crate) async fn subtree_height(
    tx: &mut Tx,
    tenant: &str,
    id: &str,
) -> Result<usize, StoreError> {
    let Some(ancestry) = tx
        .fetch_optional::<(String,)>(
            "SELECT ancestry FROM customers WHERE tenant_id = $1 AND id = $2",
            &[tenant.into(), id.into()],
        )
        .await?
        .map(|(a,)| a)
    else {
        return Ok(0);
    };
    let (start, end) = subtree_range(&ancestry, id);
    let deepest = tx
        .fetch_optional::<(i64,)>(
            "SELECT CAST(COALESCE(max(length(ancestry) - length(replace(ancestry, '/', ''))), 0) \
             AS BIGINT) FROM customers WHERE tenant_id = $1 AND ancestry >= $2 AND ancestry < $3",
            &[tenant.into(), Arg::Text(start), Arg::Text(end)],
        )
        .await?
        .map_or(0, |(d,)| d);
    let mine = ancestry.matches('/').count() as i64;
    Ok((deepest - mine).max(0) as usize)
}

/// The range of `ancestry` values under customer `id` whose own path is `ancestry`.
pub(crate) fn subtree_range(ancestry: &str, id: &str) -> (String, String) {
    let start = format!("{ancestry}{id}/");
    // '0' follows '/' in ASCII: every path that starts with `start` sorts below this.
    let end = format!("{ancestry}{id}0");
    (start, end)
}
