//! Who may see and do what: the whole access model on one screen.
//!
//! `OPERATIONS` gives every query, mutation and subscription the ability it needs;
//! `Ability::roles` says which roles hold each ability; `reach` says which customers each
//! role sees. Resolvers ask the table by operation name (`needs!`), so a row decides what
//! its operation lets through, and the isolation test reads the same rows.

use async_graphql::Context;
use clientele_store::{CustomerRecord, Store};

use crate::auth::{Impersonator, Role};
use crate::context::RequestContext;
use crate::error::{ApiError, ApiResult};

/// What a principal may do. Each ability is held by the roles `roles` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ability {
    /// Read the customers it can see, with their products and account status, and the
    /// tenant's catalogue and required fields.
    Read,
    /// Read a customer's history, its live events, its deletion requests and its users.
    ReadHistory,
    /// Read a customer's past: its state at an instant, its whole history as NDJSON; and
    /// the status counts of the customers it can see (a SELLER: its own).
    Audit,
    /// Read the whole tenant at once: the CSV export, the tenant's history.
    ReadTenant,
    /// Create customers (one by one or by import), and manage the customers it can see:
    /// products, cancelling a deletion request, the place in the tree, logging in as them
    /// (never from an impersonation token). A seller creates customers for itself only.
    ManageCustomers,
    /// Edit a customer, manage its users, ask for its deletion. A customer admin changes
    /// only its customer's customer-editable fields; a seller never hands a customer on.
    EditCustomer,
    /// Change the tenant: required fields, catalogue, deletion grace period; delete
    /// customers; assign devices, assets, edges and dashboards, and the home dashboard;
    /// end every session of a subject (`revokeSessions`).
    AdministerTenant,
    /// Register and manage the tenant's webhook endpoints (their secrets, delivery log and
    /// redelivery).
    AdministerWebhooks,
    /// End an impersonation. No role holds it: only an impersonation token, for itself.
    EndImpersonation,
    /// Activate a user, set a password with a link, sign in, refresh, sign out, ask for a
    /// reset. No role holds it and no bearer token is needed: the credential (a one-time
    /// token, a password, a refresh token) is in the arguments.
    ActivateUser,
}

impl Ability {
    /// The roles that hold this ability.
    #[rustfmt::skip]
    pub const fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Ability::Read             => &[TenantAdmin, Reseller, Seller, Auditor, CustomerAdmin, CustomerUser],
            Ability::ReadHistory      => &[TenantAdmin, Reseller, Seller, Auditor, CustomerAdmin],
            Ability::Audit            => &[TenantAdmin, Reseller, Seller, Auditor],
            Ability::ReadTenant       => &[TenantAdmin, Reseller,         Auditor],
            Ability::ManageCustomers  => &[TenantAdmin, Reseller, Seller],
            Ability::EditCustomer     => &[TenantAdmin, Reseller, Seller,          CustomerAdmin],
            Ability::AdministerTenant => &[TenantAdmin, Reseller],
            Ability::AdministerWebhooks => &[TenantAdmin],
            Ability::EndImpersonation => &[],
            Ability::ActivateUser     => &[],
        }
    }
}

/// Which of its tenant's customers a role sees. A customer out of reach is NOT_FOUND (or
/// null), never FORBIDDEN, so ids of customers one may not see reveal nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    /// Every customer of the tenant.
    Tenant,
    /// The customers whose seller it is.
    OwnCustomers,
    /// Its customer and the customers below it, nothing above or beside.
    OwnSubtree,
}

/// The customers `role` sees.
pub const fn reach(role: Role) -> Reach {
    match role {
        Role::TenantAdmin | Role::Reseller | Role::Auditor => Reach::Tenant,
        Role::Seller => Reach::OwnCustomers,
        Role::CustomerAdmin | Role::CustomerUser => Reach::OwnSubtree,
    }
}

/// Where a field of the table sits. `customerCountsByStatus` is both a query and a
/// subscription; `Customer` holds the fields of a customer that need more than `Read`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Root {
    Query,
    Mutation,
    Subscription,
    Customer,
}

/// One row of the table: an operation and the ability it needs.
#[derive(Clone, Copy, Debug)]
pub struct Operation {
    pub root: Root,
    pub name: &'static str,
    pub ability: Ability,
}

const fn row(root: Root, name: &'static str, ability: Ability) -> Operation {
    Operation {
        root,
        name,
        ability,
    }
}

/// Every operation of the schema and the ability it needs. On a customer, an operation
/// first asks whether the principal can see it (`reach`), then whether it has the ability.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = {
    use Ability::*;
    use Root::{Customer, Mutation, Query, Subscription};
    &[
        row(Query,        "customer",                   Read),
        row(Query,        "customers",                  Read),
        row(Query,        "sellers",                    Read),
        row(Query,        "requiredCustomerFields",     Read),
        row(Query,        "customerFieldRules",         Read),
        row(Query,        "viewer",                     Read),
        row(Query,        "node",                       Read),
        row(Query,        "nodes",                      Read),
        row(Query,        "entityOwner",                Read),
        row(Query,        "dashboardCustomers",         Read),
        row(Query,        "publicCustomer",             Read),
        row(Query,        "products",                   Read),
        row(Query,        "accountStatusHistory",       Read),
        row(Query,        "customerCountsByStatus",     Audit),
        row(Query,        "deletionRequests",           ReadHistory),
        row(Query,        "deletionNotices",            ReadTenant),
        row(Query,        "deletionGracePeriod",        ReadHistory),
        row(Query,        "customerHistory",            ReadHistory),
        row(Query,        "customerAsOf",               Audit),
        // Of one customer; without `customerId`, of the whole tenant: ReadTenant.
        row(Query,        "historyExport",              Audit),
        row(Query,        "exportCustomers",            ReadTenant),
        row(Mutation,     "createCustomer",             ManageCustomers),
        row(Mutation,     "importCustomers",            ManageCustomers),
        row(Mutation,     "editCustomer",               EditCustomer),
        row(Mutation,     "bulkEditCustomers",          EditCustomer),
        row(Mutation,     "setRequiredCustomerFields",  AdministerTenant),
        row(Mutation,     "addProduct",                 AdministerTenant),
        row(Mutation,     "setGlobalProductVisibility", AdministerTenant),
        row(Mutation,     "setProductVisibility",       ManageCustomers),
        row(Mutation,     "bulkSetProductVisibility",   ManageCustomers),
        row(Mutation,     "resetProductVisibility",     ManageCustomers),
        row(Mutation,     "activateProduct",            ManageCustomers),
        row(Mutation,     "setProductStatus",           ManageCustomers),
        row(Mutation,     "requestDeletion",            EditCustomer),
        row(Mutation,     "bulkRequestDeletion",        EditCustomer),
        row(Mutation,     "cancelDeletionRequest",      ManageCustomers),
        row(Mutation,     "deleteCustomer",             AdministerTenant),
        row(Mutation,     "setDeletionGracePeriod",     AdministerTenant),
        row(Mutation,     "setDeletionNotices",         AdministerTenant),
        row(Mutation,     "loginAs",                    ManageCustomers),
        row(Mutation,     "endImpersonation",           EndImpersonation),
        row(Mutation,     "revokeSessions",             AdministerTenant),
        row(Mutation,     "addCustomerUser",            EditCustomer),
        row(Mutation,     "editCustomerUser",           EditCustomer),
        row(Mutation,     "disableCustomerUser",        EditCustomer),
        row(Mutation,     "enableCustomerUser",         EditCustomer),
        row(Mutation,     "removeCustomerUser",         EditCustomer),
        row(Mutation,     "reissueActivation",          EditCustomer),
        row(Mutation,     "activateCustomerUser",       ActivateUser),
        row(Mutation,     "setPassword",                ActivateUser),
        row(Mutation,     "signIn",                     ActivateUser),
        row(Mutation,     "refreshSession",             ActivateUser),
        row(Mutation,     "signOut",                    ActivateUser),
        row(Mutation,     "requestPasswordReset",       ActivateUser),
        row(Mutation,     "moveCustomer",               ManageCustomers),
        row(Mutation,     "setHomeDashboard",           AdministerTenant),
        row(Mutation,     "assignDevice",               AdministerTenant),
        row(Mutation,     "assignDevices",              AdministerTenant),
        row(Mutation,     "assignAssets",               AdministerTenant),
        row(Mutation,     "assignEdges",                AdministerTenant),
        row(Mutation,     "unassignDevice",             AdministerTenant),
        row(Mutation,     "assignAsset",                AdministerTenant),
        row(Mutation,     "unassignAsset",              AdministerTenant),
        row(Mutation,     "assignEdge",                 AdministerTenant),
        row(Mutation,     "unassignEdge",               AdministerTenant),
        row(Mutation,     "assignDashboard",            AdministerTenant),
        row(Mutation,     "unassignDashboard",          AdministerTenant),
        row(Mutation,     "makePublic",                 AdministerTenant),
        row(Query,        "webhookEndpoints",           AdministerWebhooks),
        row(Query,        "webhookEndpoint",            AdministerWebhooks),
        row(Mutation,     "registerWebhookEndpoint",    AdministerWebhooks),
        row(Mutation,     "updateWebhookEndpoint",      AdministerWebhooks),
        row(Mutation,     "disableWebhookEndpoint",     AdministerWebhooks),
        row(Mutation,     "enableWebhookEndpoint",      AdministerWebhooks),
        row(Mutation,     "deleteWebhookEndpoint",      AdministerWebhooks),
        row(Mutation,     "rotateWebhookSecret",        AdministerWebhooks),
        row(Mutation,     "redeliverWebhooks",          AdministerWebhooks),
        row(Subscription, "customerEvents",             ReadHistory),
        row(Subscription, "accountStatusChanged",       Read),
        row(Subscription, "customerCountsByStatus",     Audit),
        // Every other field of a customer is Read: whoever sees the customer.
        row(Customer,     "users",                      ReadHistory),
    ]
};

/// The ability the table gives an operation, if it has a row.
pub const fn lookup(root: Root, name: &str) -> Option<Ability> {
    let mut i = 0;
    while i < OPERATIONS.len() {
        let op = &OPERATIONS[i];
        if op.root as u8 == root as u8 && same(op.name, name) {
            return Some(op.ability);
        }
        i += 1;
    }
    None
}

/// Whether `role` may run the operation at all (a customer it cannot see stays out of reach).
pub fn may(role: Role, root: Root, name: &str) -> bool {
    lookup(root, name).is_some_and(|ability| ability.roles().contains(&role))
}

/// Whether `role` may change `field` with `editCustomer`: it may edit customers, and a
/// customer's own admin only the fields the domain's rule table leaves to the customer.
pub fn may_edit_field(role: Role, field: clientele_domain::customer::CustomerField) -> bool {
    may(role, Root::Mutation, "editCustomer")
        && (role != Role::CustomerAdmin || clientele_domain::customer::customer_editable(field))
}

/// The operations `me` may run: those its role's abilities allow, those that need no
/// bearer token (`ActivateUser`), and under impersonation `endImpersonation` but not
/// `loginAs` (resolvers/impersonation.rs refuses an impersonation token that one).
/// `Root::Customer` rows are fields of a customer, not operations, and are left out.
pub fn allowed_operations(me: &RequestContext) -> impl Iterator<Item = &'static Operation> + '_ {
    let impersonating = me.impersonator.is_some();
    OPERATIONS.iter().filter(move |op| {
        op.root != Root::Customer
            && match op.ability {
                Ability::ActivateUser => true,
                Ability::EndImpersonation => impersonating,
                _ if impersonating && op.name == "loginAs" => false,
                ability => ability.roles().contains(&me.role),
            }
    })
}

/// The ability of an operation with a row; used through `needs!`, where a missing row
/// stops the build.
pub const fn ability_of(root: Root, name: &str) -> Ability {
    match lookup(root, name) {
        Some(ability) => ability,
        None => panic!("the operation has no row in guard::OPERATIONS"),
    }
}

const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The ability an operation needs, from its row in `OPERATIONS`, looked up when the crate
/// compiles: `needs!(Mutation, "createCustomer")`.
macro_rules! needs {
    ($root:ident, $name:literal) => {{
        const ABILITY: $crate::guard::Ability =
            $crate::guard::ability_of($crate::guard::Root::$root, $name);
        ABILITY
    }};
}
pub(crate) use needs;

/// The signed-in principal. The HTTP layer never runs an operation without one (except
/// `activateCustomerUser`, which never asks).
pub fn principal<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<RequestContext>()
}

/// FORBIDDEN unless the principal's role holds `ability`.
pub fn require<'a>(ctx: &Context<'a>, ability: Ability) -> ApiResult<&'a RequestContext> {
    let me = principal(ctx);
    if ability.roles().contains(&me.role) {
        Ok(me)
    } else {
        Err(ApiError::Forbidden(format!(
            "the {} role may not do this",
            me.role.as_str()
        )))
    }
}

/// What `EndImpersonation` asks: the impersonation this token is, and its customer.
pub fn impersonation<'a>(ctx: &Context<'a>) -> ApiResult<(&'a Impersonator, &'a str)> {
    let me = principal(ctx);
    match (&me.impersonator, &me.customer) {
        (Some(imp), Some(customer)) => Ok((imp, customer.as_str())),
        _ => Err(ApiError::Forbidden(
            "this token is not an impersonation".into(),
        )),
    }
}

/// Whether the principal can see this customer of its tenant.
pub fn can_see(me: &RequestContext, record: &CustomerRecord) -> bool {
    if record.tenant != me.tenant {
        return false;
    }
    match reach(me.role) {
        Reach::Tenant => true,
        Reach::OwnCustomers => record.profile.seller.as_deref() == Some(me.subject.as_str()),
        Reach::OwnSubtree => match me.customer.as_deref() {
            Some(mine) => record.id == mine || record.is_under(mine),
            None => false,
        },
    }
}

/// The customer if the principal can see it; `None` otherwise (indistinguishable from a
/// customer that does not exist).
pub async fn visible_customer(ctx: &Context<'_>, id: &str) -> ApiResult<Option<CustomerRecord>> {
    // Arguments are parsed at the edge (ids.rs); an id from anywhere else that is not a
    // UUID names no customer either, and never reaches SQL.
    if !crate::ids::is_uuid(id) {
        return Ok(None);
    }
    let me = principal(ctx);
    let store = ctx.data_unchecked::<Store>();
    let record = store.customer(&me.tenant, id).await?;
    Ok(record.filter(|r| can_see(me, r)))
}

/// The customer an operation reads or changes: NOT_FOUND when the principal cannot see
/// it, FORBIDDEN when it can but its role lacks `ability`.
pub async fn customer_for(
    ctx: &Context<'_>,
    id: &str,
    ability: Ability,
) -> ApiResult<CustomerRecord> {
    let record = visible_customer(ctx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no customer with this id".into()))?;
    require(ctx, ability)?;
    Ok(record)
}

#[cfg(test)]
mod tests;
