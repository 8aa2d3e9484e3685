//! The `customers` read model: one row per customer, kept in the command's transaction.

use chrono::{DateTime, Utc};
use clientele_domain::customer::{CustomerCreated, CustomerEdited, CustomerProfile};
use clientele_domain::{derive_account_status, AccountStatus};
use serde::de::DeserializeOwned;

use crate::db::{Arg, Tx};
use crate::events::StoredEvent;
use crate::StoreError;

/// A customer as the read model holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRecord {
    pub tenant: String,
    pub id: String,
    pub version: i64,
    pub profile: CustomerProfile,
    pub account_status: AccountStatus,
    /// The tenant's own company (seed 002).
    pub own_company: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The parent of an inner customer (seed 003).
    pub parent_id: Option<String>,
    /// The ancestors as a path: "/" at the top, "/root/…/parent/" below.
    pub ancestry: String,
    /// The home dashboard and whether its toolbar is hidden (seed 004).
    pub home_dashboard_id: Option<String>,
    pub hide_toolbar: bool,
}

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

/// The table's columns, in the order `CustomerRow` and `write_row` use them.
pub(crate) const COLUMNS: &str = "tenant_id, id, version, name, email, given_name, family_name, organization, \
    shortname, customer_type, service_status, contractual_flows_per_second, multi_account, internal, \
    test_account, data_retention_days, rollup_retention_days, language, seller, custom_id, title, country, \
    city, address, phone, account_status, created_at, updated_at, own_company";

/// `COLUMNS` and the columns events other than create and edit keep (tree, home dashboard).
pub(crate) const READ_COLUMNS: &str = "tenant_id, id, version, name, email, given_name, family_name, organization, \
    shortname, customer_type, service_status, contractual_flows_per_second, multi_account, internal, \
    test_account, data_retention_days, rollup_retention_days, language, seller, custom_id, title, country, \
    city, address, phone, account_status, created_at, updated_at, own_company, parent_id, ancestry, \
    home_dashboard_id, hide_toolbar";

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct CustomerRow {
    tenant_id: String,
    id: String,
    version: i64,
    name: String,
    email: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    organization: Option<String>,
    shortname: Option<String>,
    customer_type: Option<String>,
    service_status: Option<String>,
    contractual_flows_per_second: Option<i64>,
    multi_account: bool,
    internal: bool,
    test_account: bool,
    data_retention_days: Option<i32>,
    rollup_retention_days: Option<i32>,
    language: String,
    seller: Option<String>,
    custom_id: Option<String>,
    title: Option<String>,
    country: Option<String>,
    city: Option<String>,
    address: Option<String>,
    phone: Option<String>,
    account_status: String,
    created_at: i64,
    updated_at: i64,
    own_company: bool,
    parent_id: Option<String>,
    ancestry: String,
    home_dashboard_id: Option<String>,
    hide_toolbar: bool,
}

fn enum_from<T: DeserializeOwned>(value: Option<String>) -> Result<Option<T>, StoreError> {
    value
        .map(|v| {
            serde_json::from_value(serde_json::Value::String(v.clone()))
                .map_err(|_| StoreError::Corrupt(format!("unknown value {v:?} in customers")))
        })
        .transpose()
}

fn enum_name<T: serde::Serialize>(value: &Option<T>) -> Option<String> {
    value.as_ref().map(|v| match serde_json::to_value(v) {
        Ok(serde_json::Value::String(name)) => name,
        _ => unreachable!("field enums serialise as strings"),
    })
}

fn time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or_default()
}

impl TryFrom<CustomerRow> for CustomerRecord {
    type Error = StoreError;

    fn try_from(row: CustomerRow) -> Result<Self, StoreError> {
        let profile = CustomerProfile {
            name: row.name,
            email: row.email,
            given_name: row.given_name,
            family_name: row.family_name,
            organization: row.organization,
            shortname: row.shortname,
            customer_type: enum_from(row.customer_type)?,
            service_status: enum_from(row.service_status)?,
            contractual_flows_per_second: row.contractual_flows_per_second,
            multi_account: row.multi_account,
            internal: row.internal,
            test_account: row.test_account,
            data_retention_days: row.data_retention_days,
            rollup_retention_days: row.rollup_retention_days,
            language: row.language,
            seller: row.seller,
            custom_id: row.custom_id,
            title: row.title,
            country: row.country,
            city: row.city,
            address: row.address,
            phone: row.phone,
        };
        Ok(CustomerRecord {
            tenant: row.tenant_id,
            id: row.id,
            version: row.version,
            profile,
            account_status: AccountStatus::parse(&row.account_status).ok_or_else(|| {
                StoreError::Corrupt(format!("unknown account status {}", row.account_status))
            })?,
            created_at: time(row.created_at),
            updated_at: time(row.updated_at),
            own_company: row.own_company,
            parent_id: row.parent_id,
            ancestry: row.ancestry,
            home_dashboard_id: row.home_dashboard_id,
            hide_toolbar: row.hide_toolbar,
        })
    }
}

/// Lower-case text the `text` filter searches.
fn search_text(p: &CustomerProfile) -> String {
    [
        Some(&p.name),
        p.email.as_ref(),
        p.given_name.as_ref(),
        p.family_name.as_ref(),
        p.organization.as_ref(),
        p.shortname.as_ref(),
        p.custom_id.as_ref(),
    ]
    .into_iter()
    .flatten()
    .map(|s| s.to_lowercase())
    .collect::<Vec<_>>()
    .join("\n")
}

/// Writes the whole row; `guard_version` makes an update apply only over an older row.
async fn write_row(tx: &mut Tx, record: &CustomerRecord, insert: bool) -> Result<(), StoreError> {
    if insert {
        return insert_rows(tx, &[record]).await;
    }
    let args = row_args(record);
    let sets: Vec<String> = COLUMNS
        .split(", ")
        .chain(["search_text"])
        .enumerate()
        .skip(2)
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE customers SET {} WHERE tenant_id = $1 AND id = $2 AND version < $3",
        sets.join(", ")
    );
    tx.execute(&sql, &args).await?;
    Ok(())
}

/// Inserts new rows (an existing one is left alone), many to a statement.
async fn insert_rows(tx: &mut Tx, records: &[&CustomerRecord]) -> Result<(), StoreError> {
    // 30 values a row: 300 rows stay far below either backend's limit on parameters.
    for chunk in records.chunks(300) {
        let mut args = Vec::with_capacity(chunk.len() * 30);
        let mut tuples = Vec::with_capacity(chunk.len());
        for record in chunk {
            let first = args.len();
            args.extend(row_args(record));
            let placeholders: Vec<String> =
                (first + 1..=args.len()).map(|i| format!("${i}")).collect();
            tuples.push(format!("({})", placeholders.join(", ")));
        }
        let sql = format!(
            "INSERT INTO customers ({COLUMNS}, search_text) VALUES {} ON CONFLICT (tenant_id, id) DO NOTHING",
            tuples.join(", ")
        );
        tx.execute(&sql, &args).await?;
    }
    Ok(())
}

/// The values of COLUMNS and search_text, in order.
fn row_args(record: &CustomerRecord) -> Vec<Arg> {
    let p = &record.profile;
    vec![
        Arg::from(record.tenant.as_str()),
        Arg::from(record.id.as_str()),
        Arg::Int(record.version),
        Arg::Text(p.name.clone()),
        Arg::OptText(p.email.clone()),
        Arg::OptText(p.given_name.clone()),
        Arg::OptText(p.family_name.clone()),
        Arg::OptText(p.organization.clone()),
        Arg::OptText(p.shortname.clone()),
        Arg::OptText(enum_name(&p.customer_type)),
        Arg::OptText(enum_name(&p.service_status)),
        Arg::OptInt(p.contractual_flows_per_second),
        Arg::Bool(p.multi_account),
        Arg::Bool(p.internal),
        Arg::Bool(p.test_account),
        Arg::OptInt(p.data_retention_days.map(i64::from)),
        Arg::OptInt(p.rollup_retention_days.map(i64::from)),
        Arg::Text(p.language.clone()),
        Arg::OptText(p.seller.clone()),
        Arg::OptText(p.custom_id.clone()),
        Arg::OptText(p.title.clone()),
        Arg::OptText(p.country.clone()),
        Arg::OptText(p.city.clone()),
        Arg::OptText(p.address.clone()),
        Arg::OptText(p.phone.clone()),
        Arg::from(record.account_status.as_str()),
        Arg::Int(record.created_at.timestamp_micros()),
        Arg::Int(record.updated_at.timestamp_micros()),
        Arg::Bool(record.own_company),
        Arg::Text(search_text(p)),
    ]
}

fn body<T: DeserializeOwned>(event: &StoredEvent) -> Result<T, StoreError> {
    serde_json::from_value(event.body().clone()).map_err(|e| {
        StoreError::Corrupt(format!(
            "{} #{} of {} does not decode: {e}",
            event.event_type, event.sequence, event.aggregate_id
        ))
    })
}

/// Folds one event into the read model. Idempotent: an event the row already reflects
/// (by version) changes nothing, so the inline path and a rebuild never double-apply.
pub(crate) async fn apply(tx: &mut Tx, event: &StoredEvent) -> Result<(), StoreError> {
    if event.aggregate_type != "Customer" {
        return Ok(());
    }
    let at = event.metadata.occurred_at;
    match event.event_type.as_str() {
        "CustomerCreated" => {
            let created: CustomerCreated = body(event)?;
            let record = CustomerRecord {
                tenant: created.tenant,
                id: event.aggregate_id.clone(),
                version: event.sequence,
                profile: created.profile,
                account_status: derive_account_status(false, []),
                own_company: created.own_company,
                created_at: at,
                updated_at: at,
                parent_id: None,
                ancestry: "/".into(),
                home_dashboard_id: None,
                hide_toolbar: false,
            };
            write_row(tx, &record, true).await
        }
        "CustomerEdited" | "CustomerDeleted" => {
            let sql =
                format!("SELECT {READ_COLUMNS} FROM customers WHERE tenant_id = $1 AND id = $2");
            let row: Option<CustomerRow> = tx
                .fetch_optional(
                    &sql,
                    &[
                        event.metadata.tenant.as_str().into(),
                        event.aggregate_id.as_str().into(),
                    ],
                )
                .await?;
            let Some(row) = row else {
                return Err(StoreError::Corrupt(format!(
                    "{} #{} of {} has no customer row",
                    event.event_type, event.sequence, event.aggregate_id
                )));
            };
            let mut record = CustomerRecord::try_from(row)?;
            if record.version >= event.sequence {
                return Ok(());
            }
            if event.event_type == "CustomerEdited" {
                let edited: CustomerEdited = body(event)?;
                edited.changes.apply_to(&mut record.profile);
            } else {
                clientele_domain::customer::erase_personal_data(&mut record.profile);
            }
            record.version = event.sequence;
            record.updated_at = at;
            write_row(tx, &record, false).await
        }
        "CustomerMoved" => moved(tx, event, body(event)?).await,
        "HomeDashboardSet" => {
            let set: clientele_domain::customer::HomeDashboardSet = body(event)?;
            tx.execute(
                "UPDATE customers SET version = $3, updated_at = $4, home_dashboard_id = $5, hide_toolbar = $6 \
                 WHERE tenant_id = $1 AND id = $2 AND version < $3",
                &[
                    Arg::from(event.metadata.tenant.as_str()),
                    Arg::from(event.aggregate_id.as_str()),
                    Arg::Int(event.sequence),
                    Arg::Int(at.timestamp_micros()),
                    Arg::OptText(set.dashboard_id),
                    Arg::Bool(set.hide_toolbar),
                ],
            )
            .await?;
            Ok(())
        }
        // Every other event moves the row's version (clients pass it as expectedVersion);
        // an account-status change also sets the status.
        other => {
            let status = match other {
                "AccountStatusChanged" => {
                    let changed: clientele_domain::customer::AccountStatusChanged = body(event)?;
                    Some(changed.to.as_str().to_string())
                }
                _ => None,
            };
            tx.execute(
                "UPDATE customers SET version = $3, updated_at = $4, account_status = coalesce($5, account_status) \
                 WHERE tenant_id = $1 AND id = $2 AND version < $3",
                &[
                    Arg::from(event.metadata.tenant.as_str()),
                    Arg::from(event.aggregate_id.as_str()),
                    Arg::Int(event.sequence),
                    Arg::Int(at.timestamp_micros()),
                    Arg::OptText(status),
                ],
            )
            .await?;
            Ok(())
        }
    }
}

/// Puts a customer under its new parent, and moves the paths of its whole subtree with it.
async fn moved(
    tx: &mut Tx,
    event: &StoredEvent,
    moved: clientele_domain::customer::CustomerMoved,
) -> Result<(), StoreError> {
    let tenant = event.metadata.tenant.as_str();
    let me = event.aggregate_id.as_str();
    let Some(old) = ancestry(tx, tenant, me).await? else {
        return Err(StoreError::Corrupt(format!(
            "CustomerMoved #{} of {me} has no customer row",
            event.sequence
        )));
    };
    let new = match &moved.to {
        None => "/".to_string(),
        Some(parent) => match ancestry(tx, tenant, parent).await? {
            Some(above) => format!("{above}{parent}/"),
            None => {
                return Err(StoreError::Corrupt(format!(
                    "CustomerMoved #{} of {me} names an unknown parent {parent}",
                    event.sequence
                )))
            }
        },
    };
    let changed = tx
        .execute(
            "UPDATE customers SET version = $3, updated_at = $4, parent_id = $5, ancestry = $6 \
             WHERE tenant_id = $1 AND id = $2 AND version < $3",
            &[
                Arg::from(tenant),
                Arg::from(me),
                Arg::Int(event.sequence),
                Arg::Int(event.metadata.occurred_at.timestamp_micros()),
                Arg::OptText(moved.to.clone()),
                Arg::Text(new.clone()),
            ],
        )
        .await?;
    if changed == 1 {
        let (old_start, old_end) = crate::facts::subtree_range(&old, me);
        let new_start = format!("{new}{me}/");
        tx.execute(
            "UPDATE customers SET ancestry = $4 || substr(ancestry, CAST($5 AS integer)) \
             WHERE tenant_id = $1 AND ancestry >= $2 AND ancestry < $3",
            &[
                Arg::from(tenant),
                Arg::Text(old_start.clone()),
                Arg::Text(old_end),
                Arg::Text(new_start),
                Arg::Int(old_start.chars().count() as i64 + 1),
            ],
        )
        .await?;
    }
    Ok(())
}

async fn ancestry(tx: &mut Tx, tenant: &str, id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = tx
        .fetch_optional(
            "SELECT ancestry FROM customers WHERE tenant_id = $1 AND id = $2",
            &[tenant.into(), id.into()],
        )
        .await?;
    Ok(row.map(|(a,)| a))
}

/// One customer's row while a batch is applied: as read (or created), and whether it must
/// be inserted or updated at the end.
struct Pending {
    record: CustomerRecord,
    insert: bool,
    dirty: bool,
}

/// The rows of `keys` (tenant, id), read a few hundred to a query (one tenant a query, so
/// it is a lookup in the primary key).
async fn load_rows(
    tx: &mut Tx,
    keys: &[(String, String)],
) -> Result<std::collections::HashMap<(String, String), CustomerRecord>, StoreError> {
    let mut by_tenant: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (tenant, id) in keys {
        by_tenant.entry(tenant).or_default().push(id);
    }
    let mut found = std::collections::HashMap::with_capacity(keys.len());
    for (tenant, ids) in by_tenant {
        for chunk in ids.chunks(500) {
            let mut args = vec![Arg::from(tenant)];
            args.extend(chunk.iter().map(|id| Arg::from(*id)));
            let placeholders: Vec<String> = (2..=args.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {READ_COLUMNS} FROM customers WHERE tenant_id = $1 AND id IN ({})",
                placeholders.join(", ")
            );
            let rows: Vec<CustomerRow> = tx.fetch_all(&sql, &args).await?;
            for row in rows {
                let record = CustomerRecord::try_from(row)?;
                found.insert((record.tenant.clone(), record.id.clone()), record);
            }
        }
    }
    Ok(found)
}

/// Events a batch applies alone (see `apply_batch`).
fn applied_alone(event: &StoredEvent) -> bool {
    matches!(
        event.event_type.as_str(),
        "CustomerMoved" | "HomeDashboardSet"
    )
}

/// The (tenant, id) an event's row is looked up by.
fn row_key(event: &StoredEvent) -> Result<(String, String), StoreError> {
    let tenant = if event.event_type == "CustomerCreated" {
        body::<CustomerCreated>(event)?.tenant
    } else {
        event.metadata.tenant.clone()
    };
    Ok((tenant, event.aggregate_id.clone()))
}

/// Applies events in order, reading and writing each customer's row once per batch. The
/// rows it leaves are those `apply` leaves event by event (`rebuild` and the runner use it;
/// a test compares the two).
pub(crate) async fn apply_batch(tx: &mut Tx, events: &[StoredEvent]) -> Result<(), StoreError> {
    let mut rows: std::collections::HashMap<(String, String), Pending> = Default::default();
    let mut order: Vec<(String, String)> = Vec::new();
    let customer_events: Vec<&StoredEvent> = events
        .iter()
        .filter(|e| e.aggregate_type == "Customer")
        .collect();
    // The rows of the customers met up to the next event applied alone, read in one go.
    let mut fetched: Option<std::collections::HashMap<(String, String), CustomerRecord>> = None;
    for (i, event) in customer_events.iter().copied().enumerate() {
        if applied_alone(event) {
            // These touch columns (or, for a move, other customers' rows) the batch does not
            // track: write what is pending, apply the event alone, and read afresh after it.
            flush(tx, &mut rows, &mut order).await?;
            apply(tx, event).await?;
            fetched = None;
            continue;
        }
        let key = (event.metadata.tenant.clone(), event.aggregate_id.clone());
        if !rows.contains_key(&key) {
            // A row created earlier in this batch is in `rows`; otherwise ask the table.
            if fetched.is_none() {
                let segment = customer_events[i..]
                    .iter()
                    .take_while(|e| !applied_alone(e));
                let mut keys = Vec::new();
                let mut seen = std::collections::HashSet::new();
                for e in segment {
                    let k = row_key(e)?;
                    if seen.insert(k.clone()) {
                        keys.push(k);
                    }
                }
                fetched = Some(load_rows(tx, &keys).await?);
            }
            let lookup = row_key(event)?;
            let found = fetched.as_mut().and_then(|read| read.remove(&lookup));
            if let Some(record) = found {
                rows.insert(
                    key.clone(),
                    Pending {
                        record,
                        insert: false,
                        dirty: false,
                    },
                );
                order.push(key.clone());
            }
        }
        let at = event.metadata.occurred_at;
        match event.event_type.as_str() {
            "CustomerCreated" => {
                if rows.contains_key(&key) {
                    continue; // ON CONFLICT DO NOTHING
                }
                let created: CustomerCreated = body(event)?;
                let record = CustomerRecord {
                    tenant: created.tenant,
                    id: event.aggregate_id.clone(),
                    version: event.sequence,
                    profile: created.profile,
                    account_status: derive_account_status(false, []),
                    own_company: created.own_company,
                    created_at: at,
                    updated_at: at,
                    parent_id: None,
                    ancestry: "/".into(),
                    home_dashboard_id: None,
                    hide_toolbar: false,
                };
                rows.insert(
                    key.clone(),
                    Pending {
                        record,
                        insert: true,
                        dirty: true,
                    },
                );
                order.push(key);
            }
            other => {
                let Some(pending) = rows.get_mut(&key) else {
                    if matches!(other, "CustomerEdited" | "CustomerDeleted") {
                        return Err(StoreError::Corrupt(format!(
                            "{} #{} of {} has no customer row",
                            event.event_type, event.sequence, event.aggregate_id
                        )));
                    }
                    continue; // the UPDATE of `apply` finds no row either
                };
                let record = &mut pending.record;
                if record.version >= event.sequence {
                    continue;
                }
                match other {
                    "CustomerEdited" => {
                        let edited: CustomerEdited = body(event)?;
                        edited.changes.apply_to(&mut record.profile);
                    }
                    "CustomerDeleted" => {
                        clientele_domain::customer::erase_personal_data(&mut record.profile)
                    }
                    "AccountStatusChanged" => {
                        let changed: clientele_domain::customer::AccountStatusChanged =
                            body(event)?;
                        record.account_status = changed.to;
                    }
                    _ => {}
                }
                record.version = event.sequence;
                record.updated_at = at;
                pending.dirty = true;
            }
        }
    }
    flush(tx, &mut rows, &mut order).await
}

/// Writes the rows a batch changed, in the order it first met them, and forgets them all.
async fn flush(
    tx: &mut Tx,
    rows: &mut std::collections::HashMap<(String, String), Pending>,
    order: &mut Vec<(String, String)>,
) -> Result<(), StoreError> {
    let mut inserts = Vec::new();
    for key in order.iter() {
        let pending = &rows[key];
        if pending.dirty && pending.insert {
            inserts.push(&pending.record);
        }
    }
    insert_rows(tx, &inserts).await?;
    for key in order.drain(..) {
        let pending = &rows[&key];
        if pending.dirty && !pending.insert {
            write_row(tx, &pending.record, false).await?;
        }
    }
    rows.clear();
    Ok(())
}
