//! A customer's users: the user, its inputs, how its activation was delivered, and the
//! `users` field of a customer.

use std::sync::Arc;

use async_graphql::{
    ComplexObject, Context, Enum, InputObject, MaybeUndefined, Object, SimpleObject, ID,
};
use chrono::{DateTime, Utc};
use clientele_domain::customer::{UserChanges, UserDraft};
use clientele_domain::Rule;
use clientele_store::{CustomerRecord, Store, UserRecord};

use super::page::{self, PageInfo};
use super::profile::change;
use crate::error::{ApiError, ApiResult};
use crate::guard::{self, needs};

/// What a user may do in the customer's portal.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::UserType")]
pub enum UserType {
    /// Signs in as CUSTOMER_ADMIN: reads the customer and edits its customer-editable fields and users.
    CustomerAdmin,
    /// Signs in as CUSTOMER_USER: reads the customer.
    CustomerUser,
}

/// Where a user stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::UserStatus")]
pub enum UserStatus {
    /// Added; its activation token has not been used yet.
    PendingActivation,
    /// Activated; may sign in.
    Active,
    /// Disabled; its sessions have ended and it cannot sign in until enabled.
    Disabled,
}

/// How the one-time activation token reaches the user.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug, Default)]
#[graphql(remote = "clientele_domain::customer::ActivationMethod")]
pub enum ActivationMethod {
    /// Email the activation link (through SMTP when the service has it configured;
    /// otherwise the link is returned, as with SHOW_LINK).
    SendEmail,
    /// Return the activation link to the caller, to hand over.
    #[default]
    ShowLink,
}

/// A user of a customer.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerUser {
    /// The user's id, a UUID.
    pub id: ID,
    /// The customer the user belongs to.
    pub customer_id: ID,
    /// The user's email, unique within the tenant (case-insensitively).
    pub email: String,
    /// The user's given name.
    pub given_name: Option<String>,
    /// The user's family name.
    pub family_name: Option<String>,
    /// BCP 47 tag, for automatic emails.
    pub language: String,
    /// What the user may do.
    pub user_type: UserType,
    /// Where the user stands.
    pub status: UserStatus,
    /// When the pending activation token expires; null once activated.
    pub activation_expires_at: Option<DateTime<Utc>>,
    /// When the user was added.
    pub created_at: DateTime<Utc>,
    /// When the user last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<UserRecord> for CustomerUser {
    fn from(u: UserRecord) -> Self {
        CustomerUser {
            id: ID(u.user_id),
            customer_id: ID(u.customer_id),
            email: u.email,
            given_name: u.given_name,
            family_name: u.family_name,
            language: u.language,
            user_type: u.user_type.into(),
            status: u.status.into(),
            activation_expires_at: u.activation_expires_at,
            created_at: u.created_at,
            updated_at: u.updated_at,
        }
    }
}

/// A new user. The email is unique within the tenant (case-insensitively).
#[derive(InputObject, Debug)]
pub struct AddCustomerUserInput {
    /// At most 254 characters, a valid address; unique within the tenant (case-insensitively).
    pub email: String,
    /// At most 100 characters.
    pub given_name: Option<String>,
    /// At most 100 characters.
    pub family_name: Option<String>,
    /// A BCP 47 tag; "en" when omitted.
    pub language: Option<String>,
    /// CUSTOMER_ADMIN or CUSTOMER_USER.
    pub user_type: UserType,
    /// How the activation link reaches the user; SHOW_LINK by default.
    #[graphql(default)]
    pub activation_method: ActivationMethod,
}

impl From<&AddCustomerUserInput> for UserDraft {
    fn from(i: &AddCustomerUserInput) -> Self {
        UserDraft {
            email: i.email.clone(),
            given_name: i.given_name.clone(),
            family_name: i.family_name.clone(),
            language: i.language.clone(),
            user_type: i.user_type.into(),
        }
    }
}

/// A new customer's first admin user (a CUSTOMER_ADMIN): its email is unique within the
/// tenant, as any user's.
#[derive(InputObject, Debug, Clone)]
pub struct FirstAdminInput {
    /// At most 254 characters, a valid address; unique within the tenant (case-insensitively).
    pub email: String,
    /// At most 100 characters.
    pub given_name: Option<String>,
    /// At most 100 characters.
    pub family_name: Option<String>,
    /// A BCP 47 tag; "en" when omitted. Its mails come in this language.
    pub language: Option<String>,
    /// Its sign-in password (8 to 128 characters, not its email, not a common password).
    /// Without one, the user is emailed an activation link where it chooses one.
    pub password: Option<String>,
}

/// Changes to a user: a field left out stays, `null` clears a name, a value sets it.
#[derive(InputObject, Debug, Default)]
pub struct EditCustomerUserInput {
    /// At most 254 characters, a valid address, unique within the tenant; cannot be cleared.
    pub email: MaybeUndefined<String>,
    /// At most 100 characters; null clears it.
    pub given_name: MaybeUndefined<String>,
    /// At most 100 characters; null clears it.
    pub family_name: MaybeUndefined<String>,
    /// A BCP 47 tag such as en or pt-BR; cannot be cleared.
    pub language: MaybeUndefined<String>,
    /// CUSTOMER_ADMIN or CUSTOMER_USER; cannot be cleared.
    pub user_type: MaybeUndefined<UserType>,
}

impl From<EditCustomerUserInput> for UserChanges {
    fn from(i: EditCustomerUserInput) -> Self {
        UserChanges {
            email: change(i.email),
            given_name: change(i.given_name),
            family_name: change(i.family_name),
            language: change(i.language),
            user_type: change(i.user_type),
        }
    }
}

/// How an activation token was delivered.
#[derive(SimpleObject, Debug, Clone)]
pub struct ActivationDelivery {
    /// The method asked for.
    pub method: ActivationMethod,
    /// True when the email was handed to the SMTP server.
    pub email_sent: bool,
    /// The activation link, when it was not emailed (SHOW_LINK, no SMTP configured, or
    /// sending failed). It works once, until `expiresAt`.
    pub link: Option<String>,
    /// When the activation token stops working.
    pub expires_at: DateTime<Utc>,
}

/// A user and the activation just issued to it.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserActivation {
    /// The user.
    pub user: CustomerUser,
    /// How its activation was delivered.
    pub activation: ActivationDelivery,
}

/// An activated user and, when this service mints tokens, a token to sign in with.
#[derive(SimpleObject, Debug, Clone)]
pub struct ActivatedUser {
    /// The activated user.
    pub user: CustomerUser,
    /// A bearer token acting as the user (its user type, bound to its customer).
    pub token: Option<String>,
    /// When `token` expires; null without a token.
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// A user in a page of a customer's users, with its cursor.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerUserEdge {
    /// Pass as `after` to page from this user.
    pub cursor: String,
    /// The user.
    pub node: CustomerUser,
}

/// A page of a customer's users, by email.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct CustomerUserConnection {
    /// The users of this page, each with its cursor.
    pub edges: Vec<CustomerUserEdge>,
    /// Where this page sits; pass `endCursor` as `after` for the next.
    pub page_info: PageInfo,
}

#[ComplexObject]
impl CustomerUserConnection {
    /// The users of this page (the edges' nodes).
    async fn nodes(&self) -> Vec<CustomerUser> {
        self.edges.iter().map(|e| e.node.clone()).collect()
    }
}

/// The longest `text` a user search takes (the longest email).
const MAX_USER_SEARCH: usize = 254;

/// The checked arguments of a page of users.
pub(crate) struct UserPage {
    first: usize,
    after: Option<(String, String)>,
    text: Option<String>,
}

impl UserPage {
    /// Checks `first`, `after` and `text` (at most 254 characters; blank is no filter).
    pub(crate) fn new(
        first: Option<i32>,
        after: Option<String>,
        text: Option<String>,
    ) -> ApiResult<Self> {
        let first = page::first(first)?;
        let after = page::key_cursor("after", after.as_deref())?;
        if text
            .as_ref()
            .is_some_and(|t| t.chars().count() > MAX_USER_SEARCH)
        {
            return Err(ApiError::argument(
                "text",
                Rule::Length,
                format!("text is at most {MAX_USER_SEARCH} characters"),
            ));
        }
        let text = text
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty());
        Ok(UserPage { first, after, text })
    }

    /// The connection of a page read (`more`: whether more follow it).
    pub(crate) fn connection(&self, users: Vec<UserRecord>, more: bool) -> CustomerUserConnection {
        let edges: Vec<CustomerUserEdge> = users
            .into_iter()
            .map(|u| CustomerUserEdge {
                cursor: page::encode_key_cursor(&u.email, &u.user_id),
                node: u.into(),
            })
            .collect();
        let page_info = PageInfo::of(&edges, |e| e.cursor.clone(), more, self.after.is_some());
        CustomerUserConnection { edges, page_info }
    }

    /// This page of `users` held in memory (a customer's users at an instant): the same
    /// order, cursor and match as the store's query.
    pub(crate) fn of_all(&self, users: &[UserRecord]) -> CustomerUserConnection {
        let mut users: Vec<&UserRecord> = users.iter().collect();
        users.sort_by(|a, b| (&a.email, &a.user_id).cmp(&(&b.email, &b.user_id)));
        let mut rest = users
            .into_iter()
            .filter(|u| match &self.after {
                Some((email, id)) => (&u.email, &u.user_id) > (email, id),
                None => true,
            })
            .filter(|u| self.text.as_deref().is_none_or(|t| user_matches(u, t)))
            .cloned();
        let page: Vec<UserRecord> = rest.by_ref().take(self.first).collect();
        let more = rest.next().is_some();
        self.connection(page, more)
    }
}

/// Whether a user's email, given, family or full name contains `text` (lowercase).
fn user_matches(u: &UserRecord, text: &str) -> bool {
    let given = u.given_name.as_deref().unwrap_or_default();
    let family = u.family_name.as_deref().unwrap_or_default();
    [&u.email, given, family, &format!("{given} {family}")]
        .iter()
        .any(|field| field.to_lowercase().contains(text))
}

/// The users field of a customer.
#[derive(Debug, Clone)]
pub struct CustomerUsers(pub(crate) Arc<CustomerRecord>);

#[Object]
impl CustomerUsers {
    /// The customer's users, by email (not for CUSTOMER_USER; at most 100 a page, 20 by default).
    async fn users(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Page size, 0 to 100; 20 when omitted.")] first: Option<i32>,
        #[graphql(desc = "The cursor to start after (from `pageInfo.endCursor`).")] after: Option<
            String,
        >,
        #[graphql(
            desc = "Only users whose email, given name, family name or full name contains this, case-insensitively; at most 254 characters."
        )]
        text: Option<String>,
    ) -> ApiResult<CustomerUserConnection> {
        guard::require(ctx, needs!(Customer, "users"))?;
        let page = UserPage::new(first, after, text)?;
        let store = ctx.data_unchecked::<Store>();
        let (users, more) = store
            .customer_users_page(
                &self.0.tenant,
                &self.0.id,
                page.text.as_deref(),
                page.first,
                page.after.as_ref().map(|(k, i)| (k.as_str(), i.as_str())),
            )
            .await?;
        Ok(page.connection(users, more))
    }
}
