//! `viewer`: who the caller is and what it may do, from the token and the access table.

use async_graphql::{Context, Object, ID};
use clientele_domain::customer::ALL_FIELDS;

use crate::error::ApiResult;
use crate::guard::{self, needs, Root};
use crate::types::viewer::{Viewer, ViewerImpersonation};

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The caller: subject, role, tenant, customer, impersonation, and which queries,
    /// mutations and subscriptions its role may run and which customer fields it may edit,
    /// from the access table the resolvers ask (guard::OPERATIONS). For every role.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Viewer> {
        let me = guard::require(ctx, needs!(Query, "viewer"))?;
        let names = |root: Root| -> Vec<String> {
            guard::allowed_operations(me)
                .filter(|op| op.root == root)
                .map(|op| op.name.to_string())
                .collect()
        };
        let impersonation = me.impersonator.as_ref().map(|imp| ViewerImpersonation {
            actor: imp.sub.clone(),
            actor_role: imp.role.into(),
            customer_id: ID(me.customer.clone().unwrap_or_default()),
            expires_at: me.expires_at,
        });
        Ok(Viewer {
            subject: me.subject.clone(),
            role: me.role.into(),
            tenant: me.tenant.clone(),
            customer_id: me.customer.clone().map(ID),
            impersonation,
            expires_at: me.expires_at,
            queries: names(Root::Query),
            mutations: names(Root::Mutation),
            subscriptions: names(Root::Subscription),
            editable_customer_fields: ALL_FIELDS
                .into_iter()
                .filter(|field| guard::may_edit_field(me.role, *field))
                .map(Into::into)
                .collect(),
        })
    }
}
