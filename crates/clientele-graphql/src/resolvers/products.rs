//! Products: the tenant's catalogue and its global visibility, and each customer's own
//! visibility, activation and product statuses.

use async_graphql::{Context, Object, ID};
use clientele_domain::customer::{CatalogueEntry, CustomerCommand, ProductToggle};
use clientele_domain::tenant::TenantCommand;

use super::shared::{customer_command, parts, tenant_command};
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs, Ability};
use crate::types::customer::Customer;
use crate::types::products::{Product, ProductStatus, ProductVisibilityInput};

#[derive(Default)]
pub struct ProductsQuery;

#[Object]
impl ProductsQuery {
    /// The tenant's product catalogue with each product's global visibility.
    async fn products(&self, ctx: &Context<'_>) -> ApiResult<Vec<Product>> {
        let me = guard::require(ctx, needs!(Query, "products"))?;
        let (_, store, _) = parts(ctx);
        let catalogue = store.catalogue(&me.tenant).await?;
        Ok(catalogue.into_iter().map(Into::into).collect())
    }
}

#[derive(Default)]
pub struct ProductsMutation;

#[Object]
impl ProductsMutation {
    /// Adds a product to the tenant's catalogue (hidden until made visible).
    async fn add_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(
            desc = "The product's key: 2 to 32 characters of A-Z, 0-9 and _; unique in the catalogue."
        )]
        key: String,
        #[graphql(desc = "The name shown to people: 1 to 100 characters.")] name: String,
    ) -> ApiResult<Product> {
        let command = TenantCommand::AddProduct {
            key: key.clone(),
            name,
        };
        catalogue_command(ctx, needs!(Mutation, "addProduct"), command, &key).await
    }

    /// Sets whether new customers, and customers without their own setting, see a product.
    async fn set_global_product_visibility(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The product's key.")] product: String,
        #[graphql(desc = "Whether customers without their own setting see it.")] visible: bool,
    ) -> ApiResult<Product> {
        let needed = needs!(Mutation, "setGlobalProductVisibility");
        let command = TenantCommand::SetGlobalProductVisibility {
            key: product.clone(),
            visible,
        };
        catalogue_command(ctx, needed, command, &product).await
    }

    /// Sets the customer's own visibility of a product; later global changes do not touch it.
    async fn set_product_visibility(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer.")] customer_id: ID,
        #[graphql(desc = "The product's key.")] product: String,
        #[graphql(desc = "Whether this customer sees it.")] visible: bool,
    ) -> ApiResult<Customer> {
        let needed = needs!(Mutation, "setProductVisibility");
        let command = visibility_command(ctx, needed, &customer_id, product, visible).await?;
        customer_command(ctx, &customer_id, command).await
    }

    /// Removes the customer's own visibility of a product, so the tenant's global setting
    /// applies again (`visibilitySource: GLOBAL`); a product without one is left as it is.
    async fn reset_product_visibility(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer.")] customer_id: ID,
        #[graphql(desc = "The product's key.")] product: String,
    ) -> ApiResult<Customer> {
        let needed = needs!(Mutation, "resetProductVisibility");
        guard::customer_for(ctx, &customer_id, needed).await?;
        let catalogue = catalogue_entry(ctx, &product).await?;
        let command = CustomerCommand::ResetProductVisibility { product, catalogue };
        customer_command(ctx, &customer_id, command).await
    }

    /// Activates a product that is visible to the customer; it starts as NEW.
    async fn activate_product(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer.")] customer_id: ID,
        #[graphql(desc = "The key of a product visible to the customer.")] product: String,
    ) -> ApiResult<Customer> {
        guard::customer_for(ctx, &customer_id, needs!(Mutation, "activateProduct")).await?;
        let catalogue = catalogue_entry(ctx, &product).await?;
        let command = CustomerCommand::ActivateProduct { product, catalogue };
        customer_command(ctx, &customer_id, command).await
    }

    /// Moves an activated product to another status; the account status follows.
    async fn set_product_status(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer.")] customer_id: ID,
        #[graphql(desc = "The key of an activated product.")] product: String,
        #[graphql(
            desc = "The new status; only the allowed moves are accepted (CONFLICT otherwise)."
        )]
        status: ProductStatus,
    ) -> ApiResult<Customer> {
        guard::customer_for(ctx, &customer_id, needs!(Mutation, "setProductStatus")).await?;
        let command = CustomerCommand::SetProductStatus {
            product,
            status: status.into(),
        };
        customer_command(ctx, &customer_id, command).await
    }
}

/// Changes the catalogue with `ability`; answers the product `key` as committed.
async fn catalogue_command(
    ctx: &Context<'_>,
    ability: Ability,
    command: TenantCommand,
    key: &str,
) -> ApiResult<Product> {
    let me = guard::require(ctx, ability)?;
    tenant_command(ctx, command).await?;
    let (_, store, _) = parts(ctx);
    let catalogue = store.catalogue(&me.tenant).await?;
    match catalogue.into_iter().find(|p| p.key == key) {
        Some(product) => Ok(product.into()),
        None => Err(ApiError::Internal(format!(
            "product {key} committed but not in the catalogue"
        ))),
    }
}

/// `setProductVisibility`'s command, once the principal may see the customer (NOT_FOUND
/// otherwise); `bulkSetProductVisibility` shares it.
pub(crate) async fn visibility_command(
    ctx: &Context<'_>,
    ability: Ability,
    customer_id: &str,
    product: String,
    visible: bool,
) -> ApiResult<CustomerCommand> {
    guard::customer_for(ctx, customer_id, ability).await?;
    let catalogue = catalogue_entry(ctx, &product).await?;
    Ok(CustomerCommand::SetProductVisibility {
        product,
        visible,
        catalogue,
    })
}

/// The creation form's product toggles with what the tenant's catalogue says of each (read
/// once for all of them).
pub(crate) async fn creation_toggles(
    ctx: &Context<'_>,
    toggles: Vec<ProductVisibilityInput>,
) -> ApiResult<Vec<ProductToggle>> {
    if toggles.is_empty() {
        return Ok(Vec::new());
    }
    let (me, store, _) = parts(ctx);
    let catalogue = store.catalogue(&me.tenant).await?;
    Ok(toggles
        .into_iter()
        .map(|toggle| {
            let catalogue = match catalogue.iter().find(|p| p.key == toggle.product) {
                Some(listed) => CatalogueEntry::Listed {
                    globally_visible: listed.visible,
                },
                None => CatalogueEntry::Unknown,
            };
            ProductToggle {
                product: toggle.product,
                visible: toggle.visible,
                catalogue,
            }
        })
        .collect())
}

/// What a customer command needs to know of a catalogue product.
async fn catalogue_entry(ctx: &Context<'_>, key: &str) -> ApiResult<CatalogueEntry> {
    let (me, store, _) = parts(ctx);
    Ok(store.catalogue_entry(&me.tenant, key).await?)
}
