//! What the resolvers of every slice share: the request's parts, running a command and
//! answering from the read model, free-text checks, and starting a subscription's events.

use async_graphql::{Context, ID};
use clientele_domain::customer::{Customer as CustomerAggregate, CustomerCommand, EVENT_TYPES};
use clientele_domain::tenant::{Tenant, TenantCommand};
use clientele_domain::Rule;
use clientele_store::feed::Feed;
use clientele_store::Store;

use super::event_stream::{EventStream, Selection};
use crate::context::{Clock, RequestContext};
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, Ability};
use crate::types::customer::Customer;
use crate::types::page::decode_cursor;

/// The principal, the store and the clock of a request.
pub(crate) fn parts<'a>(ctx: &Context<'a>) -> (&'a RequestContext, &'a Store, &'a Clock) {
    (
        ctx.data_unchecked::<RequestContext>(),
        ctx.data_unchecked::<Store>(),
        ctx.data_unchecked::<Clock>(),
    )
}

/// Reads back the row the command's transaction wrote.
pub(crate) async fn stored(store: &Store, tenant: &str, id: &str) -> ApiResult<Customer> {
    match store.customer(tenant, id).await? {
        Some(record) => Ok(record.into()),
        None => Err(ApiError::Internal(format!(
            "customer {id} committed but has no read-model row"
        ))),
    }
}

/// Runs a command on a customer and answers it as stored; `prefix` locates violated
/// fields (`input.` when they sit in an input object).
pub(crate) async fn run_customer_command(
    ctx: &Context<'_>,
    id: &str,
    command: CustomerCommand,
    prefix: &'static str,
) -> ApiResult<Customer> {
    let (me, store, clock) = parts(ctx);
    let committed = store
        .execute::<CustomerAggregate>(id, command, &me.metadata(clock.now()))
        .await
        .map_err(|e| ApiError::from_customer(e, prefix))?;
    // A new customer's row is known without reading it: the transaction wrote it from
    // these events.
    match committed.created_record() {
        Some(record) => Ok(record.into()),
        None => stored(store, &me.tenant, id).await,
    }
}

/// What one customer command did, or on a dry run would do.
pub(crate) struct Outcome {
    /// The customer as stored after it; `None` on a dry run, which changes nothing.
    pub customer: Option<Customer>,
    /// The types of the events it wrote (on a dry run: would write), in order.
    pub events: Vec<String>,
}

/// Runs a command on an existing customer, or with `dry_run` only tries it: every check
/// and the same events, in a transaction that is rolled back (`Store::dry_run`).
pub(crate) async fn try_customer_command(
    ctx: &Context<'_>,
    id: &str,
    command: CustomerCommand,
    prefix: &'static str,
    dry_run: bool,
) -> ApiResult<Outcome> {
    let (me, store, clock) = parts(ctx);
    let metadata = me.metadata(clock.now());
    let decided = if dry_run {
        store
            .dry_run::<CustomerAggregate>(id, command, &metadata)
            .await
    } else {
        store
            .execute::<CustomerAggregate>(id, command, &metadata)
            .await
    }
    .map_err(|e| ApiError::from_customer(e, prefix))?;
    let events = decided
        .events
        .iter()
        .map(|e| e.event_type.clone())
        .collect();
    let customer = match dry_run {
        true => None,
        false => Some(stored(store, &me.tenant, id).await?),
    };
    Ok(Outcome { customer, events })
}

/// Runs a customer command whose fields are named by argument.
pub(crate) async fn customer_command(
    ctx: &Context<'_>,
    id: &str,
    command: CustomerCommand,
) -> ApiResult<Customer> {
    run_customer_command(ctx, id, command, "").await
}

/// Runs a command on the principal's tenant; answers the tenant after it.
pub(crate) async fn tenant_command(ctx: &Context<'_>, command: TenantCommand) -> ApiResult<Tenant> {
    let (me, store, clock) = parts(ctx);
    let committed = store
        .execute::<Tenant>(&me.tenant, command, &me.metadata(clock.now()))
        .await?;
    Ok(committed.aggregate)
}

/// Trims free text and caps it at 1,000 characters; `required` refuses a blank one.
pub(crate) fn free_text(
    field: &str,
    value: Option<String>,
    required: bool,
) -> ApiResult<Option<String>> {
    let value = value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    match &value {
        None if required => Err(ApiError::argument(
            field,
            Rule::Required,
            format!("{field} must not be empty"),
        )),
        Some(v) if v.chars().count() > 1000 => Err(ApiError::argument(
            field,
            Rule::Length,
            format!("{field} must be at most 1000 characters"),
        )),
        _ => Ok(value),
    }
}

/// The events a subscription receives, for a principal with `ability`: of one customer
/// (NOT_FOUND unless the principal may read it) or of all it can see, of some event types
/// (BAD_USER_INPUT for an unknown one), live or replayed after a cursor it gave out.
pub(crate) async fn subscribe(
    ctx: &Context<'_>,
    ability: Ability,
    customer_id: Option<ID>,
    types: Option<Vec<String>>,
    after: Option<String>,
) -> ApiResult<EventStream> {
    let me = guard::require(ctx, ability)?.clone();
    let customer = match customer_id {
        Some(id) => Some(guard::customer_for(ctx, &id, ability).await?.id),
        None => None,
    };
    let selection = Selection {
        customer,
        types: known_types(types)?,
        me,
    };
    let after = after.as_deref().map(decode_cursor).transpose()?;
    let feed = feed(ctx)?;
    if let Some(after) = after {
        // A cursor past the end was never given out, and resuming from it would silently
        // skip every event committed up to it.
        if after > feed.log_end().await? {
            return Err(ApiError::argument(
                "after",
                Rule::Range,
                "after is beyond the end of the log: it is not a cursor a subscription gave out",
            ));
        }
    }
    let store = ctx.data_unchecked::<Store>().clone();
    Ok(EventStream::new(feed.clone(), store, selection, after))
}

/// The live feed, or INTERNAL when the schema was built without one (never in the server).
pub(crate) fn feed<'a>(ctx: &Context<'a>) -> ApiResult<&'a Feed> {
    ctx.data::<Feed>()
        .map_err(|_| ApiError::Internal("subscriptions are not available: no live feed".into()))
}

/// BAD_USER_INPUT unless every type is one of the customer's event types.
fn known_types(types: Option<Vec<String>>) -> ApiResult<Option<Vec<String>>> {
    if let Some(unknown) = types
        .iter()
        .flatten()
        .find(|t| !EVENT_TYPES.contains(&t.as_str()) && !assignment_type(t))
    {
        return Err(ApiError::argument(
            "filter.types",
            Rule::AllowedValues,
            format!(
                "unknown event type {unknown}; known types: {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    Ok(types)
}

/// An assignment event type (`DeviceAssigned`, `DashboardUnassigned`, …), which a
/// customer's `customerEvents` carries too.
fn assignment_type(name: &str) -> bool {
    clientele_domain::assignment::OwnershipEvent::TYPES.contains(&name)
        || clientele_domain::assignment::DashboardEvent::TYPES.contains(&name)
}

/// Narrows `filter` to the customers the principal can see (`guard::reach`).
pub(crate) async fn within_reach(
    ctx: &Context<'_>,
    filter: &mut clientele_store::CustomerFilter,
) -> ApiResult<()> {
    let (me, store, _) = parts(ctx);
    match guard::reach(me.role) {
        guard::Reach::Tenant => {}
        guard::Reach::OwnCustomers => filter.seller = Some(me.subject.clone()),
        guard::Reach::OwnSubtree => {
            let mine = match &me.customer {
                Some(id) => store.customer(&me.tenant, id).await?,
                None => None,
            };
            match mine {
                Some(mine) => filter.subtree_of = Some((mine.id, mine.ancestry)),
                None => filter.only_id = Some(me.customer.clone().unwrap_or_default()),
            }
        }
    }
    Ok(())
}
