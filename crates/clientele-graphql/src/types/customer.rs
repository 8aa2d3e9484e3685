//! The Customer type: its own fields, merged with the fields each slice adds to it (its
//! place in the tree, its users, its assignments, its products and its account status);
//! and a page of customers.

use std::sync::Arc;

use async_graphql::{Context, MergedObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use clientele_store::{CustomerRecord, Store};

use super::account_status::{AccountStatus, CustomerAccountStatus};
use super::assignments::CustomerAssignments;
use super::page::PageInfo;
use super::products::CustomerProducts;
use super::profile::{CustomerType, ServiceStatus};
use super::tree::CustomerTree;
use super::users::CustomerUsers;
use crate::error::ApiResult;

/// A customer of the tenant, as stored after its latest change.
#[derive(MergedObject, Debug, Clone)]
pub struct Customer(
    CustomerFields,
    CustomerTree,
    CustomerUsers,
    CustomerAssignments,
    CustomerProducts,
    CustomerAccountStatus,
);

impl From<CustomerRecord> for Customer {
    fn from(record: CustomerRecord) -> Self {
        let fields = CustomerFields::from(&record);
        let record = Arc::new(record);
        Customer(
            fields,
            CustomerTree(record.clone()),
            CustomerUsers(record.clone()),
            CustomerAssignments(record.clone()),
            CustomerProducts(record.clone()),
            CustomerAccountStatus(record),
        )
    }
}

/// The customer's own fields, as the read model holds them.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerFields {
    pub id: ID,
    /// How many events the customer has; pass it as `expectedVersion` to edit safely.
    pub version: i64,
    /// Lower case, spaces replaced by hyphens; unique within the tenant.
    pub name: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub organization: Option<String>,
    /// 5 to 16 RFC 3986 unreserved characters; unique within the tenant, case-insensitively.
    pub shortname: Option<String>,
    #[graphql(name = "type")]
    pub customer_type: Option<CustomerType>,
    pub service_status: Option<ServiceStatus>,
    pub contractual_flows_per_second: Option<i64>,
    pub multi_account: bool,
    pub internal: bool,
    /// Test accounts are left out of lists unless the filter asks for them.
    pub test_account: bool,
    pub data_retention_days: Option<i32>,
    pub rollup_retention_days: Option<i32>,
    /// BCP 47 language tag for automatic emails.
    pub language: String,
    pub seller: Option<String>,
    pub custom_id: Option<String>,
    pub title: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// Derived from the customer's products; never edited.
    pub account_status: AccountStatus,
    /// The tenant's own company: listed for convenience, never modified or deleted.
    pub own_company: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The parent of an inner customer; null at the top.
    pub parent_id: Option<ID>,
    /// The home dashboard; it is one of the customer's dashboards.
    pub home_dashboard_id: Option<ID>,
    /// Whether the home dashboard's toolbar is hidden.
    pub hide_home_dashboard_toolbar: bool,
}

impl From<&CustomerRecord> for CustomerFields {
    fn from(r: &CustomerRecord) -> Self {
        let p = r.profile.clone();
        CustomerFields {
            id: ID(r.id.clone()),
            version: r.version,
            name: p.name,
            email: p.email,
            given_name: p.given_name,
            family_name: p.family_name,
            organization: p.organization,
            shortname: p.shortname,
            customer_type: p.customer_type.map(Into::into),
            service_status: p.service_status.map(Into::into),
            contractual_flows_per_second: p.contractual_flows_per_second,
            multi_account: p.multi_account,
            internal: p.internal,
            test_account: p.test_account,
            data_retention_days: p.data_retention_days,
            rollup_retention_days: p.rollup_retention_days,
            language: p.language,
            seller: p.seller,
            custom_id: p.custom_id,
            title: p.title,
            country: p.country,
            city: p.city,
            address: p.address,
            phone: p.phone,
            account_status: r.account_status.into(),
            own_company: r.own_company,
            created_at: r.created_at,
            updated_at: r.updated_at,
            parent_id: r.parent_id.clone().map(ID),
            home_dashboard_id: r.home_dashboard_id.clone().map(ID),
            hide_home_dashboard_toolbar: r.hide_toolbar,
        }
    }
}

/// A page of customers; `totalCount` is only computed when asked for.
pub struct CustomerConnection {
    pub(crate) tenant: String,
    pub(crate) filter: clientele_store::CustomerFilter,
    pub(crate) page: clientele_store::CustomerPage,
}

#[Object]
impl CustomerConnection {
    async fn edges(&self) -> Vec<CustomerEdge> {
        self.page
            .items
            .iter()
            .map(|(cursor, record)| CustomerEdge {
                cursor: cursor.encode(),
                node: record.clone().into(),
            })
            .collect()
    }

    async fn page_info(&self) -> PageInfo {
        PageInfo::of(
            &self.page.items,
            |(cursor, _)| cursor.encode(),
            self.page.has_next_page,
            self.page.has_previous_page,
        )
    }

    /// How many customers pass the filter, over all pages.
    async fn total_count(&self, ctx: &Context<'_>) -> ApiResult<i64> {
        let store = ctx.data_unchecked::<Store>();
        Ok(store.count_customers(&self.tenant, &self.filter).await?)
    }
}

#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerEdge {
    pub cursor: String,
    pub node: Customer,
}
