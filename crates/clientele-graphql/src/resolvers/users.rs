//! A customer's users: adding, editing, disabling, enabling and removing them, and their
//! one-time activation (issued, delivered by email or as a link, and used once).

use std::sync::Arc;

use async_graphql::{Context, Object, ID};
use clientele_domain::customer::{
    Customer as CustomerAggregate, CustomerCommand, NewActivation, UserCommand, UserDraft,
};
use clientele_store::Store;
use sha2::{Digest, Sha256};

use super::shared::{parts, run_customer_command};
use crate::auth::{Authenticator, Grant, Role};
use crate::context::{Clock, RequestContext};
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};
use crate::mail::{Mail, Mailer};
use crate::types::customer::Customer;
use crate::types::users::{
    ActivatedUser, ActivationDelivery, ActivationMethod, AddCustomerUserInput, CustomerUser,
    EditCustomerUserInput, FirstAdminInput, UserActivation, UserType,
};

/// Creates a customer and its first admin user in one transaction (`createCustomer` with
/// `firstAdmin`): with a password the user is active and can sign in; without one it is
/// emailed an activation link once the transaction commits.
pub(crate) async fn create_with_admin(
    ctx: &Context<'_>,
    id: &str,
    create: CustomerCommand,
    admin: FirstAdminInput,
) -> ApiResult<Customer> {
    const PREFIX: &str = "input.firstAdmin.";
    guard::require(ctx, needs!(Mutation, "addCustomerUser"))?;
    let (me, store, clock) = parts(ctx);
    let settings = activation_settings(ctx);
    let now = clock.now();
    let token = fresh_token();
    let expires_at = now + settings.ttl;
    let method = match admin.password {
        Some(_) => ActivationMethod::ShowLink,
        None => ActivationMethod::SendEmail,
    };
    let user_id = uuid::Uuid::now_v7().to_string();
    let draft = UserDraft {
        email: admin.email.clone(),
        given_name: admin.given_name,
        family_name: admin.family_name,
        language: admin.language,
        user_type: UserType::CustomerAdmin.into(),
    };
    let mut commands = vec![
        create,
        CustomerCommand::User(UserCommand::AddUser {
            user_id: user_id.clone(),
            draft,
            activation: NewActivation {
                token_hash: token_hash(&token),
                expires_at,
                method: method.into(),
            },
        }),
    ];
    if let Some(password) = admin.password {
        // The rules first, so a refused password costs no hashing (and writes nothing).
        clientele_domain::customer::passwords::check_password(&password, &admin.email).map_err(
            |violations| ApiError::BadUserInput {
                violations,
                prefix: PREFIX,
            },
        )?;
        let password_hash = super::sign_in::hash_password(password.clone()).await?;
        // The token issued with the user is used at once: it is never shown to anyone.
        commands.push(CustomerCommand::User(UserCommand::SetPassword {
            token_hash: token_hash(&token),
            password,
            password_hash,
            now,
        }));
    }
    let committed = store
        .execute_all::<CustomerAggregate>(id, commands, &me.metadata(now))
        .await
        .map_err(|(i, e)| ApiError::from_customer(e, if i == 0 { "input." } else { PREFIX }))?;
    if method == ActivationMethod::SendEmail {
        let user = user_of(ctx, id, &user_id).await?;
        deliver(&me.tenant, &settings, &token, method, &user, expires_at).await;
    }
    match committed.created_record() {
        Some(record) => Ok(record.into()),
        None => super::shared::stored(store, &me.tenant, id).await,
    }
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
pub(crate) fn fresh_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The user of this customer, or NOT_FOUND.
/// A user id is a UUID: a malformed one names no user (NOT_FOUND, as for an unknown one)
/// and never reaches SQL or the aggregate.
fn user_id_parsed(user: &str) -> ApiResult<()> {
    match crate::ids::is_uuid(user) {
        true => Ok(()),
        false => Err(ApiError::NotFound("no such user of this customer".into())),
    }
}

async fn user_of(ctx: &Context<'_>, customer: &str, user: &str) -> ApiResult<CustomerUser> {
    user_id_parsed(user)?;
    let (me, store, _) = parts(ctx);
    match store.customer_user(&me.tenant, user).await? {
        Some(u) if u.customer_id == customer => Ok(u.into()),
        _ => Err(ApiError::NotFound("no such user of this customer".into())),
    }
}

/// Runs a user command on a customer the caller may change with `ability`, and answers
/// the user.
async fn user_command(
    ctx: &Context<'_>,
    ability: guard::Ability,
    ids: (&str, &str),
    command: CustomerCommand,
    prefix: &'static str,
) -> ApiResult<CustomerUser> {
    let (customer_id, user_id) = ids;
    guard::customer_for(ctx, customer_id, ability).await?;
    user_id_parsed(user_id)?;
    run_customer_command(ctx, customer_id, command, prefix).await?;
    user_of(ctx, customer_id, user_id).await
}

/// Issues a one-time activation token, runs the command that records its hash, and
/// delivers the token (by email, or as a link in the answer).
async fn with_activation(
    ctx: &Context<'_>,
    ids: (&str, &str),
    method: ActivationMethod,
    prefix: &'static str,
    command: impl FnOnce(NewActivation) -> CustomerCommand,
) -> ApiResult<UserActivation> {
    let (customer_id, user_id) = ids;
    let settings = activation_settings(ctx);
    let clock = ctx.data_unchecked::<Clock>();
    let token = fresh_token();
    let expires_at = clock.now() + settings.ttl;
    let activation = NewActivation {
        token_hash: token_hash(&token),
        expires_at,
        method: method.into(),
    };
    run_customer_command(ctx, customer_id, command(activation), prefix).await?;
    let user = user_of(ctx, customer_id, user_id).await?;
    let tenant = &ctx.data_unchecked::<RequestContext>().tenant;
    let activation = deliver(tenant, &settings, &token, method, &user, expires_at).await;
    Ok(UserActivation { user, activation })
}

pub(crate) fn activation_settings(ctx: &Context<'_>) -> ActivationSettings {
    ctx.data_opt::<ActivationSettings>()
        .cloned()
        .unwrap_or_default()
}

async fn deliver(
    tenant: &str,
    settings: &ActivationSettings,
    token: &str,
    method: ActivationMethod,
    user: &CustomerUser,
    expires_at: chrono::DateTime<chrono::Utc>,
) -> ActivationDelivery {
    let link = format!("{}{token}", settings.link_prefix);
    let mut email_sent = false;
    if let (ActivationMethod::SendEmail, Some(mailer)) = (method, &settings.mailer) {
        let mail = Mail {
            kind: "activation",
            tenant: tenant.to_string(),
            to: user.email.clone(),
            language: user.language.clone(),
            values: vec![
                ("link", link.clone()),
                ("expiresAt", expires_at.to_rfc3339()),
            ],
        };
        match mailer.send(mail).await {
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

#[derive(Default)]
pub struct UsersMutation;

#[Object]
impl UsersMutation {
    /// Adds a user to a customer and issues its one-time activation token (valid 24 hours
    /// by default): emailed with SEND_EMAIL when SMTP is configured, otherwise the link is
    /// returned. The email is unique within the tenant.
    async fn add_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer the user belongs to.")] customer_id: ID,
        #[graphql(desc = "The new user.")] input: AddCustomerUserInput,
    ) -> ApiResult<UserActivation> {
        guard::customer_for(ctx, &customer_id, needs!(Mutation, "addCustomerUser")).await?;
        let user_id = uuid::Uuid::now_v7().to_string();
        let method = input.activation_method;
        let ids = (customer_id.as_str(), user_id.as_str());
        with_activation(ctx, ids, method, "input.", |activation| {
            CustomerCommand::User(UserCommand::AddUser {
                user_id: user_id.clone(),
                draft: (&input).into(),
                activation,
            })
        })
        .await
    }

    /// Changes a user's email, names, language or user type.
    async fn edit_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's customer.")] customer_id: ID,
        #[graphql(desc = "The user's id.")] user_id: ID,
        #[graphql(desc = "The fields to change.")] input: EditCustomerUserInput,
    ) -> ApiResult<CustomerUser> {
        let command = CustomerCommand::User(UserCommand::EditUser {
            user_id: user_id.to_string(),
            changes: input.into(),
        });
        let needed = needs!(Mutation, "editCustomerUser");
        user_command(ctx, needed, (&customer_id, &user_id), command, "input.").await
    }

    /// Disables a user: it cannot activate, and every token it was issued stops working at
    /// once (enabling it again does not bring them back).
    async fn disable_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's customer.")] customer_id: ID,
        #[graphql(desc = "The user's id.")] user_id: ID,
    ) -> ApiResult<CustomerUser> {
        let command = CustomerCommand::User(UserCommand::DisableUser {
            user_id: user_id.to_string(),
        });
        let needed = needs!(Mutation, "disableCustomerUser");
        user_command(ctx, needed, (&customer_id, &user_id), command, "").await
    }

    /// Enables a disabled user again.
    async fn enable_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's customer.")] customer_id: ID,
        #[graphql(desc = "The user's id.")] user_id: ID,
    ) -> ApiResult<CustomerUser> {
        let command = CustomerCommand::User(UserCommand::EnableUser {
            user_id: user_id.to_string(),
        });
        let needed = needs!(Mutation, "enableCustomerUser");
        user_command(ctx, needed, (&customer_id, &user_id), command, "").await
    }

    /// Removes a user; its email becomes free again and its tokens stop working at once.
    async fn remove_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's customer.")] customer_id: ID,
        #[graphql(desc = "The user's id.")] user_id: ID,
    ) -> ApiResult<bool> {
        let needed = needs!(Mutation, "removeCustomerUser");
        guard::customer_for(ctx, &customer_id, needed).await?;
        user_id_parsed(&user_id)?;
        let command = CustomerCommand::User(UserCommand::RemoveUser {
            user_id: user_id.to_string(),
        });
        run_customer_command(ctx, &customer_id, command, "").await?;
        Ok(true)
    }

    /// Issues a new activation token to a user not yet activated; the previous one stops
    /// working.
    async fn reissue_activation(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The user's customer.")] customer_id: ID,
        #[graphql(desc = "The user's id (pending activation).")] user_id: ID,
        #[graphql(
            default,
            desc = "How the new link reaches the user; SHOW_LINK by default."
        )]
        method: ActivationMethod,
    ) -> ApiResult<UserActivation> {
        let needed = needs!(Mutation, "reissueActivation");
        guard::customer_for(ctx, &customer_id, needed).await?;
        user_of(ctx, &customer_id, &user_id).await?;
        let ids = (customer_id.as_str(), user_id.as_str());
        with_activation(ctx, ids, method, "", |activation| {
            CustomerCommand::User(UserCommand::IssueActivation {
                user_id: user_id.to_string(),
                activation,
            })
        })
        .await
    }

    /// Activates a user with the token of its activation link, once, before it expires.
    /// The only operation that needs no bearer token: the activation token is the
    /// credential. Answers a token acting as the user when this service mints tokens.
    async fn activate_customer_user(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The one-time activation token from the link.")] token: String,
    ) -> ApiResult<ActivatedUser> {
        // Ability::ActivateUser: held by no role; the request may carry no principal, so
        // this resolver reads neither `guard::principal` nor `parts`.
        let store = ctx.data_unchecked::<Store>();
        let clock = ctx.data_unchecked::<Clock>();
        let hash = token_hash(token.trim());
        let unknown = || {
            ApiError::NotFound(
                "this activation token is unknown, was replaced by a newer one, or was already used"
                    .into(),
            )
        };
        let Some(user) = store.user_by_activation(&hash).await? else {
            return Err(unknown());
        };
        let now = clock.now();
        let role = match user.user_type {
            clientele_domain::customer::UserType::CustomerAdmin => Role::CustomerAdmin,
            clientele_domain::customer::UserType::CustomerUser => Role::CustomerUser,
        };
        let subject = clientele_domain::session::user_subject(&user.user_id);
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
        let command = CustomerCommand::User(UserCommand::ActivateUser {
            token_hash: hash,
            now,
        });
        store
            .execute::<CustomerAggregate>(&user.customer_id, command, &metadata)
            .await
            .map_err(|e| ApiError::from_customer(e, ""))?;
        let activated = store
            .customer_user(&user.tenant, &user.user_id)
            .await?
            .ok_or_else(unknown)?;
        let settings = activation_settings(ctx);
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
}
