//! THE rule of which events end sessions: access that was taken back stops at once.
//!
//! Every token Clientele mints belongs to a session (its `sid` claim). Sessions end in two
//! ways, both recorded as events so that every instance learns them from the log:
//!
//! - one session by its id: `SessionEnded` (an impersonation that ends itself);
//! - every session of a subject issued before an event: a user disabled or removed
//!   (`CustomerUserDisabled`, `CustomerUserRemoved`), a customer deleted (every
//!   impersonation of it; its users are removed by the same command), and a tenant admin's
//!   `revokeSessions` (`SessionsRevoked` on the tenant).
//!
//! The store keeps what these rules yield in a read model and in memory; the API refuses
//! a token whose session ended.

use chrono::{DateTime, Utc};

use crate::customer::CustomerEvent;
use crate::tenant::TenantEvent;

/// What an event ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEnd {
    /// The session with this id; its tokens expire at `expires_at` anyway.
    Session {
        session: String,
        expires_at: DateTime<Utc>,
    },
    /// Every session of the subject whose tokens were issued before the event occurred.
    Subject(String),
}

/// The subject of the tokens a user of a customer gets at activation.
pub fn user_subject(user_id: &str) -> String {
    format!("customer-user:{user_id}")
}

/// The subject of every impersonation (`loginAs`) token of a customer.
pub fn impersonation_subject(customer_id: &str) -> String {
    format!("customer-admin:{customer_id}")
}

/// The sessions an event of customer `customer_id` ends.
pub fn ended_by_customer_event(customer_id: &str, event: &CustomerEvent) -> Vec<SessionEnd> {
    use CustomerEvent as E;
    match event {
        E::SessionEnded(ended) => vec![SessionEnd::Session {
            session: ended.session.clone(),
            expires_at: ended.expires_at,
        }],
        E::CustomerUserDisabled(user) | E::CustomerUserRemoved(user) => {
            vec![SessionEnd::Subject(user_subject(&user.user_id))]
        }
        E::CustomerDeleted(_) => vec![SessionEnd::Subject(impersonation_subject(customer_id))],
        // A reset ends every session of the user; the first password ends none.
        E::PasswordSet(set) if set.reset => vec![SessionEnd::Subject(user_subject(&set.user_id))],
        E::PasswordSet(_) => Vec::new(),
        E::CustomerCreated(_)
        | E::CustomerEdited(_)
        | E::ProductVisibilitySet(_)
        | E::ProductVisibilityReset(_)
        | E::ProductActivated(_)
        | E::ProductStatusChanged(_)
        | E::AccountStatusChanged(_)
        | E::DeletionRequested(_)
        | E::DeletionCancelled(_)
        | E::ImpersonationStarted(_)
        // The impersonation's own session ends with the `SessionEnded` that follows.
        | E::ImpersonationEnded(_)
        | E::CustomerUserAdded(_)
        | E::CustomerUserEdited(_)
        // Enabling a user again does not bring its old tokens back.
        | E::CustomerUserEnabled(_)
        | E::ActivationIssued(_)
        | E::CustomerUserActivated(_)
        | E::CustomerMoved(_)
        | E::HomeDashboardSet(_)
        | E::AssignmentsReleased(_)
        | E::PasswordResetIssued(_)
        | E::SignInLockedOut(_) => Vec::new(),
    }
}

/// The sessions an event of a tenant ends.
pub fn ended_by_tenant_event(event: &TenantEvent) -> Vec<SessionEnd> {
    match event {
        TenantEvent::SessionsRevoked { subject } => vec![SessionEnd::Subject(subject.clone())],
        TenantEvent::RequiredCustomerFieldsSet { .. }
        | TenantEvent::ProductAdded { .. }
        | TenantEvent::GlobalProductVisibilitySet { .. }
        | TenantEvent::DeletionGracePeriodSet { .. }
        | TenantEvent::DeletionNoticesSet { .. }
        | TenantEvent::WebhookEndpointRegistered(_)
        | TenantEvent::WebhookEndpointUpdated(_)
        | TenantEvent::WebhookEndpointDisabled(_)
        | TenantEvent::WebhookEndpointEnabled(_)
        | TenantEvent::WebhookEndpointDeleted(_)
        | TenantEvent::WebhookSecretRotated(_) => Vec::new(),
    }
}

/// The stored type names of the events that may end a session, so a reader of the log can
/// skip the others without decoding them. `ended_by_*` decide on the typed events.
pub const SESSION_ENDING_TYPES: &[&str] = &[
    "SessionEnded",
    "CustomerUserDisabled",
    "CustomerUserRemoved",
    "CustomerDeleted",
    "SessionsRevoked",
    "PasswordSet",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customer::UserRef;

    #[test]
    fn every_session_ending_type_is_a_stored_event_type() {
        for name in SESSION_ENDING_TYPES {
            assert!(
                CustomerEvent::TYPES.contains(name) || TenantEvent::TYPES.contains(name),
                "{name}"
            );
        }
    }

    #[test]
    fn disabling_or_removing_a_user_ends_its_sessions_and_enabling_does_not_restore_them() {
        let user = || UserRef {
            user_id: "u1".into(),
        };
        let expected = vec![SessionEnd::Subject("customer-user:u1".into())];
        let disabled = CustomerEvent::CustomerUserDisabled(user());
        assert_eq!(ended_by_customer_event("c1", &disabled), expected);
        let removed = CustomerEvent::CustomerUserRemoved(user());
        assert_eq!(ended_by_customer_event("c1", &removed), expected);
        let enabled = CustomerEvent::CustomerUserEnabled(user());
        assert_eq!(ended_by_customer_event("c1", &enabled), vec![]);
    }

    #[test]
    fn a_password_reset_ends_the_users_sessions_and_the_first_password_does_not() {
        let set = |reset| {
            CustomerEvent::PasswordSet(crate::customer::PasswordSet {
                user_id: "u1".into(),
                credential: crate::customer::Credential {
                    password_hash: "$argon2id$…".into(),
                },
                reset,
            })
        };
        assert_eq!(
            ended_by_customer_event("c1", &set(true)),
            vec![SessionEnd::Subject("customer-user:u1".into())]
        );
        assert_eq!(ended_by_customer_event("c1", &set(false)), vec![]);
    }

    #[test]
    fn deleting_a_customer_ends_every_impersonation_of_it() {
        let deleted = CustomerEvent::CustomerDeleted(crate::customer::CustomerDeleted {
            request_id: None,
            deleted_by: "ann".into(),
            automatic: false,
            deleted_with: None,
        });
        assert_eq!(
            ended_by_customer_event("c1", &deleted),
            vec![SessionEnd::Subject("customer-admin:c1".into())]
        );
    }

    #[test]
    fn revoking_a_subject_ends_its_sessions() {
        let revoked = TenantEvent::SessionsRevoked {
            subject: "rita".into(),
        };
        assert_eq!(
            ended_by_tenant_event(&revoked),
            vec![SessionEnd::Subject("rita".into())]
        );
    }
}
