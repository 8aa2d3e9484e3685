//! Bulk mutations: what resellers do to many customers at once (edit the same fields, set
//! a product's visibility, ask for deletion). Each id is its own command, in its own
//! transaction, with its own events: one refused id does not stop the others, and each
//! gets the answer the single mutation would give.
//!
//! The ids are run one after another, in order. SQLite has one writer, so running them
//! side by side would only queue them; on PostgreSQL deletion requests take the tenant's
//! tree lock and queue as well, and a bulk call holding several pooled connections at once
//! would starve the other requests of the pool. In order, a call costs one short
//! transaction per id, and the results come back in the order of the ids by construction.

use std::collections::HashSet;

use async_graphql::{Context, Object, ID};
use clientele_domain::Rule;

use super::deletion::request_command;
use super::products::visibility_command;
use super::profile::edit_command;
use super::shared::{free_text, try_customer_command};
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::types::bulk::BulkResult;
use crate::types::profile::EditCustomerInput;

/// Most ids one bulk mutation takes.
pub const MAX_BULK_IDS: usize = 1_000;

#[derive(Default)]
pub struct BulkMutation;

#[Object]
impl BulkMutation {
    /// Changes the same fields of many customers, each as `editCustomer` would (without a
    /// version check): one result per id, in the order of the ids. With `dryRun`, every
    /// check runs and nothing is written; each id is checked against today's state, not
    /// against the other ids' changes (two ids given the same shortname both pass a dry
    /// run; for real, the second is a CONFLICT).
    async fn bulk_edit_customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "1 to 1,000 customer ids, each once; more, none or a repeat is BAD_USER_INPUT (field `ids`) and nothing runs."
        )]
        ids: Vec<ID>,
        #[graphql(desc = "The fields to change on each; left out stays, null clears.")]
        input: EditCustomerInput,
        #[graphql(default, desc = "Only check: write nothing and say what would happen.")]
        dry_run: bool,
    ) -> ApiResult<Vec<BulkResult>> {
        let needed = needs!(Mutation, "bulkEditCustomers");
        guard::require(ctx, needed)?;
        check_ids(&ids)?;
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            let outcome = async {
                let command = edit_command(ctx, needed, &id, None, input.clone()).await?;
                try_customer_command(ctx, &id, command, "input.", dry_run).await
            }
            .await;
            results.push(BulkResult::of(id, outcome));
        }
        Ok(results)
    }

    /// Sets many customers' own visibility of a product, each as `setProductVisibility`
    /// would: one result per id, in the order of the ids. With `dryRun`, every check runs
    /// and nothing is written.
    async fn bulk_set_product_visibility(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "1 to 1,000 customer ids, each once; more, none or a repeat is BAD_USER_INPUT (field `ids`) and nothing runs."
        )]
        ids: Vec<ID>,
        #[graphql(desc = "The product's key.")] product: String,
        #[graphql(desc = "Whether these customers see it.")] visible: bool,
        #[graphql(default, desc = "Only check: write nothing and say what would happen.")]
        dry_run: bool,
    ) -> ApiResult<Vec<BulkResult>> {
        let needed = needs!(Mutation, "bulkSetProductVisibility");
        guard::require(ctx, needed)?;
        check_ids(&ids)?;
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            let outcome = async {
                let command = visibility_command(ctx, needed, &id, product.clone(), visible);
                try_customer_command(ctx, &id, command.await?, "", dry_run).await
            }
            .await;
            results.push(BulkResult::of(id, outcome));
        }
        Ok(results)
    }

    /// Asks for the deletion of many customers, each as `requestDeletion` would (its
    /// products in use stopped, deleted when the grace period has passed unless
    /// cancelled): one result per id, in the order of the ids. With `dryRun`, every check
    /// runs and nothing is written.
    async fn bulk_request_deletion(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "1 to 1,000 customer ids, each once; more, none or a repeat is BAD_USER_INPUT (field `ids`) and nothing runs."
        )]
        ids: Vec<ID>,
        #[graphql(desc = "Why, at most 1000 characters; optional; the same for every id.")]
        reason: Option<String>,
        #[graphql(
            default,
            desc = "Whether each customer's inner customers are deleted with it when it falls due. A customer with inner customers is refused without it (CONFLICT)."
        )]
        delete_inner_customers: bool,
        #[graphql(default, desc = "Only check: write nothing and say what would happen.")]
        dry_run: bool,
    ) -> ApiResult<Vec<BulkResult>> {
        let needed = needs!(Mutation, "bulkRequestDeletion");
        guard::require(ctx, needed)?;
        check_ids(&ids)?;
        // The reason is the same for every id: refused once, before anything runs.
        let reason = free_text("reason", reason, false)?;
        let inner = delete_inner_customers;
        let mut results = Vec::with_capacity(ids.len());
        for id in ids {
            let outcome = async {
                let command = request_command(ctx, needed, &id, reason.clone(), inner).await?;
                try_customer_command(ctx, &id, command, "", dry_run).await
            }
            .await;
            results.push(BulkResult::of(id, outcome));
        }
        Ok(results)
    }
}

/// BAD_USER_INPUT (field `ids`) unless there are 1 to `MAX_BULK_IDS` ids, none repeated
/// (ids differing only in letter case are one UUID, a repeat).
fn check_ids(ids: &[ID]) -> ApiResult<()> {
    if ids.is_empty() || ids.len() > MAX_BULK_IDS {
        return Err(ApiError::argument(
            "ids",
            Rule::Range,
            format!(
                "ids holds {} ids; give 1 to {MAX_BULK_IDS} a call",
                ids.len()
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        if !seen.insert(id.to_ascii_lowercase()) {
            return Err(ApiError::argument(
                "ids",
                Rule::Duplicate,
                format!("ids.{i} repeats an earlier id: give each customer once"),
            ));
        }
    }
    Ok(())
}
