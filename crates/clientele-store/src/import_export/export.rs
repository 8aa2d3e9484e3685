//! Exporting a tenant's customers as CSV, with the same columns an import takes: the
//! fields, `parent` (the parent's name) and one `visible:KEY` column per catalogue product
//! (the customer's own override, empty when it follows the tenant's setting). Every parent
//! is written before its children, so the file imports in one pass.

use std::collections::HashMap;

use super::{neutralised, ImportError, COLUMNS, VISIBLE_PREFIX};
use crate::db::enum_text;
use crate::profile::CustomerRecord;
use crate::{CustomerFilter, CustomerOrderField, PageRequest, Store};

/// Writes the tenant's customers (not deleted, not its own company) as CSV, page by page
/// in creation order. A customer whose parent is not written yet (it was moved under a
/// newer one) is held back until its parent is; the names of the customers written are
/// kept, to name each child's parent.
pub async fn export_csv<W: std::io::Write>(
    store: &Store,
    tenant: &str,
    out: W,
) -> Result<u64, ImportError> {
    let mut writer = csv::Writer::from_writer(out);
    let catalogue: Vec<String> = store
        .catalogue(tenant)
        .await?
        .into_iter()
        .map(|p| p.key)
        .collect();
    let header = COLUMNS
        .iter()
        .map(|c| c.to_string())
        .chain(catalogue.iter().map(|key| format!("{VISIBLE_PREFIX}{key}")));
    writer
        .write_record(header)
        .map_err(|e| ImportError::Csv(e.to_string()))?;
    let mut written: HashMap<String, String> = HashMap::new();
    let mut held: HashMap<String, Vec<(CustomerRecord, Vec<String>)>> = HashMap::new();
    let filter = CustomerFilter {
        own_company: Some(false),
        include_test_accounts: true,
        subtree_of: None,
        ..CustomerFilter::default()
    };
    let mut after = None;
    let mut count = 0;
    loop {
        let page = PageRequest {
            order: CustomerOrderField::CreatedAt,
            first: Some(500),
            after,
            ..PageRequest::default()
        };
        let page = match store.list_customers(tenant, &filter, &page).await? {
            Ok(page) => page,
            Err(error) => return Err(ImportError::Csv(error.to_string())),
        };
        let has_next_page = page.has_next_page;
        after = page.items.last().map(|(cursor, _)| cursor.clone());
        let ids: Vec<String> = page.items.iter().map(|(_, r)| r.id.clone()).collect();
        let mut products = store.customer_products(tenant, &ids).await?;
        for (_, record) in page.items {
            let own = products.remove(&record.id).unwrap_or_default();
            let visible = catalogue
                .iter()
                .map(|key| match own.iter().find(|p| &p.product == key) {
                    Some(product) => product.visible.map(|v| v.to_string()).unwrap_or_default(),
                    None => String::new(),
                })
                .collect();
            // A customer waits for its parent; writing one writes those that waited for it.
            let mut ready = vec![(record, visible)];
            while let Some((record, visible)) = ready.pop() {
                let parent = match &record.parent_id {
                    None => Some(String::new()),
                    Some(parent) => written.get(parent).cloned(),
                };
                let Some(parent) = parent else {
                    let parent = record.parent_id.clone().expect("a parent");
                    held.entry(parent).or_default().push((record, visible));
                    continue;
                };
                write_row(&mut writer, &record, parent, visible)?;
                count += 1;
                ready.extend(held.remove(&record.id).unwrap_or_default());
                written.insert(record.id, record.profile.name);
            }
        }
        writer.flush()?;
        if !has_next_page {
            break;
        }
    }
    // Customers under one that is not exported (the tenant's own company): their parent
    // is named as it is.
    for (parent, children) in held {
        let name = store
            .customer(tenant, &parent)
            .await?
            .map(|r| r.profile.name);
        for (record, visible) in children {
            write_row(
                &mut writer,
                &record,
                name.clone().unwrap_or_default(),
                visible,
            )?;
            count += 1;
        }
    }
    writer.flush()?;
    Ok(count)
}

/// One customer's row: its fields, its parent's name and its visibility overrides.
fn write_row<W: std::io::Write>(
    writer: &mut csv::Writer<W>,
    record: &CustomerRecord,
    parent: String,
    visible: Vec<String>,
) -> Result<(), ImportError> {
    let p = &record.profile;
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let fields = [
        p.name.clone(),
        opt(&p.email),
        opt(&p.given_name),
        opt(&p.family_name),
        opt(&p.organization),
        opt(&p.shortname),
        p.customer_type.as_ref().map(enum_text).unwrap_or_default(),
        p.service_status.as_ref().map(enum_text).unwrap_or_default(),
        num(p.contractual_flows_per_second),
        p.multi_account.to_string(),
        p.internal.to_string(),
        p.test_account.to_string(),
        num(p.data_retention_days.map(i64::from)),
        num(p.rollup_retention_days.map(i64::from)),
        p.language.clone(),
        opt(&p.seller),
        opt(&p.custom_id),
        opt(&p.title),
        opt(&p.country),
        opt(&p.city),
        opt(&p.address),
        opt(&p.phone),
        opt(&p.state),
        opt(&p.zip),
        opt(&p.address2),
        parent,
    ];
    writer
        .write_record(fields.into_iter().chain(visible).map(neutralised))
        .map_err(|e| ImportError::Csv(e.to_string()))
}
