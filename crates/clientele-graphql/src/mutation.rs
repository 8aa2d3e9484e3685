//! Mutations: each one command, answered with the state as stored after it.

use async_graphql::{Context, Object, ID};
use clientele_domain::customer::{
    Confirmation, Customer as CustomerAggregate, CustomerCommand, ParentFacts,
};
use clientele_domain::tenant::{Tenant, TenantCommand};
use clientele_domain::Rule;
use clientele_store::Store;

use crate::auth::{Authenticator, Grant, Impersonator, Role};
use crate::context::{Clock, RequestContext};
use crate::csv_io::{ImportError, Importer};
use crate::error::{ApiError, ApiResult};
use crate::guard;
use crate::types::customer::{CreateCustomerInput, Customer, EditCustomerInput};
use crate::types::enums::{CustomerField, ProductStatus};
use crate::types::import::{ImportMode, ImportResult, OnExisting};
use crate::types::product::Product;

/// Every mutation: the customer's own, and those of its users, tree and assignments.
#[derive(async_graphql::MergedObject, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(CustomerMutations, crate::relations::RelationMutations);

#[derive(Default)]
pub struct CustomerMutations;

/// Roles that edit a customer they can see (a customer admin only its customer-editable fields).
const EDITORS: &[Role] = &[
    Role::TenantAdmin,
    Role::Reseller,
    Role::Seller,
    Role::CustomerAdmin,
];
/// Roles that may ask for a customer's deletion (seed 001: the customer itself, or its reseller).
const REQUESTERS: &[Role] = &[
    Role::TenantAdmin,
    Role::Reseller,
    Role::Seller,
    Role::CustomerAdmin,
];

/// Reads back the row the command's transaction wrote.
pub(crate) async fn stored(store: &Store, tenant: &str, id: &str) -> ApiResult<Customer> {
    match store.customer(tenant, id).await.map_err(ApiError::from)? {
        Some(record) => Ok(record.into()),
        None => Err(ApiError::Internal(format!(
            "customer {id} committed but has no read-model row"
        ))
        .into()),
    }
}

#[Object]
impl CustomerMutations {
    /// Creates a customer and returns it as stored.
    async fn create_customer(
        &self,
        ctx: &Context<'_>,
        input: CreateCustomerInput,
    ) -> ApiResult<Customer> {
        let me = guard::require(ctx, guard::CREATORS)?;
        let mut input = input;
        if me.role == Role::Seller {
            // A seller's customers are its own: it may not create one for another seller.
            match input.seller.as_deref().map(str::trim) {
                Some(seller) if seller != me.subject => {
                    return Err(ApiError::Forbidden(
                        "a seller creates customers for itself only".into(),
                    )
                    .into())
                }
                _ => input.seller = Some(me.subject.clone()),
            }
        }
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let required = store
            .required_customer_fields(&request.tenant)
            .await
            .map_err(ApiError::from)?;
        let parent = match input.parent_id.take() {
            Some(parent) => {
                crate::relations::visible_parent(ctx, &parent).await?;
                Some(ParentFacts::unchecked(parent.to_string()))
            }
            None => None,
        };
        let id = uuid::Uuid::now_v7().to_string();
        let command = CustomerCommand::CreateCustomer {
            tenant: request.tenant.clone(),
            draft: input.into(),
            required,
            parent,
        };
        run_customer_command(ctx, &id, command, "input.").await
    }

    /// Changes the given fields of a customer. With `expectedVersion`, refuses with
    /// CONFLICT (and the current version) if the customer changed since.
    async fn edit_customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: Option<i32>,
        input: EditCustomerInput,
    ) -> ApiResult<Customer> {
        let me = guard::principal(ctx);
        guard::writable_customer(ctx, &id, EDITORS).await?;
        if me.role == Role::CustomerAdmin {
            let fields = input.reseller_only_fields();
            if !fields.is_empty() {
                let message = format!("only the reseller may change {}", fields.join(", "));
                return Err(ApiError::Forbidden(message).into());
            }
        }
        if me.role == Role::Seller && input.reassigns_seller(&me.subject) {
            return Err(ApiError::Forbidden(
                "a seller may not hand its customer to another seller".into(),
            )
            .into());
        }
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        if let Some(v) = expected_version.filter(|v| *v < 0) {
            return Err(ApiError::argument(
                "expectedVersion",
                Rule::Range,
                format!("{v} is not a version"),
            )
            .into());
        }
        let required = store
            .required_customer_fields(&request.tenant)
            .await
            .map_err(ApiError::from)?;
        let command = CustomerCommand::EditCustomer {
            expected_version: expected_version.map(|v| v as u64),
            changes: input.into(),
            required,
        };
        run_customer_command(ctx, &id, command, "input.").await
    }

    /// Chooses which customer fields this tenant requires besides the name (a new tenant
    /// requires none). Returns the fields now required.
    async fn set_required_customer_fields(
        &self,
        ctx: &Context<'_>,
        fields: Vec<CustomerField>,
    ) -> ApiResult<Vec<CustomerField>> {
        guard::require(ctx, guard::TENANT_ADMINS)?;
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let clock = ctx.data_unchecked::<Clock>();
        let command = TenantCommand::SetRequiredCustomerFields {
            fields: fields.into_iter().map(Into::into).collect(),
        };
        let committed = store
            .execute::<Tenant>(&request.tenant, command, &request.metadata(clock.now()))
            .await
            .map_err(ApiError::from)?;
        Ok(committed
            .aggregate
            .required_customer_fields
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Adds a product to the tenant's catalogue (hidden until made visible).
    async fn add_product(
        &self,
        ctx: &Context<'_>,
        key: String,
        name: String,
    ) -> ApiResult<Product> {
        guard::require(ctx, guard::TENANT_ADMINS)?;
        tenant_command(
            ctx,
            TenantCommand::AddProduct {
                key: key.clone(),
                name,
            },
        )
        .await?;
        catalogue_product(ctx, &key).await
    }

    /// Sets whether new customers, and customers without their own setting, see a product.
    async fn set_global_product_visibility(
        &self,
        ctx: &Context<'_>,
        product: String,
        visible: bool,
    ) -> ApiResult<Product> {
        guard::require(ctx, guard::TENANT_ADMINS)?;
        let command = TenantCommand::SetGlobalProductVisibility {
            key: product.clone(),
            visible,
        };
        tenant_command(ctx, command).await?;
        catalogue_product(ctx, &product).await
    }

    /// Sets the customer's own visibility of a product; later global changes do not touch it.
    async fn set_product_visibility(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        product: String,
        visible: bool,
    ) -> ApiResult<Customer> {
        guard::writable_customer(ctx, &customer_id, guard::MANAGERS).await?;
        let catalogue = catalogue_entry(ctx, &product).await?;
        let command = CustomerCommand::SetProductVisibility {
            product,
            visible,
            catalogue,
        };
        customer_command(ctx, &customer_id, command).await
    }

    /// Activates a product that is visible to the customer; it starts as NEW.
    async fn activate_product(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        product: String,
    ) -> ApiResult<Customer> {
        guard::writable_customer(ctx, &customer_id, guard::MANAGERS).await?;
        let catalogue = catalogue_entry(ctx, &product).await?;
        customer_command(
            ctx,
            &customer_id,
            CustomerCommand::ActivateProduct { product, catalogue },
        )
        .await
    }

    /// Moves an activated product to another status; the account status follows.
    async fn set_product_status(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        product: String,
        status: ProductStatus,
    ) -> ApiResult<Customer> {
        guard::writable_customer(ctx, &customer_id, guard::MANAGERS).await?;
        let command = CustomerCommand::SetProductStatus {
            product,
            status: status.into(),
        };
        customer_command(ctx, &customer_id, command).await
    }

    /// Asks for the customer's deletion: every product in use is stopped (PAUSED) now, and
    /// the customer is deleted automatically when the tenant's grace period (10 days by
    /// default) has passed, unless the request is cancelled first.
    async fn request_deletion(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        reason: Option<String>,
    ) -> ApiResult<Customer> {
        guard::writable_customer(ctx, &customer_id, REQUESTERS).await?;
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let clock = ctx.data_unchecked::<Clock>();
        let reason = free_text("reason", reason, false)?;
        let days = store
            .deletion_grace_days(&request.tenant)
            .await
            .map_err(ApiError::from)?;
        let command = CustomerCommand::RequestDeletion {
            request_id: uuid::Uuid::now_v7().to_string(),
            reason,
            requested_by: request.actor(),
            due_at: clock.now() + chrono::Duration::days(i64::from(days)),
        };
        customer_command(ctx, &customer_id, command).await
    }

    /// Cancels the open deletion request; the note is kept with it. Products the request
    /// stopped return to the status they had before it (unless changed since).
    async fn cancel_deletion_request(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        note: String,
    ) -> ApiResult<Customer> {
        guard::writable_customer(ctx, &customer_id, guard::MANAGERS).await?;
        let request = ctx.data_unchecked::<RequestContext>();
        let note = free_text("note", Some(note), true)?.unwrap_or_default();
        let command = CustomerCommand::CancelDeletionRequest {
            note,
            cancelled_by: request.actor(),
        };
        customer_command(ctx, &customer_id, command).await
    }

    /// Deletes the customer now, with or without a request. `confirm` must be the
    /// customer's shortname (its name when it has none). This cannot be undone: personal
    /// data is erased; the audit trail stays; its users go and its devices, assets, edges
    /// and dashboards are released. A customer with inner customers is refused (CONFLICT,
    /// `extensions.innerCustomers`) unless `deleteInnerCustomers` is true: then the whole
    /// subtree is deleted, in one transaction.
    async fn delete_customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        confirm: String,
        #[graphql(default)] delete_inner_customers: bool,
    ) -> ApiResult<Customer> {
        guard::writable_customer(ctx, &id, guard::TENANT_ADMINS).await?;
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        let clock = ctx.data_unchecked::<Clock>();
        store
            .delete_customer(
                &id,
                Confirmation::Typed(confirm),
                delete_inner_customers,
                &request.actor(),
                &request.metadata(clock.now()),
            )
            .await
            .map_err(|e| ApiError::from_customer(e, ""))?;
        stored(store, &request.tenant, &id).await
    }

    /// Sets the days between a deletion request and the automatic deletion (1 to 365).
    async fn set_deletion_grace_period(&self, ctx: &Context<'_>, days: i32) -> ApiResult<i32> {
        guard::require(ctx, guard::TENANT_ADMINS)?;
        let days = u32::try_from(days).map_err(|_| {
            ApiError::argument("days", Rule::Range, "the grace period is 1 to 365 days")
        })?;
        tenant_command(ctx, TenantCommand::SetDeletionGracePeriod { days }).await?;
        let request = ctx.data_unchecked::<RequestContext>();
        let store = ctx.data_unchecked::<Store>();
        Ok(store
            .deletion_grace_days(&request.tenant)
            .await
            .map_err(ApiError::from)? as i32)
    }

    /// Logs in as the customer's admin user: returns a short-lived token that acts as the
    /// customer. Every action taken with it records the real actor and the customer, and
    /// starting it is an event in the customer's history. TENANT_ADMIN and RESELLER for any
    /// customer, SELLER for its own; never from an impersonation token.
    async fn login_as(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        reason: String,
    ) -> ApiResult<Impersonation> {
        let me = guard::principal(ctx);
        if me.impersonator.is_some() {
            return Err(ApiError::Forbidden(
                "an impersonation token cannot start another impersonation".into(),
            )
            .into());
        }
        guard::writable_customer(ctx, &customer_id, guard::MANAGERS).await?;
        let reason = free_text("reason", Some(reason), true)?.unwrap_or_default();
        let auth = ctx.data_unchecked::<std::sync::Arc<Authenticator>>();
        let clock = ctx.data_unchecked::<Clock>();
        let ttl = ctx.data_unchecked::<ImpersonationTtl>().0;
        let imp = Impersonator {
            sub: me.subject.clone(),
            role: me.role,
        };
        let grant = Grant {
            sub: format!("customer-admin:{}", customer_id.as_str()),
            tenant: me.tenant.clone(),
            role: Role::CustomerAdmin,
            customer: Some(customer_id.to_string()),
            imp: Some(imp),
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

    /// Ends the impersonation this token belongs to (recorded in the customer's history).
    async fn end_impersonation(&self, ctx: &Context<'_>) -> ApiResult<bool> {
        let me = guard::principal(ctx);
        let (Some(imp), Some(customer)) = (&me.impersonator, &me.customer) else {
            return Err(ApiError::Forbidden("this token is not an impersonation".into()).into());
        };
        let command = CustomerCommand::EndImpersonation {
            by: imp.sub.clone(),
        };
        customer_command(ctx, customer, command).await?;
        Ok(true)
    }

    /// Imports customers from a CSV file (seed 002's format and beyond: a header row with
    /// `Name` and any other input field, `,` or `;`, UTF-8 with or without a BOM). Every row
    /// obeys createCustomer's rules; a row matching an existing customer (by customId, else
    /// by name) is skipped or updated, so importing a file twice creates no duplicates.
    async fn import_customers(
        &self,
        ctx: &Context<'_>,
        file: async_graphql::Upload,
        #[graphql(default_with = "ImportMode::Partial")] mode: ImportMode,
        #[graphql(default_with = "OnExisting::Skip")] on_existing: OnExisting,
    ) -> ApiResult<ImportResult> {
        let me = guard::require(ctx, guard::CREATORS)?;
        let store = ctx.data_unchecked::<Store>();
        let clock = ctx.data_unchecked::<Clock>();
        let upload = file
            .value(ctx)
            .map_err(|e| ApiError::argument("file", Rule::Format, e.to_string()))?;
        let content = upload.content;
        let importer = Importer {
            store,
            metadata: me.metadata(clock.now()),
            mode: mode.into(),
            on_existing: on_existing.into(),
            seller: (me.role == Role::Seller).then(|| me.subject.clone()),
        };
        // The upload is held in memory (within the upload size limit); rows are streamed.
        let open = || Ok(std::io::Cursor::new(content.clone()));
        match importer.run(open, |_| {}).await {
            Ok(report) => Ok(report.into()),
            Err(ImportError::Store(error)) => Err(ApiError::from(error).into()),
            Err(error) => Err(ApiError::argument("file", Rule::Format, error.to_string()).into()),
        }
    }
}

/// A token that acts as a customer's admin user.
#[derive(async_graphql::SimpleObject)]
pub struct Impersonation {
    /// Send it as `Authorization: Bearer …`; answers made with it carry `extensions.impersonation`.
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// How long an impersonation token lives.
#[derive(Clone, Copy)]
pub struct ImpersonationTtl(pub chrono::Duration);

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
        None if required => {
            Err(
                ApiError::argument(field, Rule::Required, format!("{field} must not be empty"))
                    .into(),
            )
        }
        Some(v) if v.chars().count() > 1000 => Err(ApiError::argument(
            field,
            Rule::Length,
            format!("{field} must be at most 1000 characters"),
        )
        .into()),
        _ => Ok(value),
    }
}

async fn tenant_command(ctx: &Context<'_>, command: TenantCommand) -> ApiResult<()> {
    let request = ctx.data_unchecked::<RequestContext>();
    let store = ctx.data_unchecked::<Store>();
    let clock = ctx.data_unchecked::<Clock>();
    store
        .execute::<Tenant>(&request.tenant, command, &request.metadata(clock.now()))
        .await
        .map_err(ApiError::from)?;
    Ok(())
}

async fn catalogue_product(ctx: &Context<'_>, key: &str) -> ApiResult<Product> {
    let request = ctx.data_unchecked::<RequestContext>();
    let store = ctx.data_unchecked::<Store>();
    let catalogue = store
        .catalogue(&request.tenant)
        .await
        .map_err(ApiError::from)?;
    match catalogue.into_iter().find(|p| p.key == key) {
        Some(product) => Ok(product.into()),
        None => Err(ApiError::Internal(format!(
            "product {key} committed but not in the catalogue"
        ))
        .into()),
    }
}

async fn catalogue_entry(
    ctx: &Context<'_>,
    key: &str,
) -> ApiResult<clientele_domain::customer::CatalogueEntry> {
    let request = ctx.data_unchecked::<RequestContext>();
    let store = ctx.data_unchecked::<Store>();
    Ok(store
        .catalogue_entry(&request.tenant, key)
        .await
        .map_err(ApiError::from)?)
}

/// Runs a product, deletion or impersonation command (fields named by argument).
async fn customer_command(
    ctx: &Context<'_>,
    id: &str,
    command: CustomerCommand,
) -> ApiResult<Customer> {
    run_customer_command(ctx, id, command, "").await
}

/// Runs a command on a customer and answers it as stored; `prefix` locates violated fields.
pub(crate) async fn run_customer_command(
    ctx: &Context<'_>,
    id: &str,
    command: CustomerCommand,
    prefix: &'static str,
) -> ApiResult<Customer> {
    let request = ctx.data_unchecked::<RequestContext>();
    let store = ctx.data_unchecked::<Store>();
    let clock = ctx.data_unchecked::<Clock>();
    store
        .execute::<CustomerAggregate>(id, command, &request.metadata(clock.now()))
        .await
        .map_err(|e| ApiError::from_customer(e, prefix))?;
    stored(store, &request.tenant, id).await
}
