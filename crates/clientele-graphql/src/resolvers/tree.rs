//! The customer tree: moving a customer under another, and the check of a parent the
//! caller names (also when creating an inner customer).

use async_graphql::{Context, Object, ID};
use clientele_domain::customer::{CustomerCommand, ParentFacts};
use clientele_domain::Rule;

use super::shared::{customer_command, parts, try_customer_command};
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::types::customer::Customer;
use crate::types::dry_run::{AffectedIds, MovePreview, PREVIEW_IDS};

/// A parent the caller names: BAD_USER_INPUT (`parentId`, UNKNOWN_CUSTOMER) unless it is a
/// customer the caller may see. The store checks again, in the command's transaction.
pub(crate) async fn visible_parent(ctx: &Context<'_>, id: &str) -> ApiResult<()> {
    match guard::visible_customer(ctx, id).await? {
        Some(record) if record.account_status != clientele_domain::AccountStatus::Deleted => Ok(()),
        _ => Err(ApiError::argument(
            "parentId",
            Rule::UnknownCustomer,
            format!("{id} is not a live customer of this tenant that you may see"),
        )),
    }
}

#[derive(Default)]
pub struct TreeMutation;

#[Object]
impl TreeMutation {
    /// Puts a customer under another (`parentId`), or at the top (`parentId: null`). A
    /// customer cannot go under itself or one of its own inner customers (rule CYCLE), and a
    /// tree has at most 50 levels, counting the inner customers that move with it (rule
    /// LIMIT on `parentId`).
    /// With `dryRun`, every check runs (the same errors), nothing is written, and the
    /// customer comes back as it is with `movePreview`: what the move would do.
    async fn move_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer to move.")] id: ID,
        #[graphql(
            desc = "The new parent, a customer the caller may see; null puts it at the top."
        )]
        parent_id: Option<ID>,
        #[graphql(
            default,
            desc = "Only check: write nothing, and answer the customer as it is with `movePreview` (where it would go, the inner customers that would move with it)."
        )]
        dry_run: bool,
    ) -> ApiResult<Customer> {
        let record = guard::customer_for(ctx, &id, needs!(Mutation, "moveCustomer")).await?;
        if let Some(parent) = &parent_id {
            visible_parent(ctx, parent).await?;
        }
        let command = CustomerCommand::MoveCustomer {
            id: id.to_string(),
            parent: parent_id
                .clone()
                .map(|p| ParentFacts::unchecked(p.to_string())),
            // The store counts the levels below the customer in the command's transaction.
            height: 0,
        };
        if !dry_run {
            return customer_command(ctx, &id, command).await;
        }
        let outcome = try_customer_command(ctx, &id, command, "", true).await?;
        let (me, store, _) = parts(ctx);
        let inner = store.count_descendants(&record).await?;
        let (first, _) = store.descendants(&record, PREVIEW_IDS, None).await?;
        let preview = MovePreview {
            from_parent_id: record.parent_id.clone().map(ID),
            to_parent_id: parent_id,
            changed: !outcome.events.is_empty(),
            inner_customers: AffectedIds {
                count: inner as i32,
                ids: first
                    .iter()
                    .filter(|r| guard::can_see(me, r))
                    .map(|r| ID(r.id.clone()))
                    .collect(),
            },
            events: outcome.events.len() as i32,
        };
        Ok(Customer::from(record).with_move_preview(preview))
    }
}
