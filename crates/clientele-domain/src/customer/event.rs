//! Events of the customer aggregate: a storage contract, never changed once landed.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::profile::fields::{CustomerPatch, CustomerProfile};
use super::users::fields::{ActivationMethod, UserPatch, UserProfile};
use crate::aggregate::event_enum;
use crate::{AccountStatus, ProductStatus};

event_enum! {
    /// Everything that can happen to a customer. Each variant's name is its stored type name.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub enum CustomerEvent {
        CustomerCreated(CustomerCreated),
        CustomerEdited(CustomerEdited),
        ProductVisibilitySet(ProductVisibilitySet),
        ProductActivated(ProductActivated),
        ProductStatusChanged(ProductStatusChanged),
        AccountStatusChanged(AccountStatusChanged),
        DeletionRequested(DeletionRequested),
        DeletionCancelled(DeletionCancelled),
        CustomerDeleted(CustomerDeleted),
        ImpersonationStarted(ImpersonationStarted),
        ImpersonationEnded(ImpersonationEnded),
        CustomerUserAdded(CustomerUserAdded),
        CustomerUserEdited(CustomerUserEdited),
        CustomerUserDisabled(UserRef),
        CustomerUserEnabled(UserRef),
        CustomerUserRemoved(UserRef),
        ActivationIssued(ActivationIssued),
        CustomerUserActivated(UserRef),
        CustomerMoved(CustomerMoved),
        HomeDashboardSet(HomeDashboardSet),
        AssignmentsReleased(AssignmentsReleased),
        SessionEnded(SessionEnded),
        PasswordSet(PasswordSet),
        PasswordResetIssued(PasswordResetIssued),
        SignInLockedOut(SignInLockedOut),
        ProductVisibilityReset(ProductVisibilityReset),
    }
}

/// Every customer event type, as stored and as subscriptions filter on it.
pub const EVENT_TYPES: &[&str] = CustomerEvent::TYPES;

/// A user was added to the customer. `user` holds personal data (sealed in the log).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerUserAdded {
    pub user_id: String,
    pub user: UserProfile,
}

/// Some fields of a user changed; only those are carried (sealed like the profile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerUserEdited {
    pub user_id: String,
    pub changes: UserPatch,
}

/// Names the user an event is about (disabled, enabled, removed, activated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserRef {
    pub user_id: String,
}

/// A one-time activation token was issued to a user; any earlier one is void. Only the
/// token's SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivationIssued {
    pub user_id: String,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub method: ActivationMethod,
}

/// A user's password was set (at activation, or with a reset link). Only its argon2id
/// hash is kept, under `credential`, sealed in the log with the customer's key like the
/// personal fields, so deleting the customer erases it. A reset ends every session of the
/// user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordSet {
    pub user_id: String,
    pub credential: Credential,
    /// True when it replaced a password (a reset), false at activation.
    pub reset: bool,
}

/// A password hash as events carry it (sealed; null once the customer is erased).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    #[serde(default, deserialize_with = "null_as_empty")]
    pub password_hash: String,
}

fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A one-time password-reset token was issued to a user (only its SHA-256 is kept); any
/// pending token is void. Using it sets a new password (`PasswordSet` with `reset`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PasswordResetIssued {
    pub user_id: String,
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// Too many sign-in attempts for a user's account: sign-in is refused until `until`
/// (written once per lockout, with the address the attempts came from).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInLockedOut {
    pub user_id: String,
    pub until: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// The customer was put under another customer (`to`), or made top-level (`to: null`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerMoved {
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The customer's home dashboard (none: the default) and whether its toolbar is hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HomeDashboardSet {
    pub dashboard_id: Option<String>,
    pub hide_toolbar: bool,
}

/// Every device, asset, edge and dashboard assigned to the customer is released (written
/// when the customer is deleted). The entities' own aggregates treat an owner that is
/// deleted as no owner. The ids released are named, at most `RELEASED_PER_EVENT` per
/// event, in as many events as it takes (added later: older events decode as empty lists).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssignmentsReleased {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edges: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dashboards: Vec<String>,
}

/// How many ids one `AssignmentsReleased` names at most.
pub const RELEASED_PER_EVENT: usize = 1000;

impl AssignmentsReleased {
    /// The released ids of each kind in chunks of at most `RELEASED_PER_EVENT` ids; one
    /// empty event when there are none.
    pub fn chunked(kinds: [Vec<String>; 4]) -> Vec<AssignmentsReleased> {
        let mut out = vec![AssignmentsReleased::default()];
        for (kind, ids) in kinds.into_iter().enumerate() {
            for id in ids {
                let last = out.last_mut().expect("never empty");
                if last.len() == RELEASED_PER_EVENT {
                    out.push(AssignmentsReleased::default());
                }
                let last = out.last_mut().expect("never empty");
                match kind {
                    0 => last.devices.push(id),
                    1 => last.assets.push(id),
                    2 => last.edges.push(id),
                    _ => last.dashboards.push(id),
                }
            }
        }
        out
    }

    fn len(&self) -> usize {
        self.devices.len() + self.assets.len() + self.edges.len() + self.dashboards.len()
    }
}

/// Someone started acting as this customer's admin ("log in as a customer").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpersonationStarted {
    pub by: String,
    pub role: String,
    pub reason: String,
    pub expires_at: DateTime<Utc>,
}

/// Someone stopped acting as this customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImpersonationEnded {
    pub by: String,
}

/// One session (an impersonation's) ended for good: every token that carries its id
/// (`sid`) is refused from now on, on every instance. Disabling or removing a user and
/// deleting the customer end sessions too, by subject (see `sessions.rs`); this event is
/// for one session of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionEnded {
    /// The session's id, the `sid` of its tokens.
    pub session: String,
    /// When its tokens expire anyway: no need to remember the end after that.
    pub expires_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

/// A product a deletion request stopped, and the status it had before.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoppedProduct {
    pub product: String,
    pub previous: ProductStatus,
}

/// Deletion was asked for; the products in use were stopped and the request is due at `due_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionRequested {
    pub request_id: String,
    pub reason: Option<String>,
    pub requested_by: String,
    pub due_at: DateTime<Utc>,
    /// The products stopped (PAUSED) by the request and their statuses before.
    pub stopped: Vec<StoppedProduct>,
    /// Whether the inner customers are deleted with it when it falls due (added later:
    /// older events decode as false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub delete_inner_customers: bool,
}

/// The open deletion request was cancelled; stopped products returned to their statuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionCancelled {
    pub request_id: String,
    pub note: String,
    pub cancelled_by: String,
    /// The products set back to the status they had before the request.
    pub restored: Vec<StoppedProduct>,
}

/// The customer was deleted, for good. Its personal data is erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerDeleted {
    /// The request this deletion carries out, if one was open.
    pub request_id: Option<String>,
    pub deleted_by: String,
    /// True when the service deleted it because the request fell due (its own, or that of
    /// the ancestor it was deleted with).
    pub automatic: bool,
    /// The ancestor whose deletion took this customer with it (`request_id` is then that
    /// ancestor's request); none when it was deleted itself (added later: older events
    /// decode as none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleted_with: Option<String>,
}

/// The customer's own visibility of a product was set, overriding the global setting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductVisibilitySet {
    pub product: String,
    pub visible: bool,
    /// The customer's own setting before; `None` when it followed the global setting.
    pub previous: Option<bool>,
}

/// The customer's own visibility of a product was removed: the tenant's global setting
/// applies to it again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductVisibilityReset {
    pub product: String,
    /// The customer's own setting it had until then.
    pub previous: bool,
}

/// A product was activated for the customer, starting in `status` (NEW).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductActivated {
    pub product: String,
    /// DELETED when a deleted product is activated again; otherwise none.
    pub previous: Option<ProductStatus>,
    pub status: ProductStatus,
}

/// A product's status changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductStatusChanged {
    pub product: String,
    pub from: ProductStatus,
    pub to: ProductStatus,
}

/// The derived account status changed because of the event just before this one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountStatusChanged {
    pub from: AccountStatus,
    pub to: AccountStatus,
    /// The type of the event that caused the change (the one before this).
    pub cause: String,
}

/// A customer came to be, with its whole validated profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerCreated {
    pub tenant: String,
    pub profile: CustomerProfile,
    /// True for the tenant's own company, which nobody may modify or delete.
    #[serde(
        default,
        rename = "ownCompany",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub own_company: bool,
    /// True for the tenant's public customer, which holds what is made public (dashboards,
    /// devices, assets) and which nobody may modify or delete (added later: older events
    /// decode as false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub public: bool,
    /// The name the caller asked for, when it was taken and the UNIQUIFY policy gave the
    /// customer `profile.name` (a suffixed one) instead; none otherwise (added later: older
    /// events decode as none).
    #[serde(
        default,
        rename = "requestedName",
        skip_serializing_if = "Option::is_none"
    )]
    pub requested_name: Option<String>,
}

/// Some fields of a customer changed; only those are carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerEdited {
    pub changes: CustomerPatch,
}
