//! Webhooks: a tenant admin registers endpoints (the signing secret is shown once), lists,
//! updates, disables, enables and deletes them, rotates the secret, reads each one's
//! delivery log and replays the log from a cursor. The server's worker delivers.

use argon2::password_hash::rand_core::{OsRng, RngCore};
use async_graphql::{Context, Object, ID};
use base64::Engine;
use clientele_domain::tenant::webhooks::WebhookCommand;
use clientele_domain::Rule;

use super::shared::parts;
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs, Ability};
use crate::types::page::decode_cursor;
use crate::types::webhooks::{
    RegisterWebhookEndpointInput, UpdateWebhookEndpointInput, WebhookEndpoint,
    WebhookEndpointWithSecret,
};

/// How the service treats webhook URLs.
#[derive(Debug, Clone, Copy, Default)]
pub struct WebhookSettings {
    /// Endpoints on loopback, link-local and private addresses (and plain http) are allowed.
    pub allow_private_addresses: bool,
}

/// How long an old secret still signs after a rotation, unless told otherwise.
const DEFAULT_KEEP_OLD_HOURS: i32 = 24;

#[derive(Default)]
pub struct WebhooksQuery;

#[Object]
impl WebhooksQuery {
    /// The tenant's webhook endpoints, oldest first.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> ApiResult<Vec<WebhookEndpoint>> {
        let me = guard::require(ctx, needs!(Query, "webhookEndpoints"))?;
        let (_, store, _) = parts(ctx);
        let endpoints = store.webhook_endpoints(&me.tenant).await?;
        Ok(endpoints.into_iter().map(Into::into).collect())
    }

    /// One of the tenant's webhook endpoints; null when it has none with this id.
    async fn webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> ApiResult<Option<WebhookEndpoint>> {
        let me = guard::require(ctx, needs!(Query, "webhookEndpoint"))?;
        let (_, store, _) = parts(ctx);
        Ok(store
            .webhook_endpoint(&me.tenant, &id)
            .await?
            .map(Into::into))
    }
}

#[derive(Default)]
pub struct WebhooksMutation;

#[Object]
impl WebhooksMutation {
    /// Registers an endpoint; deliveries start with the events of commands that begin after it. The
    /// answer carries the signing secret, shown this once.
    async fn register_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The URL, the event types and a description.")]
        input: RegisterWebhookEndpointInput,
    ) -> ApiResult<WebhookEndpointWithSecret> {
        guard::require(ctx, needs!(Mutation, "registerWebhookEndpoint"))?;
        let id = uuid::Uuid::now_v7().to_string();
        let command = WebhookCommand::Register {
            endpoint_id: id.clone(),
            url: input.url,
            event_types: input.event_types,
            description: input.description,
            allow_private_addresses: settings(ctx).allow_private_addresses,
        };
        let secret = new_secret();
        run(ctx, command, Some(&secret), "input.").await?;
        Ok(WebhookEndpointWithSecret {
            endpoint: endpoint(ctx, &id).await?,
            secret,
        })
    }

    /// Changes an endpoint's URL, event types or description.
    async fn update_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
        #[graphql(desc = "What changes; omitted fields keep their value.")]
        input: UpdateWebhookEndpointInput,
    ) -> ApiResult<WebhookEndpoint> {
        known(ctx, &id, needs!(Mutation, "updateWebhookEndpoint")).await?;
        let command = WebhookCommand::Update {
            endpoint_id: id.to_string(),
            url: input.url,
            event_types: input.event_types,
            description: input.description,
            allow_private_addresses: settings(ctx).allow_private_addresses,
        };
        run(ctx, command, None, "input.").await?;
        endpoint(ctx, &id).await
    }

    /// Stops deliveries to an endpoint; they resume from the same place when it is enabled.
    async fn disable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
        #[graphql(desc = "Why, for the history.")] reason: Option<String>,
    ) -> ApiResult<WebhookEndpoint> {
        known(ctx, &id, needs!(Mutation, "disableWebhookEndpoint")).await?;
        let reason = super::shared::free_text("reason", reason, false)?;
        let command = WebhookCommand::Disable {
            endpoint_id: id.to_string(),
            reason,
        };
        run(ctx, command, None, "").await?;
        endpoint(ctx, &id).await
    }

    /// Resumes deliveries to a disabled endpoint, with the event it stopped at; failed
    /// attempts are forgotten.
    async fn enable_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> ApiResult<WebhookEndpoint> {
        let me = known(ctx, &id, needs!(Mutation, "enableWebhookEndpoint")).await?;
        let command = WebhookCommand::Enable {
            endpoint_id: id.to_string(),
        };
        run(ctx, command, None, "").await?;
        let (_, store, _) = parts(ctx);
        let state = store.webhook_delivery_state(&me.tenant, &id).await?;
        if let Some(state) = state.filter(|s| s.failures > 0) {
            store
                .redeliver_webhooks(&me.tenant, &id, Some(state.checkpoint))
                .await?;
        }
        endpoint(ctx, &id).await
    }

    /// Deletes an endpoint and its secret; nothing more is delivered to it. Its history
    /// stays.
    async fn delete_webhook_endpoint(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
    ) -> ApiResult<ID> {
        known(ctx, &id, needs!(Mutation, "deleteWebhookEndpoint")).await?;
        let command = WebhookCommand::Delete {
            endpoint_id: id.to_string(),
        };
        run(ctx, command, None, "").await?;
        Ok(id)
    }

    /// Gives the endpoint a new signing secret, shown this once. The old one keeps signing
    /// too (both signatures are sent) for `keepOldForHours`.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] id: ID,
        #[graphql(
            desc = "How long the old secret still signs, in hours (0 to 168; 24 by default).",
            default = 24
        )]
        keep_old_for_hours: i32,
    ) -> ApiResult<WebhookEndpointWithSecret> {
        known(ctx, &id, needs!(Mutation, "rotateWebhookSecret")).await?;
        if !(0..=168).contains(&keep_old_for_hours) {
            return Err(ApiError::argument(
                "keepOldForHours",
                Rule::Range,
                format!("keepOldForHours is 0 to 168 (default {DEFAULT_KEEP_OLD_HOURS})"),
            ));
        }
        let (_, _, clock) = parts(ctx);
        let command = WebhookCommand::RotateSecret {
            endpoint_id: id.to_string(),
            old_valid_until: clock.now() + chrono::Duration::hours(i64::from(keep_old_for_hours)),
        };
        let secret = new_secret();
        run(ctx, command, Some(&secret), "").await?;
        Ok(WebhookEndpointWithSecret {
            endpoint: endpoint(ctx, &id).await?,
            secret,
        })
    }

    /// Delivers again every wanted event after `after` (a cursor of the log, as the event
    /// history and the delivery log give out; null: from the beginning), in order.
    async fn redeliver_webhooks(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The endpoint's id.")] endpoint_id: ID,
        #[graphql(desc = "Replay the events after this cursor; null: the whole log.")]
        after: Option<String>,
    ) -> ApiResult<WebhookEndpoint> {
        let me = known(ctx, &endpoint_id, needs!(Mutation, "redeliverWebhooks")).await?;
        let after = after.as_deref().map(decode_cursor).transpose()?;
        let (_, store, _) = parts(ctx);
        store
            .redeliver_webhooks(&me.tenant, &endpoint_id, after)
            .await?;
        endpoint(ctx, &endpoint_id).await
    }
}

fn settings(ctx: &Context<'_>) -> WebhookSettings {
    ctx.data_opt::<WebhookSettings>()
        .copied()
        .unwrap_or_default()
}

/// `whsec_` and the base64 of 24 random bytes.
fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

/// FORBIDDEN without the ability; NOT_FOUND when the tenant has no such endpoint.
async fn known<'a>(
    ctx: &Context<'a>,
    id: &str,
    ability: Ability,
) -> ApiResult<&'a crate::RequestContext> {
    let me = guard::require(ctx, ability)?;
    let (_, store, _) = parts(ctx);
    match store.webhook_endpoint(&me.tenant, id).await? {
        Some(_) => Ok(me),
        None => Err(ApiError::NotFound(
            "no webhook endpoint with this id".into(),
        )),
    }
}

async fn endpoint(ctx: &Context<'_>, id: &str) -> ApiResult<WebhookEndpoint> {
    let (me, store, _) = parts(ctx);
    match store.webhook_endpoint(&me.tenant, id).await? {
        Some(record) => Ok(record.into()),
        None => Err(ApiError::Internal(format!(
            "webhook endpoint {id} committed but has no read-model row"
        ))),
    }
}

async fn run(
    ctx: &Context<'_>,
    command: WebhookCommand,
    secret: Option<&str>,
    prefix: &'static str,
) -> ApiResult<()> {
    let (me, store, clock) = parts(ctx);
    match store
        .webhook_command(command, secret, &me.metadata(clock.now()))
        .await
    {
        Ok(_) => Ok(()),
        Err(clientele_store::CommandError::Rejected(
            clientele_domain::tenant::TenantError::Invalid(violations),
        )) => Err(ApiError::BadUserInput { violations, prefix }),
        Err(other) => Err(other.into()),
    }
}
