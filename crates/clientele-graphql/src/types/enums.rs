//! GraphQL enums, each mirroring a domain or store enum.

use async_graphql::Enum;

/// Seed 000's account type.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::CustomerType")]
pub enum CustomerType {
    Slg,
    Mssp,
}

/// Seed 000's commercial status, chosen on the creation form.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::ServiceStatus")]
pub enum ServiceStatus {
    Active,
    TrialActive,
}

/// Where an account stands (seed 001); derived from its products, never edited.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::AccountStatus")]
pub enum AccountStatus {
    Preparation,
    Trial,
    Active,
    TrialEnd,
    Deleted,
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

/// The status of one product of a customer (seed 001).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::ProductStatus")]
pub enum ProductStatus {
    New,
    Trial,
    Active,
    Paused,
    TrialEnd,
    Deleted,
}

/// Where a customer's visibility of a product comes from.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
pub enum VisibilitySource {
    /// The tenant's global setting (`setGlobalProductVisibility`).
    Global,
    /// The customer's own setting (`setProductVisibility`), which global changes never touch.
    Customer,
}
