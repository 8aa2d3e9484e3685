//! Users of a customer. A customer has few users, so they live in the customer aggregate:
//! their personal fields are sealed with the customer's key, and deleting the customer
//! removes them with it. An activation token is kept only as its hash.

pub(super) mod fields;
pub(super) mod forms;
pub mod passwords;

pub use fields::{
    ActivationMethod, CustomerUser, PendingActivation, UserField, UserPatch, UserProfile,
    UserStatus, UserType, MAX_USERS,
};
pub use forms::{NewActivation, UserChanges, UserDraft};

use super::command::UserCommand;
use super::event::{
    ActivationIssued, CustomerEvent, CustomerUserAdded, CustomerUserEdited, PasswordResetIssued,
    PasswordSet, SessionEnded, UserRef,
};
use super::{Customer, CustomerError};
use crate::{Rule, Violation};

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

    /// Refuses an email that another user of this customer holds, case-insensitively. The
    /// tenant-wide unique key only catches other customers' users: the key this customer
    /// already holds is not claimed again, so the check for its own users lives here.
    pub(super) fn check_email_free(&self, email: &str, except: &str) -> Result<(), CustomerError> {
        let taken = self
            .users
            .iter()
            .any(|(id, u)| id != except && u.profile.email.to_lowercase() == email.to_lowercase());
        match taken {
            true => Err(CustomerError::DuplicateUserEmail),
            false => Ok(()),
        }
    }

    /// The user holding this pending token, if it is usable at `now` (not disabled, not
    /// expired).
    pub(super) fn usable_token(
        &self,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(&String, &CustomerUser), CustomerError> {
        let Some((user_id, user)) = self.user_by_token(token_hash) else {
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
                "this link has expired; ask for a new one",
            )]));
        }
        Ok((user_id, user))
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
        command: UserCommand,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        use CustomerEvent as E;
        use UserCommand as C;
        self.require_created()?;
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
                self.check_email_free(&user.email, &user_id)?;
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
                if let Some(email) = &patch.email {
                    self.check_email_free(email, &user_id)?;
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
            C::SetPassword {
                token_hash,
                password,
                password_hash,
                now,
            } => {
                let (user_id, user) = self.usable_token(&token_hash, now)?;
                passwords::check_password(&password, &user.profile.email)
                    .map_err(CustomerError::Invalid)?;
                let reset = user.activated;
                let mut events = Vec::new();
                if !user.activated {
                    events.push(E::CustomerUserActivated(UserRef {
                        user_id: user_id.clone(),
                    }));
                }
                events.push(E::PasswordSet(PasswordSet {
                    user_id: user_id.clone(),
                    credential: super::event::Credential { password_hash },
                    reset,
                }));
                events
            }
            C::IssuePasswordReset {
                user_id,
                token_hash,
                expires_at,
            } => {
                let user = self.user(&user_id)?;
                if user.disabled {
                    return Err(CustomerError::UserDisabled);
                }
                vec![E::PasswordResetIssued(PasswordResetIssued {
                    user_id,
                    token_hash,
                    expires_at,
                })]
            }
            C::RecordLockout {
                user_id,
                until,
                address,
            } => {
                self.user(&user_id)?;
                vec![E::SignInLockedOut(super::event::SignInLockedOut {
                    user_id,
                    until,
                    address,
                })]
            }
            C::EndSession {
                user_id,
                session,
                expires_at,
                now,
            } => {
                self.user(&user_id)?;
                if self.ended_sessions.contains_key(&session) {
                    return Ok(vec![]);
                }
                vec![E::SessionEnded(SessionEnded {
                    session,
                    expires_at,
                    ended_at: now,
                })]
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
        })
    }
}
