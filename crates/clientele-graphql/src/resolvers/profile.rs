//! A customer's own fields: read one, list, create, edit; the tenant's required fields.

use async_graphql::{Context, Object, ID};
use clientele_domain::customer::{normalise_name, CustomerCommand, CustomerDraft, ParentFacts};
use clientele_domain::tenant::TenantCommand;
use clientele_domain::Rule;
use clientele_store::{PageError, PageRequest};

use super::products::creation_toggles;
use super::shared::{parts, run_customer_command, tenant_command, within_reach};
use super::tree::visible_parent;
use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::types::customer::{Customer, CustomerConnection};
use crate::types::page::{customer_cursor, page_size, DEFAULT_PAGE_SIZE};
use crate::types::profile::{
    CreateCustomerInput, CustomerField, CustomerFilter, CustomerOrder, EditCustomerInput,
    NameConflictPolicy, OrderDirection,
};

#[derive(Default)]
pub struct ProfileQuery;

// Each resolver argument is a GraphQL argument; Relay lists take many by design.
#[allow(clippy::too_many_arguments)]
#[Object]
impl ProfileQuery {
    /// One customer of the tenant, or null.
    async fn customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id (a UUID).")] id: ID,
    ) -> ApiResult<Option<Customer>> {
        guard::require(ctx, needs!(Query, "customer"))?;
        Ok(guard::visible_customer(ctx, &id).await?.map(Into::into))
    }

    /// The tenant's customers as a Relay connection (at most 100 a page, 20 by default).
    async fn customers(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Which customers to list; omitted: every live, real customer the caller can see."
        )]
        filter: Option<CustomerFilter>,
        #[graphql(
            desc = "The sort; omitted: by creation time, oldest first. Ties are broken by id."
        )]
        order_by: Option<CustomerOrder>,
        #[graphql(
            desc = "Forward page size, 0 to 100 (20 when neither `first` nor `last` is given)."
        )]
        first: Option<i32>,
        #[graphql(
            desc = "A cursor from this list (`pageInfo.endCursor`); the page starts after it."
        )]
        after: Option<String>,
        #[graphql(desc = "Backward page size, 0 to 100; with `before`.")] last: Option<i32>,
        #[graphql(
            desc = "A cursor from this list (`pageInfo.startCursor`); the page ends before it."
        )]
        before: Option<String>,
    ) -> ApiResult<CustomerConnection> {
        let me = guard::require(ctx, needs!(Query, "customers"))?;
        let (_, store, _) = parts(ctx);
        let (mut first, last) = (page_size("first", first)?, page_size("last", last)?);
        if first.is_some() && last.is_some() {
            return Err(ApiError::argument(
                "last",
                Rule::Range,
                "give first or last, not both",
            ));
        }
        if first.is_none() && last.is_none() {
            first = Some(DEFAULT_PAGE_SIZE as usize);
        }
        let order = order_by.unwrap_or_default();
        let page = PageRequest {
            order: order.field.into(),
            descending: order.direction == OrderDirection::Desc,
            first,
            after: customer_cursor("after", after)?,
            last,
            before: customer_cursor("before", before)?,
        };
        let mut filter = filter.unwrap_or_default().into_store()?;
        // The list holds only the customers the principal can see.
        within_reach(ctx, &mut filter).await?;
        let page = match store.list_customers(&me.tenant, &filter, &page).await? {
            Ok(page) => page,
            Err(PageError::CursorOrderMismatch) => {
                return Err(ApiError::argument(
                    "after",
                    Rule::Format,
                    "this cursor belongs to a list sorted another way",
                ))
            }
        };
        Ok(CustomerConnection {
            tenant: me.tenant.clone(),
            filter,
            page,
        })
    }

    /// The customer fields this tenant requires besides the name.
    async fn required_customer_fields(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerField>> {
        let me = guard::require(ctx, needs!(Query, "requiredCustomerFields"))?;
        let (_, store, _) = parts(ctx);
        let fields = store.required_customer_fields(&me.tenant).await?;
        Ok(fields.into_iter().map(Into::into).collect())
    }
}

/// How many times a UNIQUIFY create tries a free suffix (each lost race to a concurrent
/// create of the same name costs one), and how many suffixes it looks through.
const UNIQUIFY_ATTEMPTS: usize = 10;
const UNIQUIFY_SUFFIXES: u32 = 1000;

/// True when a create was refused because another customer holds the name.
fn name_taken(error: &ApiError) -> bool {
    matches!(error, ApiError::Conflict { field: Some(field), .. } if field == "input.name")
}

#[derive(Default)]
pub struct ProfileMutation;

#[Object]
impl ProfileMutation {
    /// Creates a customer and returns it as stored.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The new customer's fields; each checked against its rule (see `customerFieldRules`). Violations come back together as BAD_USER_INPUT, each with its field and rule."
        )]
        input: CreateCustomerInput,
    ) -> ApiResult<Customer> {
        let me = guard::require(ctx, needs!(Mutation, "createCustomer"))?;
        let mut input = input;
        if me.role == Role::Seller {
            // A seller's customers are its own: it may not create one for another seller.
            match input.seller.as_deref().map(str::trim) {
                Some(seller) if seller != me.subject => {
                    return Err(ApiError::Forbidden(
                        "a seller creates customers for itself only".into(),
                    ))
                }
                _ => input.seller = Some(me.subject.clone()),
            }
        }
        let (_, store, _) = parts(ctx);
        let required = store.required_customer_fields(&me.tenant).await?;
        let parent = match input.parent_id.take() {
            Some(parent) => {
                visible_parent(ctx, &parent).await?;
                Some(ParentFacts::unchecked(parent.to_string()))
            }
            None => None,
        };
        let id = uuid::Uuid::now_v7().to_string();
        let first_admin = input.first_admin.take();
        let products = creation_toggles(ctx, input.products.take().unwrap_or_default()).await?;
        let uniquify = input.name_conflict == NameConflictPolicy::Uniquify;
        let asked = input.name.clone();
        let normalised = normalise_name(&asked);
        let mut draft: CustomerDraft = input.into();
        // The first try is the name as asked; a taken name under UNIQUIFY moves on to the
        // first free suffix, and again when a concurrent create took that one first.
        let mut from = 1;
        for _ in 0..UNIQUIFY_ATTEMPTS {
            let mut requested_name = None;
            if uniquify && from > 1 {
                let Some((n, name)) = store
                    .first_free_name(&me.tenant, &normalised, from, UNIQUIFY_SUFFIXES)
                    .await?
                else {
                    break;
                };
                from = n;
                draft.name = name;
                requested_name = Some(asked.clone());
            }
            let command = CustomerCommand::CreateCustomer {
                tenant: me.tenant.clone(),
                draft: draft.clone(),
                required: required.clone(),
                parent: parent.clone(),
                requested_name,
                products: products.clone(),
            };
            let created = match first_admin.clone() {
                Some(admin) => super::users::create_with_admin(ctx, &id, command, admin).await,
                None => run_customer_command(ctx, &id, command, "input.").await,
            };
            match created {
                Err(error) if uniquify && name_taken(&error) => from += 1,
                other => return other,
            }
        }
        Err(ApiError::Conflict {
            message: "no free suffix of this name was found; choose another name".into(),
            field: Some("input.name".into()),
            current_version: None,
        })
    }

    /// Changes the given fields of a customer. With `expectedVersion`, refuses with
    /// CONFLICT (and the current version) if the customer changed since.
    async fn edit_customer(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's id.")] id: ID,
        #[graphql(desc = "The `version` the form was loaded at; omitted: no check.")]
        expected_version: Option<i32>,
        #[graphql(desc = "The fields to change; left out stays, null clears.")]
        input: EditCustomerInput,
    ) -> ApiResult<Customer> {
        let needed = needs!(Mutation, "editCustomer");
        let command = edit_command(ctx, needed, &id, expected_version, input).await?;
        run_customer_command(ctx, &id, command, "input.").await
    }

    /// Chooses which customer fields this tenant requires besides the name (a new tenant
    /// requires none). Returns the fields now required.
    async fn set_required_customer_fields(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "Every field the tenant requires from now on (replaces the list; NAME is always required)."
        )]
        fields: Vec<CustomerField>,
    ) -> ApiResult<Vec<CustomerField>> {
        guard::require(ctx, needs!(Mutation, "setRequiredCustomerFields"))?;
        let command = TenantCommand::SetRequiredCustomerFields {
            fields: fields.into_iter().map(Into::into).collect(),
        };
        let tenant = tenant_command(ctx, command).await?;
        Ok(tenant
            .required_customer_fields
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

/// The checks of an edit that come before the customer decides (who may change which
/// fields, the version's range) and its command; `editCustomer` and `bulkEditCustomers`
/// share them. NOT_FOUND when the principal cannot see the customer.
pub(crate) async fn edit_command(
    ctx: &Context<'_>,
    ability: guard::Ability,
    id: &str,
    expected_version: Option<i32>,
    input: EditCustomerInput,
) -> ApiResult<CustomerCommand> {
    let me = guard::principal(ctx);
    guard::customer_for(ctx, id, ability).await?;
    if me.role == Role::CustomerAdmin {
        let fields = input.reseller_only_fields();
        if !fields.is_empty() {
            let message = format!("only the reseller may change {}", fields.join(", "));
            return Err(ApiError::Forbidden(message));
        }
    }
    if me.role == Role::Seller && input.reassigns_seller(&me.subject) {
        return Err(ApiError::Forbidden(
            "a seller may not hand its customer to another seller".into(),
        ));
    }
    if let Some(v) = expected_version.filter(|v| *v < 0) {
        return Err(ApiError::argument(
            "expectedVersion",
            Rule::Range,
            format!("{v} is not a version"),
        ));
    }
    let (_, store, _) = parts(ctx);
    let required = store.required_customer_fields(&me.tenant).await?;
    Ok(CustomerCommand::EditCustomer {
        expected_version: expected_version.map(|v| v as u64),
        changes: input.into(),
        required,
    })
}
