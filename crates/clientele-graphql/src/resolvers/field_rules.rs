//! `customerFieldRules`: every customer field's rules, for this tenant and this caller.

use async_graphql::{Context, Object};
use clientele_domain::customer::field_rules;

use super::shared::parts;
use crate::error::ApiResult;
use crate::guard::{self, needs};
use crate::types::field_rules::CustomerFieldRule;

#[derive(Default)]
pub struct FieldRulesQuery;

#[Object]
impl FieldRulesQuery {
    /// The rules of every customer field, in the order of the creation form: whether this
    /// tenant requires it, its length limits, allowed values and format, and whether the
    /// caller's role may change it. The same table the commands check against, so a value
    /// that passes these rules is refused only for uniqueness. For every role.
    async fn customer_field_rules(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerFieldRule>> {
        let me = guard::require(ctx, needs!(Query, "customerFieldRules"))?;
        let (_, store, _) = parts(ctx);
        let required = store.required_customer_fields(&me.tenant).await?;
        Ok(field_rules()
            .into_iter()
            .map(|rule| {
                let (editable, required) = (
                    guard::may_edit_field(me.role, rule.field),
                    required.contains(&rule.field),
                );
                CustomerFieldRule::of(rule, required, editable)
            })
            .collect())
    }
}
