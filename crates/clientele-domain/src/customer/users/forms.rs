//! The add-user and edit-user forms and their validation. A user's fields obey the same
//! rules as the customer's fields of the same name.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fields::{ActivationMethod, UserField, UserPatch, UserProfile, UserType};
use crate::customer::profile::fields::CustomerField;
use crate::customer::profile::forms::Change;
use crate::customer::profile::rules::{not_nullable, Checker};
use crate::{Rule, Violation};

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

/// The email is required and obeys the customer email's rule.
fn required_email(c: &mut Checker, raw: &str) -> String {
    match c.text(CustomerField::Email, Some(raw)) {
        Some(email) => email,
        None => {
            c.note(Violation::new("email", Rule::Required, "email is required"));
            String::new()
        }
    }
}

impl UserDraft {
    /// Validates and normalises every field; all violations are reported at once.
    pub fn validate(&self) -> Result<UserProfile, Vec<Violation>> {
        let mut c = Checker::default();
        let profile = UserProfile {
            email: required_email(&mut c, &self.email),
            given_name: c.text(CustomerField::GivenName, self.given_name.as_deref()),
            family_name: c.text(CustomerField::FamilyName, self.family_name.as_deref()),
            language: c
                .text(CustomerField::Language, self.language.as_deref())
                .unwrap_or_else(|| "en".into()),
            user_type: self.user_type,
        };
        c.finish(profile)
    }
}

impl UserChanges {
    /// Validates the changes against the user and keeps only real changes.
    pub fn validate(&self, current: &UserProfile) -> Result<UserPatch, Vec<Violation>> {
        let mut c = Checker::default();
        let mut patch = UserPatch::default();
        match &self.email {
            Change::Keep => {}
            Change::Clear => c.note(not_nullable("email")),
            Change::Set(raw) => {
                let email = required_email(&mut c, raw);
                if email != current.email {
                    patch.email = Some(email);
                }
            }
        }
        match &self.language {
            Change::Keep => {}
            Change::Clear => c.note(not_nullable("language")),
            Change::Set(raw) => match c.text(CustomerField::Language, Some(raw)) {
                None => c.note(not_nullable("language")),
                Some(l) if l != current.language => patch.language = Some(l),
                Some(_) => {}
            },
        }
        match &self.user_type {
            Change::Keep => {}
            Change::Clear => c.note(not_nullable("userType")),
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
                Change::Set(raw) => c.text(field, Some(raw)),
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
        c.finish(patch)
    }
}
