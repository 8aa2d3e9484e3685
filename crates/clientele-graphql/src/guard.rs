//! Who may see and do what. Every resolver goes through these.

use async_graphql::Context;
use clientele_store::{CustomerRecord, Store};

use crate::auth::Role;
use crate::context::RequestContext;
use crate::error::{ApiError, ApiResult};

/// Roles that read everything in their tenant.
pub const TENANT_READERS: &[Role] = &[Role::TenantAdmin, Role::Reseller, Role::Auditor];
/// Roles that change the tenant's settings and catalogue.
pub const TENANT_ADMINS: &[Role] = &[Role::TenantAdmin, Role::Reseller];
/// Roles that create customers (seed 001: never a customer itself).
pub const CREATORS: &[Role] = &[Role::TenantAdmin, Role::Reseller, Role::Seller];
/// Roles that manage a customer they can see (products, deletion requests).
pub const MANAGERS: &[Role] = &[Role::TenantAdmin, Role::Reseller, Role::Seller];

/// The signed-in principal. The HTTP layer never runs an operation without one.
pub fn principal<'a>(ctx: &Context<'a>) -> &'a RequestContext {
    ctx.data_unchecked::<RequestContext>()
}

/// FORBIDDEN unless the principal has one of `roles`.
pub fn require<'a>(ctx: &Context<'a>, roles: &[Role]) -> ApiResult<&'a RequestContext> {
    let me = principal(ctx);
    if roles.contains(&me.role) {
        Ok(me)
    } else {
        Err(ApiError::Forbidden(format!("the {} role may not do this", me.role.as_str())).into())
    }
}

/// Whether the principal may see this customer of its tenant.
pub fn can_see(me: &RequestContext, record: &CustomerRecord) -> bool {
    if record.tenant != me.tenant {
        return false;
    }
    match me.role {
        Role::TenantAdmin | Role::Reseller | Role::Auditor => true,
        Role::Seller => record.profile.seller.as_deref() == Some(me.subject.as_str()),
        // A customer-bound principal sees its customer and the customers below it (seed
        // 003's inner customers), nothing above or beside.
        Role::CustomerAdmin | Role::CustomerUser => match me.customer.as_deref() {
            Some(mine) => record.id == mine || record.is_under(mine),
            None => false,
        },
    }
}

/// The customer if the principal may see it; `None` otherwise (indistinguishable from
/// a customer that does not exist, so ids of other tenants reveal nothing).
pub async fn visible_customer(ctx: &Context<'_>, id: &str) -> ApiResult<Option<CustomerRecord>> {
    let me = principal(ctx);
    let store = ctx.data_unchecked::<Store>();
    let record = store
        .customer(&me.tenant, id)
        .await
        .map_err(ApiError::from)?;
    Ok(record.filter(|r| can_see(me, r)))
}

/// The customer for a read that needs it: NOT_FOUND when invisible, FORBIDDEN when the
/// role may see it but not read this.
pub async fn readable_customer(
    ctx: &Context<'_>,
    id: &str,
    roles: &[Role],
) -> ApiResult<CustomerRecord> {
    let record = visible_customer(ctx, id)
        .await?
        .ok_or_else(|| ApiError::NotFound("no customer with this id".into()))?;
    require(ctx, roles)?;
    Ok(record)
}

/// The customer for a command: NOT_FOUND when invisible, FORBIDDEN when the role may not
/// change it this way.
pub async fn writable_customer(
    ctx: &Context<'_>,
    id: &str,
    roles: &[Role],
) -> ApiResult<CustomerRecord> {
    readable_customer(ctx, id, roles).await
}
