//! Finding customers: the list's filter and order, and the tenant's sellers.

use async_graphql::{Enum, InputObject, SimpleObject};
use chrono::{DateTime, Utc};
use clientele_domain::Rule;

use super::account_status::AccountStatus;
use super::profile::CustomerType;
use crate::error::{ApiError, ApiResult};

/// Which customers a list shows. Every field given narrows the list (they combine with AND).
#[derive(InputObject, Debug, Default)]
pub struct CustomerFilter {
    /// A substring of any text field: name, email, given and family name, organization,
    /// shortname, customId, seller, title, country, city, state, zip, address, address2 or
    /// phone; without case or accents ("Zurich" finds "Zürich", "muller" finds "Müller"). It also matches as a name
    /// is stored, normalised: "Customer title 1" finds the customer named "customer-title-1".
    pub text: Option<String>,
    /// Only customers of this account type.
    #[graphql(name = "type")]
    pub customer_type: Option<CustomerType>,
    /// Only customers of one of these account types (an empty list matches none).
    pub types: Option<Vec<CustomerType>>,
    /// This seller, in any case ("Alice" finds customers of "alice").
    pub seller: Option<String>,
    /// Only customers in this account status.
    pub account_status: Option<AccountStatus>,
    /// Only customers in one of these account statuses (an empty list matches none).
    /// Deleted customers are listed when DELETED is among them.
    pub account_statuses: Option<Vec<AccountStatus>>,
    /// Only customers created in this range.
    pub created_at: Option<TimeRange>,
    /// Omitted or false: real customers only. True: test accounts only. Give this or
    /// `testAccounts`, not both.
    pub test_account: Option<bool>,
    /// Real customers (EXCLUDE, the default), test accounts only (ONLY), or both together
    /// (INCLUDE). Give this or `testAccount`, not both.
    pub test_accounts: Option<TestAccounts>,
    /// Deleted customers are left out unless this is true or `accountStatus` (or
    /// `accountStatuses`) asks for DELETED.
    #[graphql(default)]
    pub include_deleted: bool,
    /// Omitted: the tenant's own company is listed with the others. False leaves
    /// it out; true shows only it.
    pub own_company: Option<bool>,
    /// True: only customers with an open deletion request; false: only those without.
    pub deletion_requested: Option<bool>,
}

/// A range of instants: from `from` (included) to `to` (left out). Either end may be open.
#[derive(InputObject, Debug, Default, Clone, Copy)]
pub struct TimeRange {
    /// The first instant in the range.
    pub from: Option<DateTime<Utc>>,
    /// The first instant after the range.
    pub to: Option<DateTime<Utc>>,
}

/// Whether a list shows test accounts.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum TestAccounts {
    /// Real customers only (the default).
    #[default]
    Exclude,
    /// Test accounts only.
    Only,
    /// Test accounts and real customers together.
    Include,
}

impl TestAccounts {
    /// Sets the store filter's two test-account fields.
    pub(crate) fn narrow(self, filter: &mut clientele_store::CustomerFilter) {
        match self {
            TestAccounts::Exclude => filter.test_account = Some(false),
            TestAccounts::Only => filter.test_account = Some(true),
            TestAccounts::Include => filter.include_test_accounts = true,
        }
    }
}

impl CustomerFilter {
    /// The store's filter, or BAD_USER_INPUT for arguments that contradict each other.
    pub fn into_store(self) -> ApiResult<clientele_store::CustomerFilter> {
        let created = self.created_at.unwrap_or_default();
        if let (Some(from), Some(to)) = (created.from, created.to) {
            if from >= to {
                return Err(ApiError::argument(
                    "filter.createdAt.to",
                    Rule::Range,
                    "createdAt.to must be later than createdAt.from",
                ));
            }
        }
        let mut filter = clientele_store::CustomerFilter {
            text: self.text,
            customer_type: self.customer_type.map(Into::into),
            customer_types: self
                .types
                .map(|types| types.into_iter().map(Into::into).collect()),
            seller_any_case: self.seller,
            account_status: self.account_status.map(Into::into),
            account_statuses: self
                .account_statuses
                .map(|statuses| statuses.into_iter().map(Into::into).collect()),
            created_from: created.from,
            created_before: created.to,
            test_account: self.test_account,
            include_deleted: self.include_deleted,
            own_company: self.own_company,
            deletion_requested: self.deletion_requested,
            ..Default::default()
        };
        if let Some(test_accounts) = self.test_accounts {
            if self.test_account.is_some() {
                return Err(ApiError::argument(
                    "filter.testAccounts",
                    Rule::AllowedValues,
                    "give testAccount or testAccounts, not both",
                ));
            }
            test_accounts.narrow(&mut filter);
        }
        Ok(filter)
    }
}

/// How a customer list is sorted (ties are broken by id).
#[derive(InputObject, Debug, Default)]
pub struct CustomerOrder {
    /// The field sorted by.
    pub field: CustomerOrderField,
    /// ASC (the default) or DESC.
    #[graphql(default)]
    pub direction: OrderDirection,
}

/// What a customer list is sorted by.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
#[graphql(remote = "clientele_store::CustomerOrderField")]
pub enum CustomerOrderField {
    /// When the customer was created (the default).
    #[default]
    CreatedAt,
    /// The normalised name.
    Name,
    /// The company name.
    Organization,
    /// The short name.
    Shortname,
    /// The seller (customers without one first).
    Seller,
    /// The account status, by its name (ACTIVE, DELETED, PREPARATION, …).
    AccountStatus,
    /// When the customer last changed.
    UpdatedAt,
}

/// The direction of a sort.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum OrderDirection {
    /// Smallest first (the default).
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// A seller of the tenant's customers.
#[derive(SimpleObject, Debug)]
pub struct SellerCount {
    /// The seller, as its customers name it.
    pub seller: String,
    /// How many of its customers the caller can see (live ones; test accounts as asked).
    pub customers: i64,
}

impl From<clientele_store::SellerCount> for SellerCount {
    fn from(s: clientele_store::SellerCount) -> Self {
        SellerCount {
            seller: s.seller,
            customers: s.customers,
        }
    }
}
