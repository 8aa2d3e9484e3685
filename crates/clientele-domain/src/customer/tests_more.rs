//! Given/when/then tests for users, inner customers and the home dashboard.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cqrs_es::test::TestFramework;

use super::*;
use crate::Rule;

type Given = TestFramework<Customer>;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap()
}

fn created() -> CustomerEvent {
    CustomerEvent::CustomerCreated(CustomerCreated {
        tenant: "acme".into(),
        profile: CustomerProfile::named("acme"),
        own_company: false,
    })
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

fn activation(hash: &str) -> NewActivation {
    NewActivation {
        token_hash: hash.into(),
        expires_at: t0() + Duration::hours(24),
        method: ActivationMethod::ShowLink,
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
    vec![created(), added("u1"), issued("u1", "h1")]
}

fn user_ref(user: &str) -> UserRef {
    UserRef {
        user_id: user.into(),
    }
}

fn rules(result: Result<Vec<CustomerEvent>, CustomerError>) -> Vec<(String, Rule)> {
    match result {
        Err(CustomerError::Invalid(v)) => v.into_iter().map(|v| (v.field, v.rule)).collect(),
        other => panic!("expected violations, got {other:?}"),
    }
}

#[test]
fn adding_a_user_records_it_and_its_first_activation_token() {
    let draft = UserDraft {
        email: " ann@acme.example ".into(),
        given_name: Some("Ann".into()),
        family_name: Some("  ".into()),
        language: None,
        user_type: UserType::CustomerAdmin,
    };
    Given::with(())
        .given(vec![created()])
        .when(CustomerCommand::User(UserCommand::AddUser {
            user_id: "u1".into(),
            draft,
            activation: activation("h1"),
        }))
        .then_expect_events(vec![added("u1"), issued("u1", "h1")]);
}

#[test]
fn a_user_needs_a_valid_email_and_valid_fields() {
    let draft = UserDraft {
        email: "not an address".into(),
        given_name: Some("x".repeat(101)),
        family_name: None,
        language: Some("english please".into()),
        user_type: UserType::CustomerUser,
    };
    let result = Given::with(())
        .given(vec![created()])
        .when(CustomerCommand::User(UserCommand::AddUser {
            user_id: "u1".into(),
            draft: UserDraft {
                email: "  ".into(),
                ..draft.clone()
            },
            activation: activation("h1"),
        }))
        .inspect_result();
    assert_eq!(rules(result)[0], ("email".into(), Rule::Required));
    let result = Given::with(())
        .given(vec![created()])
        .when(CustomerCommand::User(UserCommand::AddUser {
            user_id: "u1".into(),
            draft,
            activation: activation("h1"),
        }))
        .inspect_result();
    assert_eq!(
        rules(result),
        vec![
            ("email".into(), Rule::Format),
            ("givenName".into(), Rule::Length),
            ("language".into(), Rule::Format)
        ]
    );
}

#[test]
fn a_customer_has_at_most_max_users() {
    let mut given = vec![created()];
    for i in 0..MAX_USERS {
        given.push(CustomerEvent::CustomerUserAdded(CustomerUserAdded {
            user_id: format!("u{i}"),
            user: profile(&format!("u{i}@acme.example")),
        }));
    }
    let result = Given::with(())
        .given(given)
        .when(CustomerCommand::User(UserCommand::AddUser {
            user_id: "extra".into(),
            draft: UserDraft {
                email: "extra@acme.example".into(),
                given_name: None,
                family_name: None,
                language: None,
                user_type: UserType::CustomerUser,
            },
            activation: activation("h"),
        }))
        .inspect_result();
    assert_eq!(rules(result), vec![("customerId".into(), Rule::Limit)]);
}

#[test]
fn editing_a_user_keeps_only_real_changes() {
    let changes = UserChanges {
        email: Change::Set("ann@acme.example".into()),
        given_name: Change::Clear,
        family_name: Change::Set("Lee".into()),
        user_type: Change::Set(UserType::CustomerUser),
        ..Default::default()
    };
    Given::with(())
        .given(with_user())
        .when(CustomerCommand::User(UserCommand::EditUser {
            user_id: "u1".into(),
            changes,
        }))
        .then_expect_events(vec![CustomerEvent::CustomerUserEdited(
            CustomerUserEdited {
                user_id: "u1".into(),
                changes: UserPatch {
                    family_name: Some("Lee".into()),
                    user_type: Some(UserType::CustomerUser),
                    cleared: vec![UserField::GivenName],
                    ..Default::default()
                },
            },
        )]);
    let clear_email = UserChanges {
        email: Change::Clear,
        ..Default::default()
    };
    let result = Given::with(())
        .given(with_user())
        .when(CustomerCommand::User(UserCommand::EditUser {
            user_id: "u1".into(),
            changes: clear_email,
        }))
        .inspect_result();
    assert_eq!(rules(result), vec![("email".into(), Rule::NotNullable)]);
}

#[test]
fn disabling_and_enabling_are_idempotent_and_unknown_users_are_refused() {
    let disable = CustomerCommand::User(UserCommand::DisableUser {
        user_id: "u1".into(),
    });
    Given::with(())
        .given(with_user())
        .when(disable.clone())
        .then_expect_events(vec![CustomerEvent::CustomerUserDisabled(user_ref("u1"))]);
    let mut disabled = with_user();
    disabled.push(CustomerEvent::CustomerUserDisabled(user_ref("u1")));
    Given::with(())
        .given(disabled.clone())
        .when(disable)
        .then_expect_events(vec![]);
    Given::with(())
        .given(disabled)
        .when(CustomerCommand::User(UserCommand::EnableUser {
            user_id: "u1".into(),
        }))
        .then_expect_events(vec![CustomerEvent::CustomerUserEnabled(user_ref("u1"))]);
    Given::with(())
        .given(with_user())
        .when(CustomerCommand::User(UserCommand::RemoveUser {
            user_id: "nobody".into(),
        }))
        .then_expect_error(CustomerError::UserNotFound);
}

#[test]
fn an_activation_token_works_once_before_it_expires() {
    let activate = |hash: &str, now| {
        CustomerCommand::User(UserCommand::ActivateUser {
            token_hash: hash.into(),
            now,
        })
    };
    Given::with(())
        .given(with_user())
        .when(activate("h1", t0() + Duration::hours(23)))
        .then_expect_events(vec![CustomerEvent::CustomerUserActivated(user_ref("u1"))]);
    let result = Given::with(())
        .given(with_user())
        .when(activate("h1", t0() + Duration::hours(24)))
        .inspect_result();
    assert_eq!(rules(result), vec![("token".into(), Rule::Expired)]);
    let mut activated = with_user();
    activated.push(CustomerEvent::CustomerUserActivated(user_ref("u1")));
    Given::with(())
        .given(activated.clone())
        .when(activate("h1", t0()))
        .then_expect_error(CustomerError::UnknownActivation);
    Given::with(())
        .given(activated)
        .when(CustomerCommand::User(UserCommand::IssueActivation {
            user_id: "u1".into(),
            activation: activation("h2"),
        }))
        .then_expect_error(CustomerError::UserAlreadyActive);
}

#[test]
fn reissuing_voids_the_previous_token() {
    let mut reissued = with_user();
    reissued.push(issued("u1", "h2"));
    Given::with(())
        .given(reissued.clone())
        .when(CustomerCommand::User(UserCommand::ActivateUser {
            token_hash: "h1".into(),
            now: t0(),
        }))
        .then_expect_error(CustomerError::UnknownActivation);
    Given::with(())
        .given(reissued)
        .when(CustomerCommand::User(UserCommand::ActivateUser {
            token_hash: "h2".into(),
            now: t0(),
        }))
        .then_expect_events(vec![CustomerEvent::CustomerUserActivated(user_ref("u1"))]);
}

#[test]
fn a_disabled_user_cannot_activate() {
    let mut given = with_user();
    given.push(CustomerEvent::CustomerUserDisabled(user_ref("u1")));
    Given::with(())
        .given(given)
        .when(CustomerCommand::User(UserCommand::ActivateUser {
            token_hash: "h1".into(),
            now: t0(),
        }))
        .then_expect_error(CustomerError::UserDisabled);
}

fn parent(id: &str, exists: bool, ancestors: &[&str]) -> ParentFacts {
    ParentFacts {
        id: id.into(),
        exists,
        ancestors: ancestors.iter().map(|a| a.to_string()).collect(),
    }
}

fn moved(from: Option<&str>, to: Option<&str>) -> CustomerEvent {
    CustomerEvent::CustomerMoved(CustomerMoved {
        from: from.map(Into::into),
        to: to.map(Into::into),
    })
}

#[test]
fn an_inner_customer_is_created_under_a_live_parent() {
    let create = |parent| CustomerCommand::CreateCustomer {
        tenant: "acme".into(),
        draft: CustomerDraft {
            name: "acme".into(),
            ..Default::default()
        },
        required: vec![],
        parent: Some(parent),
    };
    Given::with(())
        .given_no_previous_events()
        .when(create(parent("p", true, &[])))
        .then_expect_events(vec![created(), moved(None, Some("p"))]);
    let result = Given::with(())
        .given_no_previous_events()
        .when(create(parent("gone", false, &[])))
        .inspect_result();
    assert_eq!(
        rules(result),
        vec![("parentId".into(), Rule::UnknownCustomer)]
    );
}

#[test]
fn moving_refuses_cycles_and_records_both_parents() {
    let move_to = |p: Option<ParentFacts>| CustomerCommand::MoveCustomer {
        id: "me".into(),
        parent: p,
    };
    let under_p = vec![created(), moved(None, Some("p"))];
    Given::with(())
        .given(under_p.clone())
        .when(move_to(Some(parent("q", true, &["r"]))))
        .then_expect_events(vec![moved(Some("p"), Some("q"))]);
    Given::with(())
        .given(under_p.clone())
        .when(move_to(None))
        .then_expect_events(vec![moved(Some("p"), None)]);
    Given::with(())
        .given(under_p.clone())
        .when(move_to(Some(parent("p", true, &[]))))
        .then_expect_events(vec![]);
    for facts in [
        parent("me", true, &[]),
        parent("grandchild", true, &["me", "child"]),
    ] {
        let result = Given::with(())
            .given(under_p.clone())
            .when(move_to(Some(facts)))
            .inspect_result();
        assert_eq!(rules(result), vec![("parentId".into(), Rule::Cycle)]);
    }
}

#[test]
fn a_customer_with_inner_customers_is_deleted_only_with_its_subtree() {
    let delete = |inner: Vec<String>, confirmation| CustomerCommand::DeleteCustomer {
        confirmation,
        deleted_by: "bob".into(),
        inner_customers: inner,
    };
    Given::with(())
        .given(with_user())
        .when(delete(
            vec!["child".into()],
            Confirmation::Typed("acme".into()),
        ))
        .then_expect_error(CustomerError::HasInnerCustomers(vec!["child".into()]));
    let events = Given::with(())
        .given(with_user())
        .when(delete(
            vec![],
            Confirmation::Subtree {
                root: "parent".into(),
            },
        ))
        .inspect_result()
        .unwrap();
    let types: Vec<String> = events
        .iter()
        .map(cqrs_es::DomainEvent::event_type)
        .collect();
    assert_eq!(
        types,
        [
            "CustomerUserRemoved",
            "AssignmentsReleased",
            "CustomerDeleted",
            "AccountStatusChanged"
        ]
    );
    let mut customer = Customer::default();
    for event in with_user().into_iter().chain(events) {
        customer.apply(event);
    }
    assert!(customer.users.is_empty(), "users go with the customer");
}

#[test]
fn the_home_dashboard_must_be_assigned_to_the_customer() {
    let set = |assigned| CustomerCommand::SetHomeDashboard {
        dashboard: Some(DashboardFacts {
            id: "d1".into(),
            assigned,
        }),
        hide_toolbar: true,
    };
    let result = Given::with(())
        .given(vec![created()])
        .when(set(false))
        .inspect_result();
    assert_eq!(
        rules(result),
        vec![("dashboardId".into(), Rule::NotAssigned)]
    );
    let home = CustomerEvent::HomeDashboardSet(HomeDashboardSet {
        dashboard_id: Some("d1".into()),
        hide_toolbar: true,
    });
    Given::with(())
        .given(vec![created()])
        .when(set(true))
        .then_expect_events(vec![home.clone()]);
    Given::with(())
        .given(vec![created(), home])
        .when(set(true))
        .then_expect_events(vec![]);
}
