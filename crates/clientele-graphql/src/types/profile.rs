//! A customer's own fields: the create and edit inputs and the enums of those fields (the
//! list's filter and order are in `search`).

use async_graphql::{Enum, InputObject, MaybeUndefined, ID};
use clientele_domain::customer::{Change, CustomerChanges, CustomerDraft};

pub use super::search::{CustomerFilter, CustomerOrder, CustomerOrderField, OrderDirection};

/// A new customer. Only `name` is always required; each tenant may require more
/// (`setRequiredCustomerFields`). Every given field obeys its rule.
#[derive(InputObject, Debug, Default)]
pub struct CreateCustomerInput {
    /// Normalised to lower case with spaces as hyphens ("TEST CUSTOMER" → "test-customer").
    pub name: String,
    /// Contact address, at most 254 characters, such as ops@example.com (a local part of at most 64 characters, a domain of two or more labels). Personal data: erased when the customer is deleted.
    pub email: Option<String>,
    /// The contact's given name, at most 100 characters. Personal data.
    pub given_name: Option<String>,
    /// The contact's family name, at most 100 characters. Personal data.
    pub family_name: Option<String>,
    /// The company name, at most 200 characters.
    pub organization: Option<String>,
    /// 5 to 16 characters: letters, digits, '-', '.', '_', '~' (never '+').
    pub shortname: Option<String>,
    /// The account type (SLG or MSSP); none when omitted.
    #[graphql(name = "type")]
    pub customer_type: Option<CustomerType>,
    /// The commercial status chosen on the creation form; a TRIAL_ACTIVE customer never has an ACTIVE product.
    pub service_status: Option<ServiceStatus>,
    /// 0 or more.
    pub contractual_flows_per_second: Option<i64>,
    /// Whether the customer runs several accounts; false when omitted.
    pub multi_account: Option<bool>,
    /// Whether the customer is one of the tenant's own; false when omitted.
    pub internal: Option<bool>,
    /// Whether this is a test account (left out of lists unless asked for); false when omitted.
    pub test_account: Option<bool>,
    /// 7, 45, 90 or 180.
    pub data_retention_days: Option<i32>,
    /// 7, 90, 180 or 365.
    pub rollup_retention_days: Option<i32>,
    /// A BCP 47 tag; "en" when omitted.
    pub language: Option<String>,
    /// The seller (reseller user) who looks after the customer, at most 100 characters. A SELLER caller may only name itself.
    pub seller: Option<String>,
    /// The tenant's own reference for the customer, at most 100 characters.
    pub custom_id: Option<String>,
    /// The contact's title, at most 200 characters. Personal data.
    pub title: Option<String>,
    /// Country, free text of at most 100 characters (not checked against ISO 3166). Personal data.
    pub country: Option<String>,
    /// City, at most 100 characters. Personal data.
    pub city: Option<String>,
    /// Postal address, at most 500 characters. Personal data.
    pub address: Option<String>,
    /// Phone number, at most 32 characters: digits, spaces and + - ( ) . with at least 3 digits. Personal data.
    pub phone: Option<String>,
    /// State, province or region, at most 100 characters. Personal data.
    pub state: Option<String>,
    /// Postal (zip) code, free text of at most 100 characters. Personal data.
    pub zip: Option<String>,
    /// The postal address's second line, at most 500 characters. Personal data.
    pub address2: Option<String>,
    /// Makes the new customer an inner customer of this one; a tree has at most 50 levels
    /// (rule LIMIT when the parent is on the 50th).
    pub parent_id: Option<ID>,
    /// The customer's first admin user, created in the same transaction: with a password it
    /// signs in at once, without one it is sent an activation email.
    pub first_admin: Option<crate::types::users::FirstAdminInput>,
    /// What to do when another live customer of the tenant already has the (normalised)
    /// name: FAIL (the default) answers CONFLICT; UNIQUIFY appends "-2", "-3", … (the first
    /// free one) and the answer's `nameUniquified` and `requestedName` say so. The shortname
    /// is never changed: a taken shortname is CONFLICT either way.
    #[graphql(default)]
    pub name_conflict: NameConflictPolicy,
    /// The product toggles of the creation form, written with the customer in the same
    /// commit: each is the customer's own visibility of that product (source CUSTOMER), so
    /// later global changes leave it alone. Products left out follow the global setting. A
    /// key outside the catalogue is BAD_USER_INPUT (`field: input.products`, `rule:
    /// UNKNOWN_PRODUCT`), a product given twice too (`rule: UNIQUE`); nothing is written.
    pub products: Option<Vec<crate::types::products::ProductVisibilityInput>>,
}

/// What createCustomer does when the name is taken.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
pub enum NameConflictPolicy {
    /// Refuse: CONFLICT with `field: input.name` and `rule: UNIQUE`; nothing is written.
    #[default]
    Fail,
    /// Create it under the first free name of "name-2", "name-3", … (the name's end trimmed
    /// to stay within 100 characters), and report the name asked for.
    Uniquify,
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
            state: i.state,
            zip: i.zip,
            address2: i.address2,
        }
    }
}

/// Changes to a customer: a field left out stays as it is, `null` clears it (where it
/// may be cleared), a value sets it. An edit that changes nothing writes no event.
#[derive(InputObject, Debug, Default, Clone)]
pub struct EditCustomerInput {
    /// Normalised like the creation name; cannot be cleared. Not editable by a CUSTOMER_ADMIN.
    pub name: MaybeUndefined<String>,
    /// At most 254 characters, a valid address; null clears it.
    pub email: MaybeUndefined<String>,
    /// At most 100 characters; null clears it.
    pub given_name: MaybeUndefined<String>,
    /// At most 100 characters; null clears it.
    pub family_name: MaybeUndefined<String>,
    /// At most 200 characters; null clears it.
    pub organization: MaybeUndefined<String>,
    /// 5 to 16 characters: letters, digits, '-', '.', '_', '~'; unique in the tenant (case-insensitively). Not editable by a CUSTOMER_ADMIN.
    pub shortname: MaybeUndefined<String>,
    /// SLG or MSSP; null clears it. Not editable by a CUSTOMER_ADMIN.
    #[graphql(name = "type")]
    pub customer_type: MaybeUndefined<CustomerType>,
    /// ACTIVE or TRIAL_ACTIVE; null clears it. Not editable by a CUSTOMER_ADMIN.
    pub service_status: MaybeUndefined<ServiceStatus>,
    /// 0 or more; null clears it. Not editable by a CUSTOMER_ADMIN.
    pub contractual_flows_per_second: MaybeUndefined<i64>,
    /// Cannot be cleared. Not editable by a CUSTOMER_ADMIN.
    pub multi_account: MaybeUndefined<bool>,
    /// Cannot be cleared. Not editable by a CUSTOMER_ADMIN.
    pub internal: MaybeUndefined<bool>,
    /// Cannot be cleared. Not editable by a CUSTOMER_ADMIN.
    pub test_account: MaybeUndefined<bool>,
    /// 7, 45, 90 or 180; null clears it. Not editable by a CUSTOMER_ADMIN.
    pub data_retention_days: MaybeUndefined<i32>,
    /// 7, 90, 180 or 365; null clears it. Not editable by a CUSTOMER_ADMIN.
    pub rollup_retention_days: MaybeUndefined<i32>,
    /// A BCP 47 tag such as en or pt-BR, at most 35 characters; cannot be cleared.
    pub language: MaybeUndefined<String>,
    /// At most 100 characters; null clears it. Not editable by a CUSTOMER_ADMIN; a SELLER may not give the customer to another seller.
    pub seller: MaybeUndefined<String>,
    /// At most 100 characters; null clears it. Not editable by a CUSTOMER_ADMIN.
    pub custom_id: MaybeUndefined<String>,
    /// At most 200 characters; null clears it.
    pub title: MaybeUndefined<String>,
    /// At most 100 characters; null clears it.
    pub country: MaybeUndefined<String>,
    /// At most 100 characters; null clears it.
    pub city: MaybeUndefined<String>,
    /// At most 500 characters; null clears it.
    pub address: MaybeUndefined<String>,
    /// At most 32 characters: digits, spaces and + - ( ) . with at least 3 digits; null clears it.
    pub phone: MaybeUndefined<String>,
    /// At most 100 characters; null clears it.
    pub state: MaybeUndefined<String>,
    /// At most 100 characters; null clears it.
    pub zip: MaybeUndefined<String>,
    /// At most 500 characters; null clears it.
    pub address2: MaybeUndefined<String>,
}

impl EditCustomerInput {
    /// The fields set here that only the reseller may change, never the customer's own
    /// admin (e.g. customId).
    pub fn reseller_only_fields(&self) -> Vec<&'static str> {
        use clientele_domain::customer::{customer_editable, CustomerField as F};
        let given = [
            (F::Name, self.name.is_undefined()),
            (F::Email, self.email.is_undefined()),
            (F::GivenName, self.given_name.is_undefined()),
            (F::FamilyName, self.family_name.is_undefined()),
            (F::Organization, self.organization.is_undefined()),
            (F::Shortname, self.shortname.is_undefined()),
            (F::Type, self.customer_type.is_undefined()),
            (F::ServiceStatus, self.service_status.is_undefined()),
            (
                F::ContractualFlowsPerSecond,
                self.contractual_flows_per_second.is_undefined(),
            ),
            (F::MultiAccount, self.multi_account.is_undefined()),
            (F::Internal, self.internal.is_undefined()),
            (F::TestAccount, self.test_account.is_undefined()),
            (
                F::DataRetentionDays,
                self.data_retention_days.is_undefined(),
            ),
            (
                F::RollupRetentionDays,
                self.rollup_retention_days.is_undefined(),
            ),
            (F::Language, self.language.is_undefined()),
            (F::Seller, self.seller.is_undefined()),
            (F::CustomId, self.custom_id.is_undefined()),
            (F::Title, self.title.is_undefined()),
            (F::Country, self.country.is_undefined()),
            (F::City, self.city.is_undefined()),
            (F::Address, self.address.is_undefined()),
            (F::Phone, self.phone.is_undefined()),
            (F::State, self.state.is_undefined()),
            (F::Zip, self.zip.is_undefined()),
            (F::Address2, self.address2.is_undefined()),
        ];
        given
            .into_iter()
            .filter(|(field, left_out)| !left_out && !customer_editable(*field))
            .map(|(field, _)| field.input_name())
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
            state: change(i.state),
            zip: change(i.zip),
            address2: change(i.address2),
        }
    }
}

/// The account type, chosen on the creation form.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::CustomerType")]
pub enum CustomerType {
    /// SLG account.
    Slg,
    /// MSSP (managed security service provider) account.
    Mssp,
}

/// The commercial status, chosen on the creation form.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::ServiceStatus")]
pub enum ServiceStatus {
    /// A paying customer.
    Active,
    /// On trial: no product of the customer may be ACTIVE.
    TrialActive,
}

/// A customer field, named as the input names it, for the tenant's required-fields setting.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::CustomerField")]
pub enum CustomerField {
    /// The customer's name (always required).
    Name,
    /// The contact email.
    Email,
    /// The contact's given name.
    GivenName,
    /// The contact's family name.
    FamilyName,
    /// The company name.
    Organization,
    /// The short name.
    Shortname,
    /// The account type.
    Type,
    /// The commercial status.
    ServiceStatus,
    /// The contracted flows per second.
    ContractualFlowsPerSecond,
    /// The multi-account flag.
    MultiAccount,
    /// The internal flag.
    Internal,
    /// The test-account flag.
    TestAccount,
    /// The data retention period.
    DataRetentionDays,
    /// The rollup retention period.
    RollupRetentionDays,
    /// The customer's language.
    Language,
    /// The seller.
    Seller,
    /// The tenant's own reference.
    CustomId,
    /// The contact's title.
    Title,
    /// The country.
    Country,
    /// The city.
    City,
    /// The postal address.
    Address,
    /// The phone number.
    Phone,
    /// The state, province or region.
    State,
    /// The postal (zip) code.
    Zip,
    /// The postal address's second line.
    #[graphql(name = "ADDRESS2")]
    Address2,
}
