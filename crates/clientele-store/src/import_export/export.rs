//! Exporting a tenant's customers as CSV, with the same columns an import takes.

use super::{neutralised, ImportError, COLUMNS};
use crate::db::enum_text;
use crate::{CustomerFilter, CustomerOrderField, PageRequest, Store};

/// Writes the tenant's customers (not deleted, not its own company) as CSV, page by page.
pub async fn export_csv<W: std::io::Write>(
    store: &Store,
    tenant: &str,
    out: W,
) -> Result<u64, ImportError> {
    let mut writer = csv::Writer::from_writer(out);
    writer
        .write_record(COLUMNS)
        .map_err(|e| ImportError::Csv(e.to_string()))?;
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
        for (_, record) in &page.items {
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
            ];
            writer
                .write_record(fields.map(neutralised))
                .map_err(|e| ImportError::Csv(e.to_string()))?;
            count += 1;
        }
        writer.flush()?;
        if !page.has_next_page {
            return Ok(count);
        }
        after = page.items.last().map(|(cursor, _)| cursor.clone());
    }
}
