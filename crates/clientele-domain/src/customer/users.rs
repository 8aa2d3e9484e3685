//! Users of a customer (seeds 001 and 003). A customer has few users, so they live in the
//! customer aggregate: their personal fields are sealed with the customer's key, and
//! deleting the customer removes them with it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::command::Change;
use super::fields::{check_text, trimmed, CustomerField};
use super::{Customer, CustomerError};
use crate::{Rule, Violation};

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

/// How the activation token reaches the user (seed 003).
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

/// A new activation token for a user: its hash, expiry and how it is delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewActivation {
    pub token_hash: String,
    pub expires_at: DateTime<Utc>,
    pub method: ActivationMethod,
}

/// The add-user form as the caller filled it in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserDraft {
    pub email: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub language: Option<String>,
    pub user_type: UserType,
}

/// The edit-user form: each field may be left, cleared (the names) or set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChanges {
    pub email: Change<String>,
    pub given_name: Change<String>,
    pub family_name: Change<String>,
    pub language: Change<String>,
    pub user_type: Change<UserType>,
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

fn text(
    violations: &mut Vec<Violation>,
    field: CustomerField,
    raw: Option<&str>,
) -> Option<String> {
    let value = raw.and_then(trimmed)?;
    violations.extend(check_text(field, &value));
    Some(value)
}

fn required_email(violations: &mut Vec<Violation>, raw: &str) -> String {
    match text(violations, CustomerField::Email, Some(raw)) {
        Some(email) => email,
        None => {
            violations.push(Violation::new("email", Rule::Required, "email is required"));
            String::new()
        }
    }
}

impl UserDraft {
    /// Validates and normalises every field; all violations are reported at once.
    pub fn validate(&self) -> Result<UserProfile, Vec<Violation>> {
        let mut v = Vec::new();
        let profile = UserProfile {
            email: required_email(&mut v, &self.email),
            given_name: text(&mut v, CustomerField::GivenName, self.given_name.as_deref()),
            family_name: text(
                &mut v,
                CustomerField::FamilyName,
                self.family_name.as_deref(),
            ),
            language: text(&mut v, CustomerField::Language, self.language.as_deref())
                .unwrap_or_else(|| "en".into()),
            user_type: self.user_type,
        };
        if v.is_empty() {
            Ok(profile)
        } else {
            Err(v)
        }
    }
}

impl UserChanges {
    /// Validates the changes against the user and keeps only real changes.
    pub fn validate(&self, current: &UserProfile) -> Result<UserPatch, Vec<Violation>> {
        let mut v = Vec::new();
        let mut patch = UserPatch::default();
        let not_nullable = |field: &str| {
            Violation::new(
                field,
                Rule::NotNullable,
                format!("{field} cannot be cleared"),
            )
        };
        match &self.email {
            Change::Keep => {}
            Change::Clear => v.push(not_nullable("email")),
            Change::Set(raw) => {
                let email = required_email(&mut v, raw);
                if email != current.email {
                    patch.email = Some(email);
                }
            }
        }
        match &self.language {
            Change::Keep => {}
            Change::Clear => v.push(not_nullable("language")),
            Change::Set(raw) => match text(&mut v, CustomerField::Language, Some(raw)) {
                None => v.push(not_nullable("language")),
                Some(l) if l != current.language => patch.language = Some(l),
                Some(_) => {}
            },
        }
        match &self.user_type {
            Change::Keep => {}
            Change::Clear => v.push(not_nullable("userType")),
            Change::Set(t) if *t != current.user_type => patch.user_type = Some(*t),
            Change::Set(_) => {}
        }
        let names = [
            (
                &self.given_name,
                &current.given_name,
                CustomerField::GivenName,
                UserField::GivenName,
            ),
            (
                &self.family_name,
                &current.family_name,
                CustomerField::FamilyName,
                UserField::FamilyName,
            ),
        ];
        for (change, now, field, user_field) in names {
            let value = match change {
                Change::Keep => continue,
                Change::Clear => None,
                Change::Set(raw) => text(&mut v, field, Some(raw)),
            };
            match value {
                None if now.is_some() => patch.cleared.push(user_field),
                None => {}
                Some(value) if now.as_ref() != Some(&value) => match user_field {
                    UserField::GivenName => patch.given_name = Some(value),
                    UserField::FamilyName => patch.family_name = Some(value),
                },
                Some(_) => {}
            }
        }
        if v.is_empty() {
            Ok(patch)
        } else {
            Err(v)
        }
    }
}

impl Customer {
    /// The user, or `UserNotFound`.
    pub(super) fn user(&self, id: &str) -> Result<&CustomerUser, CustomerError> {
        self.users.get(id).ok_or(CustomerError::UserNotFound)
    }

    /// The user holding a pending activation token with this hash.
    pub(super) fn user_by_token(&self, token_hash: &str) -> Option<(&String, &CustomerUser)> {
        self.users.iter().find(|(_, u)| {
            u.activation
                .as_ref()
                .is_some_and(|a| a.token_hash == token_hash)
        })
    }

    /// Refuses a new user past the limit.
    pub(super) fn check_user_room(&self) -> Result<(), CustomerError> {
        if self.users.len() >= MAX_USERS {
            return Err(CustomerError::Invalid(vec![Violation::new(
                "customerId",
                Rule::Limit,
                format!("a customer has at most {MAX_USERS} users"),
            )]));
        }
        Ok(())
    }
}

impl Customer {
    /// Decides a user command: the events it produces, or why it is refused.
    pub(super) fn decide_user(
        &self,
        command: super::CustomerCommand,
    ) -> Result<Vec<super::CustomerEvent>, CustomerError> {
        use super::event::{ActivationIssued, CustomerUserAdded, CustomerUserEdited, UserRef};
        use super::CustomerCommand as C;
        use super::CustomerEvent as E;
        let issued = |user_id: String, a: NewActivation| {
            E::ActivationIssued(ActivationIssued {
                user_id,
                token_hash: a.token_hash,
                expires_at: a.expires_at,
                method: a.method,
            })
        };
        Ok(match command {
            C::AddUser {
                user_id,
                draft,
                activation,
            } => {
                if self.users.contains_key(&user_id) {
                    return Err(CustomerError::AlreadyExists);
                }
                self.check_user_room()?;
                let user = draft.validate().map_err(CustomerError::Invalid)?;
                let added = E::CustomerUserAdded(CustomerUserAdded {
                    user_id: user_id.clone(),
                    user,
                });
                vec![added, issued(user_id, activation)]
            }
            C::EditUser { user_id, changes } => {
                let user = self.user(&user_id)?;
                let patch = changes
                    .validate(&user.profile)
                    .map_err(CustomerError::Invalid)?;
                if patch.is_empty() {
                    return Ok(vec![]);
                }
                vec![E::CustomerUserEdited(CustomerUserEdited {
                    user_id,
                    changes: patch,
                })]
            }
            C::DisableUser { user_id } => match self.user(&user_id)?.disabled {
                true => vec![],
                false => vec![E::CustomerUserDisabled(UserRef { user_id })],
            },
            C::EnableUser { user_id } => match self.user(&user_id)?.disabled {
                true => vec![E::CustomerUserEnabled(UserRef { user_id })],
                false => vec![],
            },
            C::RemoveUser { user_id } => {
                self.user(&user_id)?;
                vec![E::CustomerUserRemoved(UserRef { user_id })]
            }
            C::IssueActivation {
                user_id,
                activation,
            } => {
                let user = self.user(&user_id)?;
                if user.activated {
                    return Err(CustomerError::UserAlreadyActive);
                }
                if user.disabled {
                    return Err(CustomerError::UserDisabled);
                }
                vec![issued(user_id, activation)]
            }
            C::ActivateUser { token_hash, now } => {
                let Some((user_id, user)) = self.user_by_token(&token_hash) else {
                    return Err(CustomerError::UnknownActivation);
                };
                if user.disabled {
                    return Err(CustomerError::UserDisabled);
                }
                if user
                    .activation
                    .as_ref()
                    .is_some_and(|a| a.expires_at <= now)
                {
                    return Err(CustomerError::Invalid(vec![Violation::new(
                        "token",
                        Rule::Expired,
                        "this activation token has expired; ask for a new one",
                    )]));
                }
                vec![E::CustomerUserActivated(UserRef {
                    user_id: user_id.clone(),
                })]
            }
            _ => unreachable!("decide_user is only given user commands"),
        })
    }
}
