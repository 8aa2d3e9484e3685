//! Given/when/then tests of the customer aggregate, one file per feature, and the givens
//! they share.

mod address_and_names;
mod assignments;
mod deletion;
mod impersonation;
mod products;
mod profile;
mod tree;
mod users;

use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::Rule;

type Given = TestFramework<Customer>;

fn created(profile: CustomerProfile) -> CustomerEvent {
    CustomerEvent::CustomerCreated(CustomerCreated {
        tenant: "acme".into(),
        profile,
        own_company: false,
        public: false,
        requested_name: None,
    })
}

/// The customer acme, created with only its name.
fn acme_created() -> CustomerEvent {
    created(CustomerProfile::named("acme"))
}

fn edit(changes: CustomerChanges) -> CustomerCommand {
    CustomerCommand::EditCustomer {
        expected_version: None,
        changes,
        required: vec![],
    }
}

fn rules(result: Result<Vec<CustomerEvent>, CustomerError>) -> Vec<(String, Rule)> {
    match result {
        Err(CustomerError::Invalid(v)) => v.into_iter().map(|v| (v.field, v.rule)).collect(),
        other => panic!("expected violations, got {other:?}"),
    }
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn profile(email: &str) -> UserProfile {
    UserProfile {
        email: email.into(),
        given_name: Some("Ann".into()),
        family_name: None,
        language: "en".into(),
        user_type: UserType::CustomerAdmin,
    }
}

fn issued(user: &str, hash: &str) -> CustomerEvent {
    CustomerEvent::ActivationIssued(ActivationIssued {
        user_id: user.into(),
        token_hash: hash.into(),
        expires_at: t0() + Duration::hours(24),
        method: ActivationMethod::ShowLink,
    })
}

fn added(user: &str) -> CustomerEvent {
    CustomerEvent::CustomerUserAdded(CustomerUserAdded {
        user_id: user.into(),
        user: profile("ann@acme.example"),
    })
}

fn with_user() -> Vec<CustomerEvent> {
    vec![acme_created(), added("u1"), issued("u1", "h1")]
}

#[test]
fn the_stored_event_type_names_never_change() {
    // Type names are the variants' names and are stored: renaming a variant breaks the log.
    assert_eq!(
        EVENT_TYPES,
        [
            "CustomerCreated",
            "CustomerEdited",
            "ProductVisibilitySet",
            "ProductActivated",
            "ProductStatusChanged",
            "AccountStatusChanged",
            "DeletionRequested",
            "DeletionCancelled",
            "CustomerDeleted",
            "ImpersonationStarted",
            "ImpersonationEnded",
            "CustomerUserAdded",
            "CustomerUserEdited",
            "CustomerUserDisabled",
            "CustomerUserEnabled",
            "CustomerUserRemoved",
            "ActivationIssued",
            "CustomerUserActivated",
            "CustomerMoved",
            "HomeDashboardSet",
            "AssignmentsReleased",
            "SessionEnded",
            "PasswordSet",
            "PasswordResetIssued",
            "SignInLockedOut",
            "ProductVisibilityReset",
        ]
    );
    let edited = CustomerEvent::CustomerEdited(CustomerEdited {
        changes: CustomerPatch::default(),
    });
    assert_eq!(cqrs_es::DomainEvent::event_type(&edited), "CustomerEdited");
    assert_eq!(cqrs_es::DomainEvent::event_version(&edited), "1.0");
}
