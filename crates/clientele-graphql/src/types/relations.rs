//! Users, the customer tree and assignments as GraphQL types (seeds 001, 003, 004).

use async_graphql::{Enum, InputObject, MaybeUndefined, SimpleObject, ID};
use chrono::{DateTime, Utc};
use clientele_domain::customer::{Change, UserChanges, UserDraft};
use clientele_store::{AssignedPage, AssignmentCounts as StoreCounts, UserRecord};

use super::customer::PageInfo;

/// What a user may do in the customer's portal.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::UserType")]
pub enum UserType {
    CustomerAdmin,
    CustomerUser,
}

/// Where a user stands.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::customer::UserStatus")]
pub enum UserStatus {
    /// Added; its activation token has not been used yet.
    PendingActivation,
    Active,
    Disabled,
}

/// How the one-time activation token reaches the user (seed 003).
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
    pub id: ID,
    pub customer_id: ID,
    pub email: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// BCP 47 tag, for automatic emails.
    pub language: String,
    pub user_type: UserType,
    pub status: UserStatus,
    /// When the pending activation token expires; null once activated.
    pub activation_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
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
    pub email: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    /// A BCP 47 tag; "en" when omitted.
    pub language: Option<String>,
    pub user_type: UserType,
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

/// Changes to a user: a field left out stays, `null` clears a name, a value sets it.
#[derive(InputObject, Debug, Default)]
pub struct EditCustomerUserInput {
    pub email: MaybeUndefined<String>,
    pub given_name: MaybeUndefined<String>,
    pub family_name: MaybeUndefined<String>,
    pub language: MaybeUndefined<String>,
    pub user_type: MaybeUndefined<UserType>,
}

fn change<T, U: From<T>>(value: MaybeUndefined<T>) -> Change<U> {
    match value {
        MaybeUndefined::Undefined => Change::Keep,
        MaybeUndefined::Null => Change::Clear,
        MaybeUndefined::Value(v) => Change::Set(v.into()),
    }
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
    pub expires_at: DateTime<Utc>,
}

/// A user and the activation just issued to it.
#[derive(SimpleObject, Debug, Clone)]
pub struct UserActivation {
    pub user: CustomerUser,
    pub activation: ActivationDelivery,
}

/// An activated user and, when this service mints tokens, a token to sign in with.
#[derive(SimpleObject, Debug, Clone)]
pub struct ActivatedUser {
    pub user: CustomerUser,
    /// A bearer token acting as the user (its user type, bound to its customer).
    pub token: Option<String>,
    pub token_expires_at: Option<DateTime<Utc>>,
}

/// The kinds of entity assigned to customers (seed 004).
#[derive(Enum, Copy, Clone, Eq, PartialEq, Debug)]
#[graphql(remote = "clientele_domain::assignment::EntityKind")]
pub enum EntityKind {
    Device,
    Asset,
    Edge,
    Dashboard,
}

/// The outcome of an assign or unassign.
#[derive(SimpleObject, Debug, Clone)]
pub struct Assignment {
    pub kind: EntityKind,
    pub entity_id: ID,
    /// The customer the entity is assigned to now (for a dashboard: the customer named),
    /// or null.
    pub customer_id: Option<ID>,
    /// False when it was already so (nothing was written).
    pub changed: bool,
}

/// An entity assigned to a customer.
#[derive(SimpleObject, Debug, Clone)]
pub struct AssignedEntity {
    pub id: ID,
    pub assigned_at: DateTime<Utc>,
}

#[derive(SimpleObject, Debug, Clone)]
pub struct AssignedEntityEdge {
    pub cursor: String,
    pub node: AssignedEntity,
}

/// A page of a customer's entities of one kind, by id.
#[derive(SimpleObject, Debug, Clone)]
pub struct AssignedEntityConnection {
    pub edges: Vec<AssignedEntityEdge>,
    pub page_info: PageInfo,
}

impl AssignedEntityConnection {
    pub fn new(page: AssignedPage, after: bool) -> Self {
        let edges: Vec<AssignedEntityEdge> = page
            .items
            .into_iter()
            .map(|(id, at)| AssignedEntityEdge {
                cursor: id.clone(),
                node: AssignedEntity {
                    id: ID(id),
                    assigned_at: at,
                },
            })
            .collect();
        AssignedEntityConnection {
            page_info: PageInfo {
                has_next_page: page.has_next_page,
                has_previous_page: after,
                start_cursor: edges.first().map(|e| e.cursor.clone()),
                end_cursor: edges.last().map(|e| e.cursor.clone()),
            },
            edges,
        }
    }
}

/// How many entities of each kind a customer has.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct AssignmentCounts {
    pub devices: i64,
    pub assets: i64,
    pub edges: i64,
    pub dashboards: i64,
}

impl From<StoreCounts> for AssignmentCounts {
    fn from(c: StoreCounts) -> Self {
        AssignmentCounts {
            devices: c.devices,
            assets: c.assets,
            edges: c.edges,
            dashboards: c.dashboards,
        }
    }
}

/// A page of customers below another, by id.
#[derive(SimpleObject, Debug, Clone)]
pub struct DescendantConnection {
    pub nodes: Vec<super::customer::Customer>,
    pub page_info: PageInfo,
}
