//! Deletion: requests and their grace period, cancelling one, and deleting now (a whole
//! subtree when asked to).

use async_graphql::{Context, Object, ID};
use clientele_domain::customer::{Confirmation, CustomerCommand};
use clientele_domain::tenant::TenantCommand;
use clientele_domain::Rule;

use clientele_store::DeletionRequestCursor;

use super::shared::{customer_command, free_text, parts, stored, tenant_command, within_reach};
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::types::customer::Customer;
use crate::types::deletion::{DeletionRequestConnection, DeletionRequestFilter};
use crate::types::page::first as first_page;

#[derive(Default)]
pub struct DeletionQuery;

#[Object]
impl DeletionQuery {
    /// The deletion requests of the customers the caller can see, soonest due first, with
    /// how each ended (at most 100 a page, 20 by default). A reseller's home screen asks
    /// `filter: { status: OPEN, dueBefore: <end of the week> }`.
    async fn deletion_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Which requests; omitted: all of them.")] filter: Option<
            DeletionRequestFilter,
        >,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "A cursor from this list (`pageInfo.endCursor`).")] after: Option<String>,
    ) -> ApiResult<DeletionRequestConnection> {
        let needed = needs!(Query, "deletionRequests");
        let filter = filter.unwrap_or_default();
        if let Some(id) = &filter.customer_id {
            // A customer out of reach is NOT_FOUND, as everywhere.
            guard::customer_for(ctx, id, needed).await?;
        }
        let me = guard::require(ctx, needed)?;
        let (_, store, _) = parts(ctx);
        let cursor = after
            .as_deref()
            .map(|c| {
                DeletionRequestCursor::decode(c).ok_or_else(|| {
                    ApiError::argument(
                        "after",
                        Rule::Format,
                        "after is not a cursor this list gave out",
                    )
                })
            })
            .transpose()?;
        let mut customers = clientele_store::CustomerFilter {
            include_deleted: true,
            include_test_accounts: true,
            ..Default::default()
        };
        within_reach(ctx, &mut customers).await?;
        let reached = customers
            != clientele_store::CustomerFilter {
                include_deleted: true,
                include_test_accounts: true,
                ..Default::default()
            };
        let query = clientele_store::DeletionRequestFilter {
            status: filter.status.map(|s| s.as_str().to_string()),
            due_before: filter.due_before,
            customer_id: filter.customer_id.map(|id| id.0),
            customers: reached.then_some(customers),
        };
        let page = store
            .list_deletion_requests(&me.tenant, &query, first_page(first)?, cursor.as_ref())
            .await?;
        Ok(DeletionRequestConnection::new(page, cursor.is_some()))
    }

    /// The days between a deletion request and the automatic deletion: 1 to 365, and 10
    /// until the tenant sets it (`setDeletionGracePeriod`). A request made now falls due
    /// this many days from now. For every role that may see deletion requests (not
    /// CUSTOMER_USER: FORBIDDEN).
    async fn deletion_grace_period(&self, ctx: &Context<'_>) -> ApiResult<i32> {
        let me = guard::require(ctx, needs!(Query, "deletionGracePeriod"))?;
        let (_, store, _) = parts(ctx);
        Ok(store.deletion_grace_days(&me.tenant).await? as i32)
    }

    /// Who the tenant tells about deletion requests.
    async fn deletion_notices(&self, ctx: &Context<'_>) -> ApiResult<DeletionNotices> {
        let me = guard::require(ctx, needs!(Query, "deletionNotices"))?;
        let (_, store, _) = parts(ctx);
        Ok(store.notice_settings(&me.tenant).await?.into())
    }
}

#[derive(Default)]
pub struct DeletionMutation;

/// Who the tenant tells about deletion requests.
#[derive(async_graphql::SimpleObject, Debug, Clone)]
pub struct DeletionNotices {
    /// Mailed when a request is made, cancelled or carried out, and one day before it falls
    /// due. Empty: nobody is told.
    pub recipients: Vec<String>,
    /// `en`, `de`, `fr` or `es`.
    pub language: String,
}

impl From<clientele_store::NoticeSettings> for DeletionNotices {
    fn from(s: clientele_store::NoticeSettings) -> Self {
        DeletionNotices {
            recipients: s.recipients,
            language: s.language,
        }
    }
}

#[Object]
impl DeletionMutation {
    /// Asks for the customer's deletion: every product in use is stopped (PAUSED) now, and
    /// the customer is deleted automatically when the tenant's grace period (10 days by
    /// default) has passed, unless the request is cancelled first.
    async fn request_deletion(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer to delete.")] customer_id: ID,
        #[graphql(desc = "Why, at most 1000 characters; optional.")] reason: Option<String>,
        #[graphql(
            default,
            desc = "Whether its inner customers are deleted with it when it falls due. A customer with inner customers is refused without it (CONFLICT, as `deleteCustomer` without `deleteInnerCustomers`)."
        )]
        delete_inner_customers: bool,
    ) -> ApiResult<Customer> {
        let needed = needs!(Mutation, "requestDeletion");
        let inner = delete_inner_customers;
        let command = request_command(ctx, needed, &customer_id, reason, inner).await?;
        customer_command(ctx, &customer_id, command).await
    }

    /// Cancels the open deletion request; the note is kept with it. Products the request
    /// stopped return to the status they had before it (unless changed since).
    async fn cancel_deletion_request(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer whose open request is cancelled.")] customer_id: ID,
        #[graphql(desc = "Why it is cancelled: 1 to 1000 characters, required.")] note: String,
    ) -> ApiResult<Customer> {
        let needed = needs!(Mutation, "cancelDeletionRequest");
        guard::customer_for(ctx, &customer_id, needed).await?;
        let (me, _, _) = parts(ctx);
        let note = free_text("note", Some(note), true)?.unwrap_or_default();
        let command = CustomerCommand::CancelDeletionRequest {
            note,
            cancelled_by: me.actor(),
        };
        customer_command(ctx, &customer_id, command).await
    }

    /// Deletes the customer now, with or without a request. `confirm` must be the
    /// customer's shortname (its name when it has none). This cannot be undone: personal
    /// data is erased; the audit trail stays; its users go and its devices, assets, edges
    /// and dashboards are released. A customer with inner customers is refused (CONFLICT,
    /// `extensions.innerCustomers`) unless `deleteInnerCustomers` is true: then the whole
    /// subtree is deleted, in one transaction. With `dryRun`, every check runs (the same
    /// errors), nothing is written, and the customer comes back as it is with
    /// `deletionPreview`: what the deletion would do.
    async fn delete_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer to delete.")] id: ID,
        #[graphql(
            desc = "The customer's shortname (its name when it has none), typed to confirm; anything else is BAD_USER_INPUT, rule CONFIRMATION."
        )]
        confirm: String,
        #[graphql(default, desc = "Delete the whole subtree; false when omitted.")]
        delete_inner_customers: bool,
        #[graphql(
            default,
            desc = "Only check: write nothing, and answer the customer as it is with `deletionPreview` (the inner customers, users, devices, assets, edges and dashboards that would go or be released, the open requests that would be closed)."
        )]
        dry_run: bool,
    ) -> ApiResult<Customer> {
        guard::customer_for(ctx, &id, needs!(Mutation, "deleteCustomer")).await?;
        let (me, store, clock) = parts(ctx);
        let (confirmation, actor) = (Confirmation::Typed(confirm), me.actor());
        let metadata = me.metadata(clock.now());
        let subtree = delete_inner_customers;
        if dry_run {
            let preview = store
                .preview_delete_customer(&id, confirmation, subtree, &actor, &metadata)
                .await
                .map_err(|e| ApiError::from_customer(e, ""))?;
            let customer = stored(store, &me.tenant, &id).await?;
            return Ok(customer.with_deletion_preview(preview.into()));
        }
        store
            .delete_customer(&id, confirmation, subtree, &actor, &metadata)
            .await
            .map_err(|e| ApiError::from_customer(e, ""))?;
        stored(store, &me.tenant, &id).await
    }

    /// Names who is told about deletion requests (at most 20 addresses; an empty list tells
    /// no one) and the language of the mails (`en`, `de`, `fr`, `es`). Requests made,
    /// cancelled or carried out before this are not announced.
    async fn set_deletion_notices(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "0 to 20 email addresses; replaces the list.")] recipients: Vec<String>,
        #[graphql(
            default_with = "String::from(\"en\")",
            desc = "The mails' language: en (the default), de, fr or es."
        )]
        language: String,
    ) -> ApiResult<DeletionNotices> {
        let me = guard::require(ctx, needs!(Mutation, "setDeletionNotices"))?;
        let command = TenantCommand::SetDeletionNotices {
            recipients,
            language,
        };
        tenant_command(ctx, command).await?;
        let (_, store, _) = parts(ctx);
        Ok(store.notice_settings(&me.tenant).await?.into())
    }

    /// Sets the days between a deletion request and the automatic deletion (1 to 365).
    async fn set_deletion_grace_period(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Days from request to automatic deletion, 1 to 365.")] days: i32,
    ) -> ApiResult<i32> {
        let me = guard::require(ctx, needs!(Mutation, "setDeletionGracePeriod"))?;
        let days = u32::try_from(days).map_err(|_| {
            ApiError::argument("days", Rule::Range, "the grace period is 1 to 365 days")
        })?;
        tenant_command(ctx, TenantCommand::SetDeletionGracePeriod { days }).await?;
        let (_, store, _) = parts(ctx);
        Ok(store.deletion_grace_days(&me.tenant).await? as i32)
    }
}

/// `requestDeletion`'s command, once the principal may see the customer (NOT_FOUND
/// otherwise) and the reason passes; `bulkRequestDeletion` shares it.
pub(crate) async fn request_command(
    ctx: &Context<'_>,
    ability: guard::Ability,
    customer_id: &str,
    reason: Option<String>,
    delete_inner_customers: bool,
) -> ApiResult<CustomerCommand> {
    guard::customer_for(ctx, customer_id, ability).await?;
    let (me, store, clock) = parts(ctx);
    let reason = free_text("reason", reason, false)?;
    let days = store.deletion_grace_days(&me.tenant).await?;
    Ok(CustomerCommand::RequestDeletion {
        request_id: uuid::Uuid::now_v7().to_string(),
        reason,
        requested_by: me.actor(),
        due_at: clock.now() + chrono::Duration::days(i64::from(days)),
        delete_inner_customers,
        inner_customers: Vec::new(),
    })
}
