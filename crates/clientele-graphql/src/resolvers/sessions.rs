//! Taking access back: `revokeSessions` ends every session of one subject issued before
//! now. The other ends of sessions come with their features (`endImpersonation`,
//! disabling or removing a user, deleting a customer); all are events, and the store's
//! revocation set refuses their tokens on every instance (see `clientele_domain::session`).

use async_graphql::{Context, Object};
use chrono::{DateTime, Utc};
use clientele_domain::tenant::{Tenant, TenantCommand};

use super::shared::parts;
use crate::error::ApiResult;
use crate::guard::{self, needs};

#[derive(Default)]
pub struct SessionsMutation;

#[Object]
impl SessionsMutation {
    /// Ends every session of `subject` (a token's `sub`) in this tenant whose token was
    /// issued before now, on every instance: those tokens get UNAUTHENTICATED and their
    /// open subscriptions are closed (4403). Tokens issued later work. `iat` counts whole
    /// seconds, so a token issued in the same second as the revocation is refused too.
    /// Under impersonation, the real actor's subject is checked as well. Answers the
    /// instant before which the subject's tokens are refused.
    async fn revoke_sessions(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The subject (a token's `sub`) whose sessions end.")] subject: String,
    ) -> ApiResult<DateTime<Utc>> {
        guard::require(ctx, needs!(Mutation, "revokeSessions"))?;
        let (me, store, clock) = parts(ctx);
        let metadata = me.metadata(clock.now());
        let command = TenantCommand::RevokeSessions { subject };
        store
            .execute::<Tenant>(&me.tenant, command, &metadata)
            .await?;
        Ok(metadata.occurred_at)
    }
}
