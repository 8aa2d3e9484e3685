//! Mutations for customer users and activation (seeds 001, 003), the customer tree (seed
//! 003) and assignments (seed 004). Each is one command, answered from the read model.

use std::sync::Arc;

use async_graphql::{Context, Object, ID};
use clientele_domain::assignment::{check_entity_id, EntityKind as Kind};
use clientele_domain::customer::{
    Customer as CustomerAggregate, CustomerCommand, DashboardFacts, NewActivation, ParentFacts,
};
use clientele_domain::Rule;
use clientele_store::Store;
use sha2::{Digest, Sha256};

use crate::auth::{Authenticator, Grant, Role};
use crate::context::{Clock, RequestContext};
use crate::error::{ApiError, ApiResult};
use crate::guard;
use crate::mutation::run_customer_command;
use crate::types::customer::Customer;
use crate::types::relations::{
    ActivatedUser, ActivationDelivery, ActivationMethod, AddCustomerUserInput, Assignment,
    CustomerUser, EditCustomerUserInput, EntityKind, UserActivation,
};

/// Roles that manage a customer's users: staff, and the customer's own admin.
const USER_MANAGERS: &[Role] = &[
    Role::TenantAdmin,
    Role::Reseller,
    Role::Seller,
    Role::CustomerAdmin,
];

/// Sends activation emails; the server gives one when SMTP is configured.
pub trait Mailer: Send + Sync {
    /// Sends `link` to `to`; the error says why it could not be handed to the server.
    fn send_activation<'a>(
        &'a self,
        to: &'a str,
        link: &'a str,
        language: &'a str,
    ) -> futures::future::BoxFuture<'a, Result<(), String>>;
}

/// How activation tokens are made and delivered.
#[derive(Clone)]
pub struct ActivationSettings {
    /// The link's beginning; the token follows it (e.g. `https://portal.example/activate?token=`).
    pub link_prefix: String,
    /// How long a token lives.
    pub ttl: chrono::Duration,
    /// None: no SMTP configured, links are returned to the caller.
    pub mailer: Option<Arc<dyn Mailer>>,
    /// How long a token minted at activation lives.
    pub session_ttl: chrono::Duration,
}

impl Default for ActivationSettings {
    fn default() -> Self {
        ActivationSettings {
            link_prefix: "http://127.0.0.1:8080/activate?token=".into(),
            ttl: chrono::Duration::hours(24),
            mailer: None,
            session_ttl: chrono::Duration::hours(1),
        }
    }
}

/// The SHA-256 of an activation token, as events and read models keep it.
pub fn token_hash(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
}

/// A fresh token: 244 random bits from the operating system's generator.
fn fresh_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// A parent the caller names: BAD_USER_INPUT (`parentId`, UNKNOWN_CUSTOMER) unless it is a
/// customer the caller may see. The store checks again, in the command's transaction.
pub(crate) async fn visible_parent(ctx: &Context<'_>, id: &str) -> ApiResult<()> {
    match guard::visible_customer(ctx, id).await? {
        Some(record) if record.account_status != clientele_domain::AccountStatus::Deleted => Ok(()),
        _ => Err(ApiError::argument(
            "parentId",
            Rule::UnknownCustomer,
            format!("{id} is not a live customer of this tenant that you may see"),
        )
        .into()),
    }
}

#[derive(Default)]
pub struct RelationMutations;

fn ctx_parts<'a>(ctx: &Context<'a>) -> (&'a RequestContext, &'a Store, &'a Clock) {
    (
        ctx.data_unchecked::<RequestContext>(),
        ctx.data_unchecked::<Store>(),
        ctx.data_unchecked::<Clock>(),
    )
}

async fn user_of(ctx: &Context<'_>, customer: &str, user: &str) -> ApiResult<CustomerUser> {
    let (me, store, _) = ctx_parts(ctx);
    match store
        .customer_user(&me.tenant, user)
        .await
        .map_err(ApiError::from)?
    {
        Some(u) if u.customer_id == customer => Ok(u.into()),
        _ => Err(ApiError::NotFound("no such user of this customer".into()).into()),
    }
}

/// Runs a user command on a customer the caller may manage, and answers the user.
async fn user_command(
    ctx: &Context<'_>,
    customer_id: &str,
    user_id: &str,
    command: CustomerCommand,
    prefix: &'static str,
) -> ApiResult<CustomerUser> {
    guard::writable_customer(ctx, customer_id, USER_MANAGERS).await?;
    run_customer_command(ctx, customer_id, command, prefix).await?;
    user_of(ctx, customer_id, user_id).await
}

/// Issues a token to a user and delivers it; returns the activation to send back.
async fn issue(
    ctx: &Context<'_>,
    method: ActivationMethod,
) -> (String, NewActivation, ActivationSettings) {
    let settings = ctx
        .data_opt::<ActivationSettings>()
        .cloned()
        .unwrap_or_default();
    let clock = ctx.data_unchecked::<Clock>();
    let token = fresh_token();
    let activation = NewActivation {
        token_hash: token_hash(&token),
        expires_at: clock.now() + settings.ttl,
        method: method.into(),
    };
    (token, activation, settings)
}

async fn deliver(
    settings: &ActivationSettings,
    token: &str,
    method: ActivationMethod,
    user: &CustomerUser,
    expires_at: chrono::DateTime<chrono::Utc>,
) -> ActivationDelivery {
    let link = format!("{}{token}", settings.link_prefix);
    let mut email_sent = false;
    if let (ActivationMethod::SendEmail, Some(mailer)) = (method, &settings.mailer) {
        match mailer
            .send_activation(&user.email, &link, &user.language)
            .await
        {
            Ok(()) => email_sent = true,
            Err(error) => {
                tracing::warn!(user = %user.id.as_str(), %error, "activation email not sent; the link is returned instead")
            }
        }
    }
    ActivationDelivery {
        method,
        email_sent,
        link: (!email_sent).then_some(link),
        expires_at,
    }
}

fn entity(kind: Kind, id: &str) -> ApiResult<()> {
    check_entity_id(kind, id)
        .map_err(|e| ApiError::from(clientele_store::CommandError::Rejected(e)).into())
}

async fn assign(
    ctx: &Context<'_>,
    kind: Kind,
    customer: &str,
    entity_id: &str,
) -> ApiResult<Assignment> {
    guard::writable_customer(ctx, customer, guard::TENANT_ADMINS).await?;
    entity(kind, entity_id)?;
    let (me, store, clock) = ctx_parts(ctx);
    let written = store
        .assign(kind, customer, entity_id, &me.metadata(clock.now()))
        .await
        .map_err(ApiError::from)?;
    Ok(Assignment {
        kind: kind.into(),
        entity_id: ID(entity_id.to_string()),
        customer_id: Some(ID(customer.to_string())),
        changed: written > 0,
    })
}

async fn unassign(ctx: &Context<'_>, kind: Kind, entity_id: &str) -> ApiResult<Assignment> {
    guard::require(ctx, guard::TENANT_ADMINS)?;
    entity(kind, entity_id)?;
    let (me, store, clock) = ctx_parts(ctx);
    let written = store
        .unassign(kind, "", entity_id, &me.metadata(clock.now()))
        .await
        .map_err(ApiError::from)?;
    Ok(Assignment {
        kind: kind.into(),
        entity_id: ID(entity_id.to_string()),
        customer_id: None,
        changed: written > 0,
    })
}

#[Object]
impl RelationMutations {
    /// Adds a user to a customer and issues its one-time activation token (valid 24 hours
    /// by default): emailed with SEND_EMAIL when SMTP is configured, otherwise the link is
    /// returned. The email is unique within the tenant.
    async fn add_customer_user(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        input: AddCustomerUserInput,
    ) -> ApiResult<UserActivation> {
        guard::writable_customer(ctx, &customer_id, USER_MANAGERS).await?;
        let (token, activation, settings) = issue(ctx, input.activation_method).await;
        let expires_at = activation.expires_at;
        let user_id = uuid::Uuid::now_v7().to_string();
        let command = CustomerCommand::AddUser {
            user_id: user_id.clone(),
            draft: (&input).into(),
            activation,
        };
        run_customer_command(ctx, &customer_id, command, "input.").await?;
        let user = user_of(ctx, &customer_id, &user_id).await?;
        let activation = deliver(
            &settings,
            &token,
            input.activation_method,
            &user,
            expires_at,
        )
        .await;
        Ok(UserActivation { user, activation })
    }

    /// Changes a user's email, names, language or user type.
    async fn edit_customer_user(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        user_id: ID,
        input: EditCustomerUserInput,
    ) -> ApiResult<CustomerUser> {
        let command = CustomerCommand::EditUser {
            user_id: user_id.to_string(),
            changes: input.into(),
        };
        user_command(ctx, &customer_id, &user_id, command, "input.").await
    }

    /// Disables a user: it cannot activate (and its activation-minted tokens stop working).
    async fn disable_customer_user(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        user_id: ID,
    ) -> ApiResult<CustomerUser> {
        let command = CustomerCommand::DisableUser {
            user_id: user_id.to_string(),
        };
        user_command(ctx, &customer_id, &user_id, command, "").await
    }

    /// Enables a disabled user again.
    async fn enable_customer_user(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        user_id: ID,
    ) -> ApiResult<CustomerUser> {
        let command = CustomerCommand::EnableUser {
            user_id: user_id.to_string(),
        };
        user_command(ctx, &customer_id, &user_id, command, "").await
    }

    /// Removes a user; its email becomes free again.
    async fn remove_customer_user(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        user_id: ID,
    ) -> ApiResult<bool> {
        guard::writable_customer(ctx, &customer_id, USER_MANAGERS).await?;
        let command = CustomerCommand::RemoveUser {
            user_id: user_id.to_string(),
        };
        run_customer_command(ctx, &customer_id, command, "").await?;
        Ok(true)
    }

    /// Issues a new activation token to a user not yet activated; the previous one stops
    /// working.
    async fn reissue_activation(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        user_id: ID,
        #[graphql(default)] method: ActivationMethod,
    ) -> ApiResult<UserActivation> {
        guard::writable_customer(ctx, &customer_id, USER_MANAGERS).await?;
        user_of(ctx, &customer_id, &user_id).await?;
        let (token, activation, settings) = issue(ctx, method).await;
        let expires_at = activation.expires_at;
        let command = CustomerCommand::IssueActivation {
            user_id: user_id.to_string(),
            activation,
        };
        run_customer_command(ctx, &customer_id, command, "").await?;
        let user = user_of(ctx, &customer_id, &user_id).await?;
        let activation = deliver(&settings, &token, method, &user, expires_at).await;
        Ok(UserActivation { user, activation })
    }

    /// Activates a user with the token of its activation link, once, before it expires.
    /// The only operation that needs no bearer token: the activation token is the
    /// credential. Answers a token acting as the user when this service mints tokens.
    async fn activate_customer_user(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> ApiResult<ActivatedUser> {
        let store = ctx.data_unchecked::<Store>();
        let clock = ctx.data_unchecked::<Clock>();
        let hash = token_hash(token.trim());
        let unknown = || -> async_graphql::Error {
            ApiError::NotFound(
                "this activation token is unknown, was replaced by a newer one, or was already used"
                    .into(),
            )
            .into()
        };
        let Some(user) = store
            .user_by_activation(&hash)
            .await
            .map_err(ApiError::from)?
        else {
            return Err(unknown());
        };
        let now = clock.now();
        let role = match user.user_type {
            clientele_domain::customer::UserType::CustomerAdmin => Role::CustomerAdmin,
            clientele_domain::customer::UserType::CustomerUser => Role::CustomerUser,
        };
        let subject = format!("customer-user:{}", user.user_id);
        let metadata = clientele_store::EventMetadata {
            tenant: user.tenant.clone(),
            actor: subject.clone(),
            role: Some(role.as_str().to_string()),
            on_behalf_of: None,
            request_id: ctx
                .data_opt::<RequestContext>()
                .map(|r| r.request_id.clone())
                .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
            occurred_at: now,
        };
        let command = CustomerCommand::ActivateUser {
            token_hash: hash,
            now,
        };
        store
            .execute::<CustomerAggregate>(&user.customer_id, command, &metadata)
            .await
            .map_err(|e| ApiError::from_customer(e, ""))?;
        let activated = store
            .customer_user(&user.tenant, &user.user_id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(unknown)?;
        let settings = ctx
            .data_opt::<ActivationSettings>()
            .cloned()
            .unwrap_or_default();
        let minted = ctx.data_opt::<Arc<Authenticator>>().and_then(|auth| {
            let grant = Grant {
                customer: Some(user.customer_id.clone()),
                ..Grant::new(subject, user.tenant.clone(), role)
            };
            auth.mint(grant, now, settings.session_ttl).ok()
        });
        Ok(ActivatedUser {
            user: activated.into(),
            token_expires_at: minted.as_ref().map(|(_, at)| *at),
            token: minted.map(|(t, _)| t),
        })
    }

    /// Puts a customer under another (`parentId`), or at the top (`parentId: null`). A
    /// customer cannot go under itself or one of its own inner customers (rule CYCLE).
    async fn move_customer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        parent_id: Option<ID>,
    ) -> ApiResult<Customer> {
        guard::writable_customer(ctx, &id, guard::MANAGERS).await?;
        if let Some(parent) = &parent_id {
            visible_parent(ctx, parent).await?;
        }
        let command = CustomerCommand::MoveCustomer {
            id: id.to_string(),
            parent: parent_id.map(|p| ParentFacts::unchecked(p.to_string())),
        };
        run_customer_command(ctx, &id, command, "").await
    }

    /// Sets the customer's home dashboard (one of its dashboards, or null) and whether its
    /// toolbar is hidden (seed 004).
    async fn set_home_dashboard(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        dashboard_id: Option<ID>,
        #[graphql(default)] hide_toolbar: bool,
    ) -> ApiResult<Customer> {
        guard::writable_customer(ctx, &customer_id, guard::TENANT_ADMINS).await?;
        if let Some(d) = &dashboard_id {
            entity(Kind::Dashboard, d)?;
        }
        let command = CustomerCommand::SetHomeDashboard {
            dashboard: dashboard_id.map(|d| DashboardFacts {
                id: d.to_string(),
                assigned: false,
            }),
            hide_toolbar,
        };
        run_customer_command(ctx, &customer_id, command, "").await
    }

    /// Assigns a device to a customer; a device has one customer at a time, and
    /// re-assigning names both customers in the event.
    async fn assign_device(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        device_id: ID,
    ) -> ApiResult<Assignment> {
        assign(ctx, Kind::Device, &customer_id, &device_id).await
    }

    /// Takes a device from its customer.
    async fn unassign_device(&self, ctx: &Context<'_>, device_id: ID) -> ApiResult<Assignment> {
        unassign(ctx, Kind::Device, &device_id).await
    }

    /// Assigns an asset to a customer (one customer at a time).
    async fn assign_asset(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        asset_id: ID,
    ) -> ApiResult<Assignment> {
        assign(ctx, Kind::Asset, &customer_id, &asset_id).await
    }

    /// Takes an asset from its customer.
    async fn unassign_asset(&self, ctx: &Context<'_>, asset_id: ID) -> ApiResult<Assignment> {
        unassign(ctx, Kind::Asset, &asset_id).await
    }

    /// Assigns an edge to a customer (one customer at a time).
    async fn assign_edge(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        edge_id: ID,
    ) -> ApiResult<Assignment> {
        assign(ctx, Kind::Edge, &customer_id, &edge_id).await
    }

    /// Takes an edge from its customer.
    async fn unassign_edge(&self, ctx: &Context<'_>, edge_id: ID) -> ApiResult<Assignment> {
        unassign(ctx, Kind::Edge, &edge_id).await
    }

    /// Assigns a dashboard to a customer; a dashboard may be assigned to many customers.
    async fn assign_dashboard(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        dashboard_id: ID,
    ) -> ApiResult<Assignment> {
        assign(ctx, Kind::Dashboard, &customer_id, &dashboard_id).await
    }

    /// Takes a dashboard from one customer (not its home dashboard: CONFLICT).
    async fn unassign_dashboard(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
        dashboard_id: ID,
    ) -> ApiResult<Assignment> {
        guard::writable_customer(ctx, &customer_id, guard::TENANT_ADMINS).await?;
        entity(Kind::Dashboard, &dashboard_id)?;
        let (me, store, clock) = ctx_parts(ctx);
        let written = store
            .unassign(
                Kind::Dashboard,
                &customer_id,
                &dashboard_id,
                &me.metadata(clock.now()),
            )
            .await
            .map_err(ApiError::from)?;
        Ok(Assignment {
            kind: EntityKind::Dashboard,
            entity_id: dashboard_id,
            customer_id: Some(customer_id),
            changed: written > 0,
        })
    }
}
