//! The `customers` read model's row: the record the API reads, and the columns as stored.

use chrono::{DateTime, Utc};
use clientele_domain::customer::CustomerProfile;
use clientele_domain::AccountStatus;
use serde::de::DeserializeOwned;

use crate::db::{enum_parse, time};
use crate::StoreError;

/// A customer as the read model holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRecord {
    pub tenant: String,
    pub id: String,
    pub version: i64,
    pub profile: CustomerProfile,
    pub account_status: AccountStatus,
    /// The tenant's own company: registered on the tenant's first request, never
    /// modified or deleted.
    pub own_company: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The parent of an inner customer.
    pub parent_id: Option<String>,
    /// The ancestors as a path: "/" at the top, "/root/…/parent/" below.
    pub ancestry: String,
    /// The home dashboard and whether its toolbar is hidden.
    pub home_dashboard_id: Option<String>,
    pub hide_toolbar: bool,
    /// The name asked for at creation when the customer was given a suffixed one instead
    /// (createCustomer's UNIQUIFY policy); none otherwise.
    pub requested_name: Option<String>,
}

/// The table's columns, in the order `CustomerRow` and `write_row` use them.
pub(crate) const COLUMNS: &str = "tenant_id, id, version, name, email, given_name, family_name, organization, \
    shortname, customer_type, service_status, contractual_flows_per_second, multi_account, internal, \
    test_account, data_retention_days, rollup_retention_days, language, seller, custom_id, title, country, \
    city, address, phone, account_status, created_at, updated_at, own_company, state, zip, address2, requested_name";

/// `COLUMNS` and the columns events other than create and edit keep (tree, home dashboard).
pub(crate) const READ_COLUMNS: &str = "tenant_id, id, version, name, email, given_name, family_name, organization, \
    shortname, customer_type, service_status, contractual_flows_per_second, multi_account, internal, \
    test_account, data_retention_days, rollup_retention_days, language, seller, custom_id, title, country, \
    city, address, phone, account_status, created_at, updated_at, own_company, state, zip, address2, \
    requested_name, parent_id, ancestry, home_dashboard_id, hide_toolbar";

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
    state: Option<String>,
    zip: Option<String>,
    address2: Option<String>,
    requested_name: Option<String>,
    parent_id: Option<String>,
    ancestry: String,
    home_dashboard_id: Option<String>,
    hide_toolbar: bool,
}

fn enum_from<T: DeserializeOwned>(value: Option<String>) -> Result<Option<T>, StoreError> {
    value
        .map(|v| {
            enum_parse(&v)
                .ok_or_else(|| StoreError::Corrupt(format!("unknown value {v:?} in customers")))
        })
        .transpose()
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
            state: row.state,
            zip: row.zip,
            address2: row.address2,
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
            requested_name: row.requested_name,
        })
    }
}
