//! The tenant's public customer, as ThingsBoard has it: a dashboard, device or asset is made
//! public by assigning it to this one customer. It comes to be on first use, exactly once
//! however many calls race: its id is derived from the tenant, and the event store admits
//! one creation per aggregate (a racing call finds it made and goes on).

use async_graphql::{Context, Object, ID};
use clientele_domain::assignment::EntityKind as Kind;
use clientele_domain::customer::{Customer as CustomerAggregate, CustomerCommand, CustomerError};
use clientele_domain::Rule;
use clientele_store::CommandError;

use super::shared::parts;
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::types::assignments::{Assignment, EntityKind};
use crate::types::customer::Customer;

/// The public customer's id: the same on every instance, different in every tenant.
pub fn public_customer_id(tenant: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("clientele:public-customer:{tenant}").as_bytes(),
    )
    .to_string()
}

/// The public customer's id, registering it first if the tenant has none yet.
async fn ensure_public_customer(ctx: &Context<'_>) -> ApiResult<String> {
    let (me, store, clock) = parts(ctx);
    let id = public_customer_id(&me.tenant);
    if store.customer(&me.tenant, &id).await?.is_some() {
        return Ok(id);
    }
    // "public", unless a customer already holds it; the last name is unique to this
    // tenant's public customer id, so some name is always free.
    for name in [
        "public".to_string(),
        "public-customer".to_string(),
        format!("public-customer-{}", &id[..8]),
    ] {
        let command = CustomerCommand::RegisterPublicCustomer {
            tenant: me.tenant.clone(),
            name,
        };
        match store
            .execute::<CustomerAggregate>(&id, command, &me.metadata(clock.now()))
            .await
        {
            Ok(_)
            | Err(CommandError::Rejected(
                CustomerError::AlreadyExists | CustomerError::PublicCustomer,
            )) => return Ok(id),
            Err(CommandError::Duplicate { .. }) => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(ApiError::Conflict {
        message: "every name the public customer may take is held by another customer".into(),
        field: None,
        current_version: None,
    })
}

#[derive(Default)]
pub struct PublicMutation;

#[Object]
impl PublicMutation {
    /// Makes a dashboard, device or asset public: assigns it to the tenant's public
    /// customer (`publicCustomer`), which is created on first use, once. A device or asset
    /// leaves the customer it had (the event names both); a dashboard keeps its other
    /// customers. To make it private again, unassign it: `unassignDevice`, `unassignAsset`,
    /// or `unassignDashboard(customerId: <publicCustomer.id>)`. EDGE is BAD_USER_INPUT
    /// (rule ALLOWED_VALUES on `kind`).
    async fn make_public(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "DASHBOARD, DEVICE or ASSET.")] kind: EntityKind,
        #[graphql(desc = "The entity's id (a UUID).")] entity_id: ID,
    ) -> ApiResult<Assignment> {
        guard::require(ctx, needs!(Mutation, "makePublic"))?;
        let kind = Kind::from(kind);
        if kind == Kind::Edge {
            return Err(ApiError::argument(
                "kind",
                Rule::AllowedValues,
                "an edge cannot be made public; DASHBOARD, DEVICE and ASSET can",
            ));
        }
        super::assignments::entity(kind, &entity_id)?;
        let public = ensure_public_customer(ctx).await?;
        let (me, store, clock) = parts(ctx);
        let written = store
            .assign(kind, &public, &entity_id, &me.metadata(clock.now()))
            .await?;
        Ok(Assignment {
            kind: kind.into(),
            entity_id,
            customer_id: Some(ID(public)),
            changed: written > 0,
        })
    }
}

#[derive(Default)]
pub struct PublicQuery;

#[Object]
impl PublicQuery {
    /// The tenant's public customer, which holds what is made public (`makePublic`): null
    /// until something is made public for the first time, and for callers bound to a
    /// customer (it is outside their reach). Listed among the customers with
    /// `isPublic: true`; nobody may modify or delete it (FORBIDDEN).
    async fn public_customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        guard::require(ctx, needs!(Query, "publicCustomer"))?;
        let (me, _, _) = parts(ctx);
        let id = public_customer_id(&me.tenant);
        Ok(guard::visible_customer(ctx, &id).await?.map(Into::into))
    }
}
