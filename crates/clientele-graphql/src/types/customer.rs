//! The Customer type, its inputs and its connection.

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, InputObject, MaybeUndefined, SimpleObject, ID};
use chrono::{DateTime, Utc};
use clientele_domain::assignment::EntityKind;
use clientele_domain::customer::{Change, CustomerChanges, CustomerDraft};
use clientele_store::{CustomerRecord, Store};

use super::product::{
    AccountStatusExplanation, AccountStatusTransition, CustomerProduct, ProductStatusEntry,
    ProductsLoader,
};
use crate::error::{ApiError, ApiResult};

use super::enums::{
    AccountStatus, CustomerOrderField, CustomerType, OrderDirection, ServiceStatus,
};

/// A customer of the tenant, as stored after its latest change.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct Customer {
    #[graphql(skip)]
    pub tenant: String,
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
    /// The tenant's own company (seed 002): listed for convenience, never modified or deleted.
    pub own_company: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The parent of an inner customer (seed 003); null at the top.
    pub parent_id: Option<ID>,
    /// The home dashboard (seed 004); it is one of the customer's dashboards.
    pub home_dashboard_id: Option<ID>,
    /// Whether the home dashboard's toolbar is hidden.
    pub hide_home_dashboard_toolbar: bool,
    #[graphql(skip)]
    pub record: CustomerRecord,
}

impl Customer {
    async fn assigned(
        &self,
        ctx: &Context<'_>,
        kind: EntityKind,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<super::relations::AssignedEntityConnection> {
        let store = ctx.data_unchecked::<Store>();
        let first = crate::query::page_size("first", first)?
            .unwrap_or(crate::query::DEFAULT_PAGE_SIZE as usize);
        let page = store
            .assigned(&self.tenant, &self.id, kind, first, after.as_deref())
            .await
            .map_err(ApiError::from)?;
        Ok(super::relations::AssignedEntityConnection::new(
            page,
            after.is_some(),
        ))
    }

    async fn load_products(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerProduct>> {
        let loader = ctx.data_unchecked::<DataLoader<ProductsLoader>>();
        Ok(loader
            .load_one((self.tenant.clone(), self.id.to_string()))
            .await?
            .unwrap_or_default())
    }
}

#[ComplexObject]
impl Customer {
    /// The parent customer, if it is one the caller may see.
    async fn parent(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        match &self.record.parent_id {
            Some(id) => Ok(crate::guard::visible_customer(ctx, id)
                .await?
                .map(Into::into)),
            None => Ok(None),
        }
    }

    /// The ancestors the caller may see, root first, up to the parent.
    async fn ancestors(&self, ctx: &Context<'_>) -> ApiResult<Vec<Customer>> {
        let mut out = Vec::new();
        for id in self.record.ancestors() {
            if let Some(record) = crate::guard::visible_customer(ctx, &id).await? {
                out.push(record.into());
            }
        }
        Ok(out)
    }

    /// The live inner customers one level down, by name.
    async fn children(&self, ctx: &Context<'_>) -> ApiResult<Vec<Customer>> {
        let store = ctx.data_unchecked::<Store>();
        let me = crate::guard::principal(ctx);
        let children = store
            .children(&self.tenant, &self.id)
            .await
            .map_err(ApiError::from)?;
        Ok(children
            .into_iter()
            .filter(|c| crate::guard::can_see(me, c))
            .map(Into::into)
            .collect())
    }

    /// The live inner customers at any depth, by id (at most 100 a page, 20 by default).
    async fn descendants(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<super::relations::DescendantConnection> {
        let store = ctx.data_unchecked::<Store>();
        let me = crate::guard::principal(ctx);
        let first = crate::query::page_size("first", first)?
            .unwrap_or(crate::query::DEFAULT_PAGE_SIZE as usize);
        let (records, more) = store
            .descendants(&self.record, first, after.as_deref())
            .await
            .map_err(ApiError::from)?;
        let end_cursor = records.last().map(|r| r.id.clone());
        let nodes = records
            .into_iter()
            .filter(|r| crate::guard::can_see(me, r))
            .map(Into::into)
            .collect();
        Ok(super::relations::DescendantConnection {
            nodes,
            page_info: PageInfo {
                has_next_page: more,
                has_previous_page: after.is_some(),
                start_cursor: None,
                end_cursor,
            },
        })
    }

    /// The customer's users, by email (not for CUSTOMER_USER).
    async fn users(&self, ctx: &Context<'_>) -> ApiResult<Vec<super::relations::CustomerUser>> {
        crate::guard::require(ctx, crate::query::HISTORY_READERS)?;
        let store = ctx.data_unchecked::<Store>();
        let users = store
            .customer_users(&self.tenant, &self.id)
            .await
            .map_err(ApiError::from)?;
        Ok(users.into_iter().map(Into::into).collect())
    }

    /// How many devices, assets, edges and dashboards the customer has.
    async fn assignment_counts(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<super::relations::AssignmentCounts> {
        let store = ctx.data_unchecked::<Store>();
        Ok(store
            .assignment_counts(&self.tenant, &self.id)
            .await
            .map_err(ApiError::from)?
            .into())
    }

    /// The devices assigned to the customer, by id (at most 100 a page, 20 by default).
    async fn devices(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<super::relations::AssignedEntityConnection> {
        self.assigned(ctx, EntityKind::Device, first, after).await
    }

    /// The assets assigned to the customer, by id.
    async fn assets(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<super::relations::AssignedEntityConnection> {
        self.assigned(ctx, EntityKind::Asset, first, after).await
    }

    /// The edges assigned to the customer, by id.
    async fn edges(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<super::relations::AssignedEntityConnection> {
        self.assigned(ctx, EntityKind::Edge, first, after).await
    }

    /// The dashboards assigned to the customer, by id.
    async fn dashboards(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<super::relations::AssignedEntityConnection> {
        self.assigned(ctx, EntityKind::Dashboard, first, after)
            .await
    }

    /// Every product of the tenant's catalogue as it stands for this customer.
    async fn products(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerProduct>> {
        self.load_products(ctx).await
    }

    /// Every change of the account status, oldest first, with the event that caused it.
    async fn account_status_history(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<AccountStatusTransition>> {
        let store = ctx.data_unchecked::<Store>();
        let history = store
            .account_status_history(&self.tenant, &self.id)
            .await
            .map_err(ApiError::from)?;
        Ok(history.into_iter().map(Into::into).collect())
    }

    /// Why the account has its status: the products that decide it.
    async fn account_status_explanation(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<AccountStatusExplanation> {
        let products = self.load_products(ctx).await?;
        let statuses: Vec<(String, clientele_domain::ProductStatus)> = products
            .iter()
            .filter_map(|p| p.status.map(|s| (p.key.clone(), s.into())))
            .collect();
        let deleted = self.account_status == AccountStatus::Deleted;
        let (status, reason) = clientele_domain::explain_account_status(deleted, &statuses);
        Ok(AccountStatusExplanation {
            status: status.into(),
            reason,
            products: statuses
                .into_iter()
                .map(|(key, status)| ProductStatusEntry {
                    key,
                    status: status.into(),
                })
                .collect(),
        })
    }
}

impl From<CustomerRecord> for Customer {
    fn from(r: CustomerRecord) -> Self {
        let record = r.clone();
        let p = r.profile;
        Customer {
            tenant: r.tenant,
            id: ID(r.id),
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
            parent_id: r.parent_id.map(ID),
            home_dashboard_id: r.home_dashboard_id.map(ID),
            hide_home_dashboard_toolbar: r.hide_toolbar,
            record,
        }
    }
}

/// A new customer. Only `name` is always required; each tenant may require more
/// (`setRequiredCustomerFields`). Every given field obeys its rule.
#[derive(InputObject, Debug, Default)]
pub struct CreateCustomerInput {
    /// Normalised to lower case with spaces as hyphens ("TEST CUSTOMER" → "test-customer").
    pub name: String,
    pub email: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub organization: Option<String>,
    /// 5 to 16 characters: letters, digits, '-', '.', '_', '~' (never '+').
    pub shortname: Option<String>,
    #[graphql(name = "type")]
    pub customer_type: Option<CustomerType>,
    pub service_status: Option<ServiceStatus>,
    /// 0 or more.
    pub contractual_flows_per_second: Option<i64>,
    pub multi_account: Option<bool>,
    pub internal: Option<bool>,
    pub test_account: Option<bool>,
    /// 7, 45, 90 or 180.
    pub data_retention_days: Option<i32>,
    /// 7, 90, 180 or 365.
    pub rollup_retention_days: Option<i32>,
    /// A BCP 47 tag; "en" when omitted.
    pub language: Option<String>,
    pub seller: Option<String>,
    pub custom_id: Option<String>,
    pub title: Option<String>,
    pub country: Option<String>,
    pub city: Option<String>,
    pub address: Option<String>,
    pub phone: Option<String>,
    /// Makes the new customer an inner customer of this one (seed 003).
    pub parent_id: Option<ID>,
}

impl From<CreateCustomerInput> for CustomerDraft {
    fn from(i: CreateCustomerInput) -> Self {
        CustomerDraft {
            name: i.name,
            email: i.email,
            given_name: i.given_name,
            family_name: i.family_name,
            organization: i.organization,
            shortname: i.shortname,
            customer_type: i.customer_type.map(Into::into),
            service_status: i.service_status.map(Into::into),
            contractual_flows_per_second: i.contractual_flows_per_second,
            multi_account: i.multi_account,
            internal: i.internal,
            test_account: i.test_account,
            data_retention_days: i.data_retention_days,
            rollup_retention_days: i.rollup_retention_days,
            language: i.language,
            seller: i.seller,
            custom_id: i.custom_id,
            title: i.title,
            country: i.country,
            city: i.city,
            address: i.address,
            phone: i.phone,
        }
    }
}

/// Changes to a customer: a field left out stays as it is, `null` clears it (where it
/// may be cleared), a value sets it. An edit that changes nothing writes no event.
#[derive(InputObject, Debug, Default)]
pub struct EditCustomerInput {
    pub name: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
    pub given_name: MaybeUndefined<String>,
    pub family_name: MaybeUndefined<String>,
    pub organization: MaybeUndefined<String>,
    pub shortname: MaybeUndefined<String>,
    #[graphql(name = "type")]
    pub customer_type: MaybeUndefined<CustomerType>,
    pub service_status: MaybeUndefined<ServiceStatus>,
    pub contractual_flows_per_second: MaybeUndefined<i64>,
    pub multi_account: MaybeUndefined<bool>,
    pub internal: MaybeUndefined<bool>,
    pub test_account: MaybeUndefined<bool>,
    pub data_retention_days: MaybeUndefined<i32>,
    pub rollup_retention_days: MaybeUndefined<i32>,
    pub language: MaybeUndefined<String>,
    pub seller: MaybeUndefined<String>,
    pub custom_id: MaybeUndefined<String>,
    pub title: MaybeUndefined<String>,
    pub country: MaybeUndefined<String>,
    pub city: MaybeUndefined<String>,
    pub address: MaybeUndefined<String>,
    pub phone: MaybeUndefined<String>,
}

impl EditCustomerInput {
    /// The fields set here that only the reseller may change (seed 001: e.g. customId).
    pub fn reseller_only_fields(&self) -> Vec<&'static str> {
        let set = [
            ("name", !self.name.is_undefined()),
            ("shortname", !self.shortname.is_undefined()),
            ("type", !self.customer_type.is_undefined()),
            ("serviceStatus", !self.service_status.is_undefined()),
            (
                "contractualFlowsPerSecond",
                !self.contractual_flows_per_second.is_undefined(),
            ),
            ("multiAccount", !self.multi_account.is_undefined()),
            ("internal", !self.internal.is_undefined()),
            ("testAccount", !self.test_account.is_undefined()),
            (
                "dataRetentionDays",
                !self.data_retention_days.is_undefined(),
            ),
            (
                "rollupRetentionDays",
                !self.rollup_retention_days.is_undefined(),
            ),
            ("seller", !self.seller.is_undefined()),
            ("customId", !self.custom_id.is_undefined()),
        ];
        set.into_iter()
            .filter(|(_, given)| *given)
            .map(|(name, _)| name)
            .collect()
    }

    /// True when the edit would give the customer to a seller other than `me`.
    pub fn reassigns_seller(&self, me: &str) -> bool {
        match &self.seller {
            MaybeUndefined::Undefined => false,
            MaybeUndefined::Null => true,
            MaybeUndefined::Value(seller) => seller.trim() != me,
        }
    }
}

fn change<T, U: From<T>>(value: MaybeUndefined<T>) -> Change<U> {
    match value {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(v) => Change::Set(v.into()),
    }
}

impl From<EditCustomerInput> for CustomerChanges {
    fn from(i: EditCustomerInput) -> Self {
        CustomerChanges {
            name: change(i.name),
            email: change(i.email),
            given_name: change(i.given_name),
            family_name: change(i.family_name),
            organization: change(i.organization),
            shortname: change(i.shortname),
            customer_type: change(i.customer_type),
            service_status: change(i.service_status),
            contractual_flows_per_second: change(i.contractual_flows_per_second),
            multi_account: change(i.multi_account),
            internal: change(i.internal),
            test_account: change(i.test_account),
            data_retention_days: change(i.data_retention_days),
            rollup_retention_days: change(i.rollup_retention_days),
            language: change(i.language),
            seller: change(i.seller),
            custom_id: change(i.custom_id),
            title: change(i.title),
            country: change(i.country),
            city: change(i.city),
            address: change(i.address),
            phone: change(i.phone),
        }
    }
}

/// Which customers a list shows.
#[derive(InputObject, Debug, Default)]
pub struct CustomerFilter {
    /// Case-insensitive substring of name, email, given and family name, organization,
    /// shortname or customId.
    pub text: Option<String>,
    #[graphql(name = "type")]
    pub customer_type: Option<CustomerType>,
    /// Exact seller.
    pub seller: Option<String>,
    pub account_status: Option<AccountStatus>,
    /// Omitted or false: real customers only. True: test accounts only.
    pub test_account: Option<bool>,
    /// Deleted customers are left out unless this is true or `accountStatus` is DELETED.
    #[graphql(default)]
    pub include_deleted: bool,
    /// Omitted: the tenant's own company is listed with the others (seed 002). False leaves
    /// it out; true shows only it.
    pub own_company: Option<bool>,
}

impl From<CustomerFilter> for clientele_store::CustomerFilter {
    fn from(f: CustomerFilter) -> Self {
        clientele_store::CustomerFilter {
            text: f.text,
            customer_type: f.customer_type.map(Into::into),
            seller: f.seller,
            account_status: f.account_status.map(Into::into),
            test_account: f.test_account,
            include_deleted: f.include_deleted,
            only_id: None,
            include_test_accounts: false,
            own_company: f.own_company,
            subtree_of: None,
        }
    }
}

/// How a customer list is sorted (ties are broken by id).
#[derive(InputObject, Debug, Default)]
pub struct CustomerOrder {
    pub field: CustomerOrderField,
    #[graphql(default)]
    pub direction: OrderDirection,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerEdge {
    pub cursor: String,
    pub node: Customer,
}
