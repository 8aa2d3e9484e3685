//! A user of a customer as events carry it and as the aggregate folds it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

/// The most users one customer may have (the aggregate's snapshot holds them all).
pub const MAX_USERS: usize = 500;

/// What a user may do in the customer's portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserType {
    CustomerAdmin,
    CustomerUser,
}

/// Where a user stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    /// Added; the activation token has not been used yet.
    PendingActivation,
    Active,
    Disabled,
}

/// How the activation token reaches the user: by e-mail, or as a link shown to the caller
/// to pass on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ActivationMethod {
    SendEmail,
    ShowLink,
}

/// A user's fields as events carry them. The email and names are personal data: sealed in
/// the log, and read as empty once the customer is deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    #[serde(deserialize_with = "erased_as_empty")]
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    pub language: String,
    pub user_type: UserType,
}

/// A sealed value whose key was destroyed reads as null; it folds as empty.
fn erased_as_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(d)?.unwrap_or_default())
}

/// A one-time activation token that has not been used: only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PendingActivation {
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
}

/// One user of the customer, as its events fold to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerUser {
    pub profile: UserProfile,
    #[serde(default)]
    pub activated: bool,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<PendingActivation>,
    /// The argon2id PHC string of the user's password, once one is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hash: Option<String>,
}

impl CustomerUser {
    pub fn status(&self) -> UserStatus {
        if self.disabled {
            UserStatus::Disabled
        } else if self.activated {
            UserStatus::Active
        } else {
            UserStatus::PendingActivation
        }
    }
}

/// A user field that an edit may clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserField {
    GivenName,
    FamilyName,
}

/// What an edit changed; only real changes are carried.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_type: Option<UserType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cleared: Vec<UserField>,
}

impl UserPatch {
    pub fn is_empty(&self) -> bool {
        *self == UserPatch::default()
    }

    /// Applies the patch. Never fails: events are facts.
    pub fn apply_to(&self, profile: &mut UserProfile) {
        if let Some(email) = &self.email {
            profile.email = email.clone();
        }
        if let Some(v) = &self.given_name {
            profile.given_name = Some(v.clone());
        }
        if let Some(v) = &self.family_name {
            profile.family_name = Some(v.clone());
        }
        if let Some(v) = &self.language {
            profile.language = v.clone();
        }
        if let Some(v) = self.user_type {
            profile.user_type = v;
        }
        for field in &self.cleared {
            match field {
                UserField::GivenName => profile.given_name = None,
                UserField::FamilyName => profile.family_name = None,
            }
        }
    }
}
