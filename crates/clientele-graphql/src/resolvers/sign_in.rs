//! Signing in for real: a password set through the activation (or reset) link, `signIn`
//! with tenant, email and password, short-lived access tokens with rotating refresh
//! tokens, `signOut`, and password resets by mail.
//!
//! A session is a `sid`: every access token and the refresh-token family of one sign-in
//! carry it. Ending it (sign-out, a reused refresh token) is a `SessionEnded` event, so
//! every instance refuses its tokens at once (`clientele_store::Sessions`); disabling or
//! removing the user, and a password reset, end all its sessions by subject.
//!
//! These mutations need no bearer token: the credential is in the arguments. A wrong
//! password, an unknown email and a disabled user get the same answer and cost the same
//! argon2id verification, so the answer does not tell which emails exist.

use std::sync::{Arc, OnceLock};

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordVerifier, Version};
use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Duration, Utc};
use clientele_domain::customer::{
    Customer as CustomerAggregate, CustomerCommand, UserCommand, UserStatus, UserType,
};
use clientele_domain::session::user_subject;
use clientele_store::{EventMetadata, RefreshToken, Rotation, SessionOf, Store, UserRecord};

use super::users::{activation_settings, fresh_token, token_hash};
use crate::auth::{Authenticator, Grant, Role};
use crate::context::{Clock, RequestContext};
use crate::error::{ApiError, ApiResult};
use crate::mail::Mail;
use crate::types::users::CustomerUser;

/// How long sign-in tokens live.
#[derive(Clone, Copy, Debug)]
pub struct SignInSettings {
    /// An access token (15 minutes by default).
    pub access_ttl: Duration,
    /// A refresh token; each refresh issues a new one with this lifetime (30 days).
    pub refresh_ttl: Duration,
    /// A password-reset link (1 hour).
    pub reset_ttl: Duration,
}

impl Default for SignInSettings {
    fn default() -> Self {
        SignInSettings {
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(30),
            reset_ttl: Duration::hours(1),
        }
    }
}

/// The address a request came from (the TCP peer), put in the request by the HTTP layer.
#[derive(Clone, Copy, Debug)]
pub struct ClientAddress(pub std::net::IpAddr);

type Limiter<K> = governor::DefaultKeyedRateLimiter<K>;

/// Limits on sign-in attempts (governor's GCRA): per account (tenant and email, whether
/// it exists or not) a burst of 10, then one a minute; per client address a burst of 100,
/// then one a second. Every attempt counts, right or wrong.
pub struct SignInLimits {
    account: Limiter<(String, String)>,
    address: Limiter<std::net::IpAddr>,
    /// Accounts whose lockout was recorded, until when; so it is one event per lockout.
    recorded: std::sync::Mutex<std::collections::HashMap<(String, String), DateTime<Utc>>>,
}

impl Default for SignInLimits {
    fn default() -> Self {
        use governor::Quota;
        use std::num::NonZeroU32;
        let n = |v| NonZeroU32::new(v).expect("not zero");
        SignInLimits {
            account: governor::RateLimiter::keyed(Quota::per_minute(n(1)).allow_burst(n(10))),
            address: governor::RateLimiter::keyed(Quota::per_second(n(1)).allow_burst(n(100))),
            recorded: Default::default(),
        }
    }
}

/// What a sign-in, a refresh or a password set through a link answers.
#[derive(SimpleObject)]
pub struct SessionTokens {
    /// A bearer token for `/graphql` (short-lived).
    access_token: String,
    /// When the access token expires.
    access_token_expires_at: DateTime<Utc>,
    /// Present it to `refreshSession` for new tokens (once: it is replaced each time), or
    /// to `signOut`.
    refresh_token: String,
    /// When the refresh token expires.
    refresh_token_expires_at: DateTime<Utc>,
    /// The signed-in user.
    user: CustomerUser,
}

/// The answer once the limits are reached (for every account, existing or not).
const TOO_MANY: &str = "too many sign-in attempts; wait a minute and try again";

/// Records a lockout of an existing account as an event, once per lockout, after the
/// answer (so its time tells nothing).
fn record_lockout(
    ctx: &Context<'_>,
    limits: &SignInLimits,
    account: (String, String),
    until: DateTime<Utc>,
    address: Option<std::net::IpAddr>,
    now: DateTime<Utc>,
) {
    {
        let mut recorded = limits.recorded.lock().expect("not poisoned");
        recorded.retain(|_, at| *at > now);
        if recorded.contains_key(&account) {
            return;
        }
        recorded.insert(account.clone(), until);
    }
    let store = ctx.data_unchecked::<Store>().clone();
    let request_id = request_id(ctx);
    tokio::spawn(async move {
        let Ok(Some((user, _))) = store.user_for_sign_in(&account.0, &account.1).await else {
            return;
        };
        tracing::warn!(user = %user.user_id, %until, "sign-in to this account is locked");
        let command = CustomerCommand::User(UserCommand::RecordLockout {
            user_id: user.user_id.clone(),
            until,
            address: address.map(|a| a.to_string()),
        });
        let metadata = EventMetadata {
            tenant: user.tenant.clone(),
            actor: "sign-in-limits".into(),
            role: None,
            on_behalf_of: None,
            request_id,
            occurred_at: now,
        };
        if let Err(error) = store
            .execute::<CustomerAggregate>(&user.customer_id, command, &metadata)
            .await
        {
            tracing::warn!(%error, "a lockout could not be recorded");
        }
    });
}

/// The one answer to every failed sign-in.
const WRONG: &str = "the email or password is wrong, or the account is disabled";

/// Every refused sign-in answers no sooner than this after it began: a known email costs a
/// read of the user and its key that an unknown one does not, and on a busy machine that
/// showed (about 10 ms, 25%), so the answer waits out the difference. Well above an
/// argon2id check (tens of milliseconds), and harmless to a person who mistyped.
const REFUSAL_FLOOR: std::time::Duration = std::time::Duration::from_millis(250);

/// argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1).
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The argon2id PHC string of `password`, with a fresh salt (on a blocking thread).
pub(crate) async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::Internal(format!("hashing a password failed: {e}")))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the hashing task failed: {e}")))?
}

/// A hash no password matches, verified for unknown emails so they cost the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        argon2()
            .hash_password(fresh_token().as_bytes(), &salt)
            .expect("hashing works")
            .to_string()
    })
}

/// Whether `password` matches the PHC string `hash` (on a blocking thread).
async fn verify_password(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash).is_ok_and(|parsed| {
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
    })
    .await
    .unwrap_or(false)
}

fn role_of(user: &UserRecord) -> Role {
    match user.user_type {
        UserType::CustomerAdmin => Role::CustomerAdmin,
        UserType::CustomerUser => Role::CustomerUser,
    }
}

fn settings(ctx: &Context<'_>) -> SignInSettings {
    ctx.data_opt::<SignInSettings>()
        .copied()
        .unwrap_or_default()
}

fn request_id(ctx: &Context<'_>) -> String {
    ctx.data_opt::<RequestContext>()
        .map(|r| r.request_id.clone())
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string())
}

/// The metadata of events a user's own sign-in steps write (the user is the actor).
fn user_metadata(ctx: &Context<'_>, user: &UserRecord, now: DateTime<Utc>) -> EventMetadata {
    EventMetadata {
        tenant: user.tenant.clone(),
        actor: user_subject(&user.user_id),
        role: Some(role_of(user).as_str().to_string()),
        on_behalf_of: None,
        request_id: request_id(ctx),
        occurred_at: now,
    }
}

/// Mints an access token of `session` for the user, issued no earlier than the subject's
/// last end of sessions (an `iat` in whole seconds must not fall before it).
fn access_token(
    ctx: &Context<'_>,
    user: &UserRecord,
    session: &str,
    now: DateTime<Utc>,
) -> ApiResult<(String, DateTime<Utc>)> {
    let auth = ctx.data_unchecked::<Arc<Authenticator>>();
    let store = ctx.data_unchecked::<Store>();
    let subject = user_subject(&user.user_id);
    let issue_at = match store.sessions().not_before(&user.tenant, &subject) {
        Some(not_before) if not_before.timestamp() >= now.timestamp() => {
            DateTime::from_timestamp(not_before.timestamp() + 1, 0).unwrap_or(now)
        }
        _ => now,
    };
    let grant = Grant {
        customer: Some(user.customer_id.clone()),
        sid: Some(session.to_string()),
        ..Grant::new(subject, user.tenant.clone(), role_of(user))
    };
    let ttl = settings(ctx).access_ttl - (issue_at - now);
    auth.mint(grant, issue_at, ttl)
        .map_err(|e| ApiError::Internal(format!("minting a token failed: {e}")))
}

/// Starts a new session for the user: an access token and the first refresh token.
async fn start_session(ctx: &Context<'_>, user: UserRecord) -> ApiResult<SessionTokens> {
    let store = ctx.data_unchecked::<Store>();
    let now = ctx.data_unchecked::<Clock>().now();
    let session = uuid::Uuid::new_v4().to_string();
    let refresh = fresh_token();
    let stored = RefreshToken {
        tenant: user.tenant.clone(),
        session: session.clone(),
        customer_id: user.customer_id.clone(),
        user_id: user.user_id.clone(),
        issued_at: now,
        expires_at: now + settings(ctx).refresh_ttl,
    };
    store
        .store_refresh_token(&token_hash(&refresh), &stored)
        .await?;
    answer(ctx, user, &session, refresh, stored.expires_at, now)
}

fn answer(
    ctx: &Context<'_>,
    user: UserRecord,
    session: &str,
    refresh: String,
    refresh_expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> ApiResult<SessionTokens> {
    let (access, access_expires_at) = access_token(ctx, &user, session, now)?;
    Ok(SessionTokens {
        access_token: access,
        access_token_expires_at: access_expires_at,
        refresh_token: refresh,
        refresh_token_expires_at: refresh_expires_at,
        user: user.into(),
    })
}

/// Ends a session everywhere: its refresh tokens, and a `SessionEnded` event so every
/// instance refuses its access tokens.
async fn end_session(ctx: &Context<'_>, token: &RefreshToken) -> ApiResult<()> {
    let store = ctx.data_unchecked::<Store>();
    let now = ctx.data_unchecked::<Clock>().now();
    store
        .revoke_refresh_session(&token.tenant, &token.session)
        .await?;
    let Some(user) = store.customer_user(&token.tenant, &token.user_id).await? else {
        return Ok(()); // Removed: its sessions ended with it.
    };
    let command = CustomerCommand::User(UserCommand::EndSession {
        user_id: user.user_id.clone(),
        session: token.session.clone(),
        expires_at: now + settings(ctx).access_ttl,
        now,
    });
    let metadata = user_metadata(ctx, &user, now);
    match store
        .execute::<CustomerAggregate>(&user.customer_id, command, &metadata)
        .await
    {
        Ok(_) => Ok(()),
        // A deleted customer's sessions ended with it.
        Err(clientele_store::CommandError::Rejected(
            clientele_domain::customer::CustomerError::Deleted,
        )) => Ok(()),
        Err(e) => Err(ApiError::from_customer(e, "")),
    }
}

#[derive(Default)]
pub struct SignInMutation;

#[Object]
impl SignInMutation {
    /// Sets the user's password with the one-time token of an activation or reset link
    /// (the activation page calls this) and signs the user in. The password has 8 to 128
    /// characters (12 or more recommended), is not the user's email and not a commonly
    /// used one (BAD_USER_INPUT, field `password`, rule LENGTH, SAME_AS_EMAIL or
    /// COMMON_PASSWORD). A reset ends every other session of the user. Needs no bearer token.
    async fn set_password(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The one-time token from the activation or reset link.")] token: String,
        #[graphql(
            desc = "The new password: 8 to 128 characters, not the email, not a common password."
        )]
        password: String,
    ) -> ApiResult<SessionTokens> {
        let store = ctx.data_unchecked::<Store>();
        let now = ctx.data_unchecked::<Clock>().now();
        let hash = token_hash(token.trim());
        let unknown = || {
            ApiError::NotFound(
                "this link is unknown, was replaced by a newer one, or was already used".into(),
            )
        };
        let Some(user) = store.user_by_activation(&hash).await? else {
            return Err(unknown());
        };
        // The rules first, so a refused password costs no hashing.
        clientele_domain::customer::passwords::check_password(&password, &user.email).map_err(
            |violations| ApiError::BadUserInput {
                violations,
                prefix: "",
            },
        )?;
        let password_hash = hash_password(password.clone()).await?;
        let command = CustomerCommand::User(UserCommand::SetPassword {
            token_hash: hash,
            password,
            password_hash,
            now,
        });
        let metadata = user_metadata(ctx, &user, now);
        store
            .execute::<CustomerAggregate>(&user.customer_id, command, &metadata)
            .await
            .map_err(|e| ApiError::from_customer(e, ""))?;
        let user = store
            .customer_user(&user.tenant, &user.user_id)
            .await?
            .ok_or_else(unknown)?;
        start_session(ctx, user).await
    }

    /// Signs a user of a customer in with its tenant, email and password: a short-lived
    /// access token (15 minutes) and a refresh token. A wrong password, an unknown email
    /// and a disabled user all get UNAUTHENTICATED with the same message. Needs no bearer
    /// token.
    async fn sign_in(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant the user belongs to.")] tenant: String,
        #[graphql(desc = "The user's email (case-insensitive).")] email: String,
        #[graphql(desc = "The user's password.")] password: String,
    ) -> ApiResult<SessionTokens> {
        let started = tokio::time::Instant::now();
        let store = ctx.data_unchecked::<Store>();
        let address = ctx.data_opt::<ClientAddress>().map(|a| a.0);
        let account = (tenant.clone(), email.trim().to_lowercase());
        if let Some(limits) = ctx.data_opt::<Arc<SignInLimits>>() {
            let now = ctx.data_unchecked::<Clock>().now();
            if let Some(address) = address {
                if limits.address.check_key(&address).is_err() {
                    tracing::warn!(%address, "too many sign-in attempts from this address");
                    return Err(ApiError::TooManyAttempts(TOO_MANY.into()));
                }
            }
            if let Err(not_until) = limits.account.check_key(&account) {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(
                    &governor::clock::DefaultClock::default(),
                ));
                let until = now + Duration::from_std(wait).unwrap_or_default();
                record_lockout(ctx, limits, account, until, address, now);
                return Err(ApiError::TooManyAttempts(TOO_MANY.into()));
            }
        }
        let found = store.user_for_sign_in(&tenant, &email).await?;
        let hash = found
            .as_ref()
            .and_then(|(_, hash)| hash.clone())
            .unwrap_or_else(|| dummy_hash().to_string());
        let matches = verify_password(password, hash).await;
        match found {
            Some((user, Some(_))) if matches && user.status == UserStatus::Active => {
                start_session(ctx, user).await
            }
            _ => {
                tokio::time::sleep_until(started + REFUSAL_FLOOR).await;
                Err(ApiError::Unauthenticated(WRONG.into()))
            }
        }
    }

    /// Exchanges a refresh token for a new access token and a new refresh token (the one
    /// presented is used up). Presenting a used one again ends its whole session on every
    /// instance (a stolen token was used), and so does any refresh after the user was
    /// disabled or removed. Needs no bearer token.
    async fn refresh_session(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The refresh token last issued for the session.")] refresh_token: String,
    ) -> ApiResult<SessionTokens> {
        let store = ctx.data_unchecked::<Store>();
        let now = ctx.data_unchecked::<Clock>().now();
        let next = fresh_token();
        let refused = || {
            ApiError::Unauthenticated("this refresh token is no longer valid; sign in again".into())
        };
        let rotation = store
            .rotate_refresh_token(
                &token_hash(refresh_token.trim()),
                &token_hash(&next),
                now,
                now + settings(ctx).refresh_ttl,
            )
            .await?;
        let (token, used_was_issued_at) = match rotation {
            Rotation::Rotated(token, issued_at) => (token, issued_at),
            Rotation::Reused(token) => {
                tracing::warn!(session = %token.session, "a used refresh token was presented again: the session ends");
                end_session(ctx, &token).await?;
                return Err(refused());
            }
            Rotation::Unknown => return Err(refused()),
        };
        let subject = user_subject(&token.user_id);
        let ended = store.sessions().has_ended(SessionOf {
            tenant: &token.tenant,
            session: Some(&token.session),
            subjects: &[&subject],
            issued_at: used_was_issued_at,
        });
        let user = store.customer_user(&token.tenant, &token.user_id).await?;
        match user {
            Some(user) if !ended && user.status == UserStatus::Active => {
                answer(ctx, user, &token.session, next, token.expires_at, now)
            }
            _ => {
                store
                    .revoke_refresh_session(&token.tenant, &token.session)
                    .await?;
                Err(refused())
            }
        }
    }

    /// Ends the session of this refresh token on every instance: its access tokens and
    /// refresh tokens stop working. Answers true also for a token already ended. Needs no
    /// bearer token.
    async fn sign_out(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "A refresh token of the session to end.")] refresh_token: String,
    ) -> ApiResult<bool> {
        let store = ctx.data_unchecked::<Store>();
        if let Some(token) = store
            .refresh_token(&token_hash(refresh_token.trim()))
            .await?
        {
            end_session(ctx, &token).await?;
        }
        Ok(true)
    }

    /// Sends a one-time reset link (valid 1 hour) to the user with this email, if there is
    /// one and it is not disabled. Always answers true at once, whether the email exists or
    /// not. Setting a password through the link ends every session of the user. Needs no
    /// bearer token.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The tenant the user belongs to.")] tenant: String,
        #[graphql(desc = "The user's email.")] email: String,
    ) -> ApiResult<bool> {
        let store = ctx.data_unchecked::<Store>().clone();
        let now = ctx.data_unchecked::<Clock>().now();
        let activation = activation_settings(ctx);
        let reset_ttl = settings(ctx).reset_ttl;
        let request_id = request_id(ctx);
        // The work happens after the answer, so its time does not tell whether the email exists.
        tokio::spawn(async move {
            let Ok(Some((user, _))) = store.user_for_sign_in(&tenant, &email).await else {
                return;
            };
            if user.status == UserStatus::Disabled {
                return;
            }
            let token = fresh_token();
            let expires_at = now + reset_ttl;
            let command = CustomerCommand::User(UserCommand::IssuePasswordReset {
                user_id: user.user_id.clone(),
                token_hash: token_hash(&token),
                expires_at,
            });
            let metadata = EventMetadata {
                tenant: user.tenant.clone(),
                actor: user_subject(&user.user_id),
                role: Some(role_of(&user).as_str().to_string()),
                on_behalf_of: None,
                request_id,
                occurred_at: now,
            };
            if let Err(error) = store
                .execute::<CustomerAggregate>(&user.customer_id, command, &metadata)
                .await
            {
                tracing::warn!(%error, "a password reset could not be issued");
                return;
            }
            let link = format!("{}{token}", activation.link_prefix);
            let Some(mailer) = activation.mailer else {
                tracing::warn!(user = %user.user_id, "a password reset was asked for, but no SMTP server is configured");
                return;
            };
            let mail = Mail {
                kind: "password_reset",
                tenant: user.tenant.clone(),
                to: user.email.clone(),
                language: user.language.clone(),
                values: vec![("link", link), ("expiresAt", expires_at.to_rfc3339())],
            };
            if let Err(error) = mailer.send(mail).await {
                tracing::warn!(user = %user.user_id, %error, "the password-reset mail was not sent");
            }
        });
        Ok(true)
    }
}
