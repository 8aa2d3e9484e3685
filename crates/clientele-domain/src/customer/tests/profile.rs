//! Creating, registering the own company and editing: the fields and their rules.

use super::*;
use crate::Violation;

fn create(draft: CustomerDraft) -> CustomerCommand {
    CustomerCommand::CreateCustomer {
        tenant: "acme".into(),
        draft,
        required: vec![],
        parent: None,
        requested_name: None,
        products: vec![],
    }
}

fn draft(name: &str) -> CustomerDraft {
    CustomerDraft {
        name: name.into(),
        ..Default::default()
    }
}

fn violations(command: CustomerCommand) -> Vec<Violation> {
    match Given::with(())
        .given_no_previous_events()
        .when(command)
        .inspect_result()
    {
        Err(CustomerError::Invalid(violations)) => violations,
        other => panic!("expected violations, got {other:?}"),
    }
}

fn rules_of(violations: &[Violation]) -> Vec<(&str, Rule)> {
    violations
        .iter()
        .map(|v| (v.field.as_str(), v.rule))
        .collect()
}

#[test]
fn creating_a_customer_with_only_a_name_records_its_defaults() {
    Given::with(())
        .given_no_previous_events()
        .when(create(draft("acme")))
        .then_expect_events(vec![created(CustomerProfile::named("acme"))]);
}

#[test]
fn names_are_lower_cased_and_spaces_become_hyphens() {
    Given::with(())
        .given_no_previous_events()
        .when(create(draft("  TEST CUSTOMER ")))
        .then_expect_events(vec![created(CustomerProfile::named("test-customer"))]);
}

#[test]
fn a_blank_name_is_refused() {
    assert_eq!(
        rules_of(&violations(create(draft("   ")))),
        vec![("name", Rule::Required)]
    );
}

#[test]
fn creating_a_customer_twice_is_refused() {
    Given::with(())
        .given(vec![created(CustomerProfile::named("acme"))])
        .when(create(draft("acme")))
        .then_expect_error(CustomerError::AlreadyExists);
}

#[test]
fn every_field_of_the_creation_form_is_accepted_and_trimmed() {
    let input = CustomerDraft {
        name: "Umbrella".into(),
        email: Some(" ops@umbrella.example ".into()),
        given_name: Some("Alice".into()),
        family_name: Some("Wong".into()),
        organization: Some("Umbrella Corp".into()),
        shortname: Some("umb-01.x_~".into()),
        customer_type: Some(CustomerType::Mssp),
        service_status: Some(ServiceStatus::TrialActive),
        contractual_flows_per_second: Some(0),
        multi_account: Some(true),
        data_retention_days: Some(45),
        rollup_retention_days: Some(365),
        language: Some("pt-BR".into()),
        phone: Some("+1 (555) 010-0000".into()),
        ..Default::default()
    };
    let events = Given::with(())
        .given_no_previous_events()
        .when(create(input))
        .inspect_result()
        .expect("valid");
    let CustomerEvent::CustomerCreated(created) = &events[0] else {
        panic!("expected CustomerCreated")
    };
    assert_eq!(
        created.profile.email.as_deref(),
        Some("ops@umbrella.example")
    );
    assert_eq!(created.profile.shortname.as_deref(), Some("umb-01.x_~"));
    assert_eq!(created.profile.language, "pt-BR");
    assert!(created.profile.multi_account && !created.profile.internal);
}

#[test]
fn shortnames_must_be_5_to_16_unreserved_characters_without_plus() {
    for (shortname, rule) in [
        ("abcd", Rule::Length),
        ("abcdefghijklmnopq", Rule::Length),
        ("abc+def", Rule::Charset),
        ("abc def", Rule::Charset),
        ("abc/def", Rule::Charset),
        ("abcdé", Rule::Charset),
    ] {
        let input = CustomerDraft {
            shortname: Some(shortname.into()),
            ..draft("acme")
        };
        assert_eq!(
            rules_of(&violations(create(input))),
            vec![("shortname", rule)],
            "{shortname}"
        );
    }
}

#[test]
fn retentions_take_only_the_listed_options() {
    let input = CustomerDraft {
        data_retention_days: Some(30),
        rollup_retention_days: Some(45),
        ..draft("acme")
    };
    assert_eq!(
        rules_of(&violations(create(input))),
        vec![
            ("dataRetentionDays", Rule::AllowedValues),
            ("rollupRetentionDays", Rule::AllowedValues)
        ]
    );
    for days in DATA_RETENTION_DAYS {
        let input = CustomerDraft {
            data_retention_days: Some(days),
            ..draft("acme")
        };
        assert!(Given::with(())
            .given_no_previous_events()
            .when(create(input))
            .inspect_result()
            .is_ok());
    }
}

#[test]
fn every_broken_rule_is_reported_at_once() {
    let input = CustomerDraft {
        email: Some("not-an-address".into()),
        language: Some("english please".into()),
        contractual_flows_per_second: Some(-1),
        phone: Some("call me".into()),
        given_name: Some("x".repeat(101)),
        ..draft("acme")
    };
    assert_eq!(
        rules_of(&violations(create(input))),
        vec![
            ("email", Rule::Format),
            ("givenName", Rule::Length),
            ("language", Rule::Format),
            ("phone", Rule::Format),
            ("contractualFlowsPerSecond", Rule::Range),
        ]
    );
}

#[test]
fn a_tenant_can_require_fields_of_the_creation_form() {
    let command = CustomerCommand::CreateCustomer {
        tenant: "acme".into(),
        draft: CustomerDraft {
            email: Some("  ".into()),
            ..draft("acme")
        },
        required: vec![CustomerField::Email, CustomerField::Type],
        parent: None,
        requested_name: None,
        products: vec![],
    };
    assert_eq!(
        rules_of(&violations(command)),
        vec![("email", Rule::Required), ("type", Rule::Required)]
    );
}

#[test]
fn an_edit_records_only_the_changed_fields() {
    let changes = CustomerChanges {
        name: Change::Set("ACME".into()),
        organization: Change::Set("Acme Inc".into()),
        internal: Change::Set(false),
        ..Default::default()
    };
    Given::with(())
        .given(vec![created(CustomerProfile::named("acme"))])
        .when(edit(changes))
        .then_expect_events(vec![CustomerEvent::CustomerEdited(CustomerEdited {
            changes: CustomerPatch {
                organization: Some("Acme Inc".into()),
                ..Default::default()
            },
        })]);
}

#[test]
fn an_edit_that_changes_nothing_writes_no_event() {
    let changes = CustomerChanges {
        name: Change::Set("acme".into()),
        email: Change::Clear,
        ..Default::default()
    };
    Given::with(())
        .given(vec![created(CustomerProfile::named("acme"))])
        .when(edit(changes))
        .then_expect_events(vec![]);
}

#[test]
fn clearing_a_field_records_it_as_cleared() {
    let profile = CustomerProfile {
        phone: Some("555 0100".into()),
        ..CustomerProfile::named("acme")
    };
    let changes = CustomerChanges {
        phone: Change::Clear,
        ..Default::default()
    };
    Given::with(())
        .given(vec![created(profile)])
        .when(edit(changes))
        .then_expect_events(vec![CustomerEvent::CustomerEdited(CustomerEdited {
            changes: CustomerPatch {
                cleared: vec![CustomerField::Phone],
                ..Default::default()
            },
        })]);
}

#[test]
fn the_name_language_and_flags_cannot_be_cleared() {
    let changes = CustomerChanges {
        name: Change::Clear,
        language: Change::Clear,
        test_account: Change::Clear,
        ..Default::default()
    };
    let result = Given::with(())
        .given(vec![created(CustomerProfile::named("acme"))])
        .when(edit(changes))
        .inspect_result();
    let Err(CustomerError::Invalid(violations)) = result else {
        panic!("expected violations")
    };
    assert_eq!(
        rules_of(&violations),
        vec![
            ("name", Rule::NotNullable),
            ("language", Rule::NotNullable),
            ("testAccount", Rule::NotNullable)
        ]
    );
}

#[test]
fn a_required_field_cannot_be_cleared() {
    let profile = CustomerProfile {
        email: Some("a@b.example".into()),
        ..CustomerProfile::named("acme")
    };
    let command = CustomerCommand::EditCustomer {
        expected_version: None,
        changes: CustomerChanges {
            email: Change::Set(" ".into()),
            ..Default::default()
        },
        required: vec![CustomerField::Email],
    };
    Given::with(())
        .given(vec![created(profile)])
        .when(command)
        .then_expect_error(CustomerError::Invalid(vec![Violation::new(
            "email",
            Rule::Required,
            "email is required by this tenant",
        )]));
}

#[test]
fn editing_with_a_stale_version_is_a_conflict() {
    let command = CustomerCommand::EditCustomer {
        expected_version: Some(0),
        changes: CustomerChanges::default(),
        required: vec![],
    };
    Given::with(())
        .given(vec![created(CustomerProfile::named("acme"))])
        .when(command)
        .then_expect_error(CustomerError::VersionConflict {
            expected: 0,
            actual: 1,
        });
}

#[test]
fn editing_a_customer_that_does_not_exist_is_not_found() {
    Given::with(())
        .given_no_previous_events()
        .when(edit(CustomerChanges::default()))
        .then_expect_error(CustomerError::NotFound);
}

#[test]
fn events_fold_to_the_profile_the_commands_described() {
    let mut customer = Customer::default();
    customer.apply(created(CustomerProfile::named("acme")));
    customer.apply(CustomerEvent::CustomerEdited(CustomerEdited {
        changes: CustomerPatch {
            city: Some("Lyon".into()),
            test_account: Some(true),
            ..Default::default()
        },
    }));
    let profile = customer.profile.expect("created");
    assert_eq!(customer.version, 2);
    assert_eq!(profile.city.as_deref(), Some("Lyon"));
    assert!(profile.test_account);
}

#[test]
fn events_keep_their_stored_shape() {
    // Events are a storage contract: this JSON must keep deserialising.
    let stored =
        r#"{"CustomerEdited":{"changes":{"type":"SLG","givenName":"Ann","cleared":["PHONE"]}}}"#;
    let event: CustomerEvent = serde_json::from_str(stored).expect("stored shape");
    assert_eq!(
        event,
        CustomerEvent::CustomerEdited(CustomerEdited {
            changes: CustomerPatch {
                customer_type: Some(CustomerType::Slg),
                given_name: Some("Ann".into()),
                cleared: vec![CustomerField::Phone],
                ..Default::default()
            }
        })
    );
}

#[test]
fn the_tenants_own_company_takes_no_command() {
    let own = CustomerEvent::CustomerCreated(CustomerCreated {
        tenant: "acme".into(),
        profile: CustomerProfile::named("acme"),
        own_company: true,
        public: false,
        requested_name: None,
    });
    Given::with(())
        .given(vec![own])
        .when(edit(CustomerChanges::default()))
        .then_expect_error(CustomerError::OwnCompany);
}

#[test]
fn the_tenants_public_customer_is_registered_once_and_takes_no_command() {
    let register = || CustomerCommand::RegisterPublicCustomer {
        tenant: "acme".into(),
        name: "Public".into(),
    };
    let public = CustomerEvent::CustomerCreated(CustomerCreated {
        tenant: "acme".into(),
        profile: CustomerProfile::named("public"),
        own_company: false,
        public: true,
        requested_name: None,
    });
    Given::with(())
        .given_no_previous_events()
        .when(register())
        .then_expect_events(vec![public.clone()]);
    Given::with(())
        .given(vec![public.clone()])
        .when(register())
        .then_expect_error(CustomerError::PublicCustomer);
    Given::with(())
        .given(vec![public])
        .when(edit(CustomerChanges::default()))
        .then_expect_error(CustomerError::PublicCustomer);
}
