//! Users of a customer and their activation.

use super::*;

fn activation(hash: &str) -> NewActivation {
    NewActivation {
        token_hash: hash.into(),
        expires_at: t0() + Duration::hours(24),
        method: ActivationMethod::ShowLink,
    }
}

fn user_ref(user: &str) -> UserRef {
    UserRef {
        user_id: user.into(),
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
        .given(vec![acme_created()])
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
        .given(vec![acme_created()])
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
        .given(vec![acme_created()])
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
    let mut given = vec![acme_created()];
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
fn one_email_is_one_user_of_the_customer_case_insensitively() {
    let draft = |email: &str| UserDraft {
        email: email.into(),
        given_name: None,
        family_name: None,
        language: None,
        user_type: UserType::CustomerUser,
    };
    for email in ["ann@acme.example", "ANN@Acme.Example"] {
        Given::with(())
            .given(with_user())
            .when(CustomerCommand::User(UserCommand::AddUser {
                user_id: "u2".into(),
                draft: draft(email),
                activation: activation("h2"),
            }))
            .then_expect_error(CustomerError::DuplicateUserEmail);
    }
    let mut given = with_user();
    given.push(CustomerEvent::CustomerUserAdded(CustomerUserAdded {
        user_id: "u2".into(),
        user: profile("bob@acme.example"),
    }));
    let to = |email: &str| UserChanges {
        email: Change::Set(email.into()),
        ..Default::default()
    };
    Given::with(())
        .given(given.clone())
        .when(CustomerCommand::User(UserCommand::EditUser {
            user_id: "u2".into(),
            changes: to("Ann@ACME.example"),
        }))
        .then_expect_error(CustomerError::DuplicateUserEmail);
    // A user may change the case of its own email.
    Given::with(())
        .given(given)
        .when(CustomerCommand::User(UserCommand::EditUser {
            user_id: "u1".into(),
            changes: to("ANN@acme.example"),
        }))
        .then_expect_events(vec![CustomerEvent::CustomerUserEdited(
            CustomerUserEdited {
                user_id: "u1".into(),
                changes: UserPatch {
                    email: Some("ANN@acme.example".into()),
                    ..Default::default()
                },
            },
        )]);
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

fn set_password(hash: &str, password: &str) -> CustomerCommand {
    CustomerCommand::User(UserCommand::SetPassword {
        token_hash: hash.into(),
        password: password.into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$salt$hash".into(),
        now: t0() + Duration::hours(1),
    })
}

fn password_set(user: &str, reset: bool) -> CustomerEvent {
    CustomerEvent::PasswordSet(PasswordSet {
        user_id: user.into(),
        credential: Credential {
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$salt$hash".into(),
        },
        reset,
    })
}

#[test]
fn a_password_set_with_the_activation_token_activates_the_user() {
    Given::with(())
        .given(vec![acme_created(), added("u1"), issued("u1", "h1")])
        .when(set_password("h1", "correct horse battery staple"))
        .then_expect_events(vec![
            CustomerEvent::CustomerUserActivated(user_ref("u1")),
            password_set("u1", false),
        ]);
}

#[test]
fn a_password_set_with_a_reset_token_is_a_reset_and_a_used_token_is_unknown() {
    let reset = CustomerEvent::PasswordResetIssued(PasswordResetIssued {
        user_id: "u1".into(),
        token_hash: "r1".into(),
        expires_at: t0() + Duration::hours(2),
    });
    Given::with(())
        .given(vec![
            acme_created(),
            added("u1"),
            issued("u1", "h1"),
            CustomerEvent::CustomerUserActivated(user_ref("u1")),
            password_set("u1", false),
            reset,
        ])
        .when(set_password("r1", "another long passphrase"))
        .then_expect_events(vec![password_set("u1", true)]);
    Given::with(())
        .given(vec![acme_created(), added("u1"), issued("u1", "h1")])
        .when(set_password("h1", "password1"))
        .then_expect_error(CustomerError::Invalid(vec![crate::Violation::new(
            "password",
            Rule::CommonPassword,
            "this password is one of the most commonly used ones; choose another",
        )]));
    Given::with(())
        .given(vec![
            acme_created(),
            added("u1"),
            issued("u1", "h1"),
            CustomerEvent::CustomerUserActivated(user_ref("u1")),
            password_set("u1", false),
        ])
        .when(set_password("h1", "correct horse battery staple"))
        .then_expect_error(CustomerError::UnknownActivation);
}
