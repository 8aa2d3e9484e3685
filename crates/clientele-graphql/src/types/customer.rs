//! The Customer type: its own fields, merged with the fields each slice adds to it (its
//! place in the tree, its users, its assignments, its products, its account status, and a
//! dry run's preview); and a page of customers.

use std::sync::Arc;

use async_graphql::{Context, MergedObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use clientele_store::{CustomerRecord, Store};

use super::account_status::{AccountStatus, CustomerAccountStatus};
use super::assignments::CustomerAssignments;
use super::dry_run::{CustomerPreview, DeletionPreview, MovePreview};
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
    CustomerPreview,
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
            CustomerPreview::default(),
        )
    }
}

impl Customer {
    /// The customer's id (the `Node` interface reads it through this).
    pub async fn id(&self, _ctx: &async_graphql::Context<'_>) -> async_graphql::Result<&ID> {
        Ok(&self.0.id)
    }

    /// The answer of `deleteCustomer(dryRun: true)`: the customer with what its deletion
    /// would do.
    pub fn with_deletion_preview(mut self, preview: DeletionPreview) -> Self {
        self.6.deletion_preview = Some(preview);
        self
    }

    /// The answer of `moveCustomer(dryRun: true)`: the customer with what its move would do.
    pub fn with_move_preview(mut self, preview: MovePreview) -> Self {
        self.6.move_preview = Some(preview);
        self
    }
}

/// The customer's own fields, as the read model holds them.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerFields {
    /// The customer's id, a UUID.
    pub id: ID,
    /// How many events the customer has; pass it as `expectedVersion` to edit safely.
    pub version: i64,
    /// Lower case, spaces replaced by hyphens; unique within the tenant.
    pub name: String,
    /// True when createCustomer's UNIQUIFY policy gave the customer a suffixed name because
    /// the name asked for (`requestedName`) was taken.
    pub name_uniquified: bool,
    /// The (normalised) name asked for at creation, when the customer got a suffixed one
    /// instead (`nameUniquified`); null otherwise. Later renames leave it as it was.
    pub requested_name: Option<String>,
    /// The contact email. Null when not given, or erased by deletion.
    pub email: Option<String>,
    /// The contact's given name.
    pub given_name: Option<String>,
    /// The contact's family name.
    pub family_name: Option<String>,
    /// The company name.
    pub organization: Option<String>,
    /// 5 to 16 RFC 3986 unreserved characters; unique within the tenant, case-insensitively.
    pub shortname: Option<String>,
    /// The account type; null when not chosen.
    #[graphql(name = "type")]
    pub customer_type: Option<CustomerType>,
    /// The commercial status; null when not chosen.
    pub service_status: Option<ServiceStatus>,
    /// The contracted flows per second (0 or more); null when not set.
    pub contractual_flows_per_second: Option<i64>,
    /// Whether the customer runs several accounts.
    pub multi_account: bool,
    /// Whether the customer is one of the tenant's own.
    pub internal: bool,
    /// Test accounts are left out of lists unless the filter asks for them.
    pub test_account: bool,
    /// Days of data kept: 7, 45, 90 or 180; null when not set.
    pub data_retention_days: Option<i32>,
    /// Days of rollups kept: 7, 90, 180 or 365; null when not set.
    pub rollup_retention_days: Option<i32>,
    /// BCP 47 language tag for automatic emails.
    pub language: String,
    /// The seller who looks after the customer (a SELLER sees only its own customers).
    pub seller: Option<String>,
    /// The tenant's own reference for the customer.
    pub custom_id: Option<String>,
    /// The contact's title.
    pub title: Option<String>,
    /// The country, as entered.
    pub country: Option<String>,
    /// The city.
    pub city: Option<String>,
    /// The postal address.
    pub address: Option<String>,
    /// The phone number, as entered.
    pub phone: Option<String>,
    /// The state, province or region.
    pub state: Option<String>,
    /// The postal (zip) code.
    pub zip: Option<String>,
    /// The postal address's second line.
    pub address2: Option<String>,
    /// Derived from the customer's products; never edited.
    pub account_status: AccountStatus,
    /// The tenant's own company: listed for convenience, never modified or deleted.
    pub own_company: bool,
    /// The tenant's public customer, which holds what is made public (`makePublic`);
    /// never modified or deleted.
    pub is_public: bool,
    /// When the customer was created (RFC 3339, UTC).
    pub created_at: DateTime<Utc>,
    /// When the customer last changed (RFC 3339, UTC).
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
            name_uniquified: r.requested_name.is_some(),
            requested_name: r.requested_name.clone(),
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
            state: p.state,
            zip: p.zip,
            address2: p.address2,
            account_status: r.account_status.into(),
            own_company: r.own_company,
            is_public: r.id == crate::resolvers::public_customer_id(&r.tenant),
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

/// A page of customers; `totalCount` is only computed when asked for.
#[Object]
impl CustomerConnection {
    /// The customers of this page, each with its cursor.
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

    /// Where this page sits in the list.
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

/// A customer in a list, with its cursor.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerEdge {
    /// Pass as `after` (or `before`) to page from this customer.
    pub cursor: String,
    /// The customer.
    pub node: Customer,
}
