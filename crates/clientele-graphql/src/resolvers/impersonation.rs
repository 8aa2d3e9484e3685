//! Impersonation: staff log in as a customer's admin user (`loginAs`) for a short while,
//! and the token ends itself (`endImpersonation`). Both are events in the customer's history.

use std::sync::Arc;

use async_graphql::{Context, Object, ID};
use clientele_domain::customer::CustomerCommand;
use clientele_domain::session::impersonation_subject;

use super::shared::{customer_command, free_text};
use crate::auth::{Authenticator, Grant, Impersonator, Role};
use crate::context::Clock;
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::types::impersonation::Impersonation;

/// How long an impersonation token lives.
#[derive(Clone, Copy)]
pub struct ImpersonationTtl(pub chrono::Duration);

#[derive(Default)]
pub struct ImpersonationMutation;

#[Object]
impl ImpersonationMutation {
    /// Logs in as the customer's admin user: returns a short-lived token that acts as the
    /// customer. Every action taken with it records the real actor and the customer, and
    /// starting it is an event in the customer's history. TENANT_ADMIN and RESELLER for any
    /// customer, SELLER for its own; never from an impersonation token.
    async fn login_as(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer to act as.")] customer_id: ID,
        #[graphql(desc = "Why, 1 to 1000 characters; recorded in the customer's history.")] reason: String,
    ) -> ApiResult<Impersonation> {
        let me = guard::principal(ctx);
        if me.impersonator.is_some() {
            return Err(ApiError::Forbidden(
                "an impersonation token cannot start another impersonation".into(),
            ));
        }
        guard::customer_for(ctx, &customer_id, needs!(Mutation, "loginAs")).await?;
        let reason = free_text("reason", Some(reason), true)?.unwrap_or_default();
        let auth = ctx.data_unchecked::<Arc<Authenticator>>();
        let clock = ctx.data_unchecked::<Clock>();
        let ttl = ctx.data_unchecked::<ImpersonationTtl>().0;
        let imp = Impersonator {
            sub: me.subject.clone(),
            role: me.role,
        };
        let grant = Grant {
            sub: impersonation_subject(customer_id.as_str()),
            tenant: me.tenant.clone(),
            role: Role::CustomerAdmin,
            customer: Some(customer_id.to_string()),
            imp: Some(imp),
            // The impersonation is one session: `endImpersonation` ends it by this id.
            sid: Some(uuid::Uuid::new_v4().to_string()),
        };
        let minted = auth.mint(grant, clock.now(), ttl);
        let (token, expires_at) = minted.map_err(|e| ApiError::Forbidden(e.to_string()))?;
        let command = CustomerCommand::StartImpersonation {
            by: me.subject.clone(),
            role: me.role.as_str().to_string(),
            reason,
            expires_at,
        };
        customer_command(ctx, &customer_id, command).await?;
        Ok(Impersonation { token, expires_at })
    }

    /// Ends the impersonation this token belongs to, for good: from then on the token is
    /// refused (UNAUTHENTICATED) on every instance, and an open subscription made with it
    /// is closed. Recorded in the customer's history; a second end is refused (CONFLICT).
    async fn end_impersonation(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        // Ability::EndImpersonation: held by no role, only by the impersonation token.
        let (imp, customer) = guard::impersonation(ctx)?;
        let me = guard::principal(ctx);
        let command = CustomerCommand::EndImpersonation {
            by: imp.sub.clone(),
            session: me.session.clone(),
            expires_at: me.expires_at,
            now: ctx.data_unchecked::<Clock>().now(),
        };
        customer_command(ctx, customer, command).await?;
        Ok(true)
    }
}
