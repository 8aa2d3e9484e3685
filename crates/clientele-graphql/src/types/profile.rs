//! A customer's own fields: the create and edit inputs, the list's filter and order, and
//! the enums of those fields.

use async_graphql::{Enum, InputObject, MaybeUndefined, ID};
use clientele_domain::customer::{Change, CustomerChanges, CustomerDraft};

use super::account_status::AccountStatus;

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
    /// Makes the new customer an inner customer of this one.
    pub parent_id: Option<ID>,
    /// The customer's first admin user, created in the same transaction: with a password it
    /// signs in at once, without one it is sent an activation email.
    pub first_admin: Option<crate::types::users::FirstAdminInput>,
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
    /// The fields set here that only the reseller may change, never the customer's own
    /// admin (e.g. customId).
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

/// One field of an edit input as the domain takes it: left out keeps, `null` clears, a
/// value sets (every edit input uses it).
pub(crate) fn change<T, U: From<T>>(value: MaybeUndefined<T>) -> Change<U> {
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
    /// Omitted: the tenant's own company is listed with the others. False leaves
    /// it out; true shows only it.
    pub own_company: Option<bool>,
    /// True: only customers with an open deletion request; false: only those without.
    pub deletion_requested: Option<bool>,
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
            deletion_requested: f.deletion_requested,
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

/// The account type, chosen on the creation form.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::CustomerType")]
pub enum CustomerType {
    Slg,
    Mssp,
}

/// The commercial status, chosen on the creation form.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::ServiceStatus")]
pub enum ServiceStatus {
    Active,
    TrialActive,
}

/// A customer field, named as the input names it, for the tenant's required-fields setting.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::CustomerField")]
pub enum CustomerField {
    Name,
    Email,
    GivenName,
    FamilyName,
    Organization,
    Shortname,
    Type,
    ServiceStatus,
    ContractualFlowsPerSecond,
    MultiAccount,
    Internal,
    TestAccount,
    DataRetentionDays,
    RollupRetentionDays,
    Language,
    Seller,
    CustomId,
    Title,
    Country,
    City,
    Address,
    Phone,
}

/// What a customer list is sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
#[graphql(remote = "clientele_store::CustomerOrderField")]
pub enum CustomerOrderField {
    #[default]
    CreatedAt,
    Name,
    Organization,
    Shortname,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    #[default]
    Asc,
    Desc,
}
