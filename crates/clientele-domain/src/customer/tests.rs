//! Given/when/then tests for every rule of the customer aggregate.

use cqrs_es::test::TestFramework;

use super::*;
use crate::{Rule, Violation};

type Given = TestFramework<Customer>;

fn create(draft: CustomerDraft) -> CustomerCommand {
    CustomerCommand::CreateCustomer {
        tenant: "acme".into(),
        draft,
        required: vec![],
        parent: None,
    }
}

fn draft(name: &str) -> CustomerDraft {
    CustomerDraft {
        name: name.into(),
        ..Default::default()
    }
}

fn created(profile: CustomerProfile) -> CustomerEvent {
    CustomerEvent::CustomerCreated(CustomerCreated {
        tenant: "acme".into(),
        profile,
        own_company: false,
    })
}

fn edit(changes: CustomerChanges) -> CustomerCommand {
    CustomerCommand::EditCustomer {
        expected_version: None,
        changes,
        required: vec![],
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
fn every_seed_000_field_is_accepted_and_trimmed() {
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
fn a_tenant_can_require_seed_000_fields() {
    let command = CustomerCommand::CreateCustomer {
        tenant: "acme".into(),
        draft: CustomerDraft {
            email: Some("  ".into()),
            ..draft("acme")
        },
        required: vec![CustomerField::Email, CustomerField::Type],
        parent: None,
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
        ]
    );
    let edited = CustomerEvent::CustomerEdited(CustomerEdited {
        changes: CustomerPatch::default(),
    });
    assert_eq!(cqrs_es::DomainEvent::event_type(&edited), "CustomerEdited");
    assert_eq!(cqrs_es::DomainEvent::event_version(&edited), "1.0");
}

mod products {
    use super::*;
    use crate::{AccountStatus, ProductStatus};

    const LISTED_HIDDEN: CatalogueEntry = CatalogueEntry::Listed {
        globally_visible: false,
    };
    const LISTED_VISIBLE: CatalogueEntry = CatalogueEntry::Listed {
        globally_visible: true,
    };

    fn activate(product: &str, catalogue: CatalogueEntry) -> CustomerCommand {
        CustomerCommand::ActivateProduct {
            product: product.into(),
            catalogue,
        }
    }

    fn set_status(product: &str, status: ProductStatus) -> CustomerCommand {
        CustomerCommand::SetProductStatus {
            product: product.into(),
            status,
        }
    }

    fn activated(product: &str) -> CustomerEvent {
        CustomerEvent::ProductActivated(ProductActivated {
            product: product.into(),
            previous: None,
            status: ProductStatus::New,
        })
    }

    fn changed(product: &str, from: ProductStatus, to: ProductStatus) -> CustomerEvent {
        CustomerEvent::ProductStatusChanged(ProductStatusChanged {
            product: product.into(),
            from,
            to,
        })
    }

    fn account(from: AccountStatus, to: AccountStatus) -> CustomerEvent {
        CustomerEvent::AccountStatusChanged(AccountStatusChanged {
            from,
            to,
            cause: "ProductStatusChanged".into(),
        })
    }

    fn rule_of(result: Result<Vec<CustomerEvent>, CustomerError>) -> Rule {
        match result {
            Err(CustomerError::Invalid(v)) => v[0].rule,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_hidden_product_cannot_be_activated() {
        let result = Given::with(())
            .given(vec![created(CustomerProfile::named("acme"))])
            .when(activate("CDN", LISTED_HIDDEN))
            .inspect_result();
        assert_eq!(rule_of(result), Rule::NotVisible);
    }

    #[test]
    fn the_customers_own_visibility_overrides_the_global_setting() {
        let shown = CustomerEvent::ProductVisibilitySet(ProductVisibilitySet {
            product: "CDN".into(),
            visible: true,
            previous: None,
        });
        Given::with(())
            .given(vec![created(CustomerProfile::named("acme"))])
            .when(CustomerCommand::SetProductVisibility {
                product: "CDN".into(),
                visible: true,
                catalogue: LISTED_HIDDEN,
            })
            .then_expect_events(vec![shown.clone()]);
        Given::with(())
            .given(vec![created(CustomerProfile::named("acme")), shown])
            .when(activate("CDN", LISTED_HIDDEN))
            .then_expect_events(vec![activated("CDN")]);
        let hidden = CustomerEvent::ProductVisibilitySet(ProductVisibilitySet {
            product: "CDN".into(),
            visible: false,
            previous: None,
        });
        let result = Given::with(())
            .given(vec![created(CustomerProfile::named("acme")), hidden])
            .when(activate("CDN", LISTED_VISIBLE))
            .inspect_result();
        assert_eq!(
            rule_of(result),
            Rule::NotVisible,
            "a customer's own 'hidden' wins over a visible global"
        );
    }

    #[test]
    fn activating_twice_or_an_unknown_product_is_refused() {
        let result = Given::with(())
            .given(vec![
                created(CustomerProfile::named("acme")),
                activated("CDN"),
            ])
            .when(activate("CDN", LISTED_VISIBLE))
            .inspect_result();
        assert_eq!(rule_of(result), Rule::AlreadyActivated);
        let result = Given::with(())
            .given(vec![created(CustomerProfile::named("acme"))])
            .when(activate("NOPE", CatalogueEntry::Unknown))
            .inspect_result();
        assert_eq!(rule_of(result), Rule::UnknownProduct);
    }

    #[test]
    fn a_status_change_records_both_statuses_and_the_account_status_it_causes() {
        Given::with(())
            .given(vec![
                created(CustomerProfile::named("acme")),
                activated("CDN"),
            ])
            .when(set_status("CDN", ProductStatus::Trial))
            .then_expect_events(vec![
                changed("CDN", ProductStatus::New, ProductStatus::Trial),
                account(AccountStatus::Preparation, AccountStatus::Trial),
            ]);
    }

    #[test]
    fn a_status_change_that_keeps_the_account_status_records_no_account_change() {
        Given::with(())
            .given(vec![
                created(CustomerProfile::named("acme")),
                activated("CDN"),
                activated("DNS"),
                changed("CDN", ProductStatus::New, ProductStatus::Active),
            ])
            .when(set_status("DNS", ProductStatus::Trial))
            .then_expect_events(vec![changed(
                "DNS",
                ProductStatus::New,
                ProductStatus::Trial,
            )]);
    }

    #[test]
    fn senseless_transitions_are_refused() {
        let result = Given::with(())
            .given(vec![created(CustomerProfile::named("acme"))])
            .when(set_status("CDN", ProductStatus::Active))
            .inspect_result();
        assert_eq!(rule_of(result), Rule::NotActivated);
        let result = Given::with(())
            .given(vec![
                created(CustomerProfile::named("acme")),
                activated("CDN"),
                changed("CDN", ProductStatus::New, ProductStatus::Active),
            ])
            .when(set_status("CDN", ProductStatus::Trial))
            .inspect_result();
        assert_eq!(rule_of(result), Rule::Transition);
    }

    #[test]
    fn a_trial_contract_has_no_active_product() {
        let trial = CustomerProfile {
            service_status: Some(ServiceStatus::TrialActive),
            ..CustomerProfile::named("acme")
        };
        let result = Given::with(())
            .given(vec![created(trial), activated("CDN")])
            .when(set_status("CDN", ProductStatus::Active))
            .inspect_result();
        assert_eq!(rule_of(result), Rule::ServiceStatus);
        let result = Given::with(())
            .given(vec![
                created(CustomerProfile::named("acme")),
                activated("CDN"),
                changed("CDN", ProductStatus::New, ProductStatus::Active),
            ])
            .when(edit(CustomerChanges {
                service_status: Change::Set(ServiceStatus::TrialActive),
                ..Default::default()
            }))
            .inspect_result();
        assert_eq!(rule_of(result), Rule::ServiceStatus);
    }

    #[test]
    fn a_deleted_product_can_be_activated_again() {
        Given::with(())
            .given(vec![
                created(CustomerProfile::named("acme")),
                activated("CDN"),
                changed("CDN", ProductStatus::New, ProductStatus::Deleted),
            ])
            .when(activate("CDN", LISTED_VISIBLE))
            .then_expect_events(vec![
                CustomerEvent::ProductActivated(ProductActivated {
                    product: "CDN".into(),
                    previous: Some(ProductStatus::Deleted),
                    status: ProductStatus::New,
                }),
                CustomerEvent::AccountStatusChanged(AccountStatusChanged {
                    from: AccountStatus::TrialEnd,
                    to: AccountStatus::Preparation,
                    cause: "ProductActivated".into(),
                }),
            ]);
    }
}

mod deletion {
    use super::*;
    use crate::{AccountStatus, ProductStatus};
    use chrono::{DateTime, Duration, Utc};

    fn at(day: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::days(day)
    }

    fn active_customer() -> Vec<CustomerEvent> {
        vec![
            created(CustomerProfile {
                shortname: Some("acme1".into()),
                email: Some("a@acme.example".into()),
                ..CustomerProfile::named("acme")
            }),
            CustomerEvent::ProductActivated(ProductActivated {
                product: "CDN".into(),
                previous: None,
                status: ProductStatus::New,
            }),
            CustomerEvent::ProductStatusChanged(ProductStatusChanged {
                product: "CDN".into(),
                from: ProductStatus::New,
                to: ProductStatus::Active,
            }),
        ]
    }

    fn request() -> CustomerCommand {
        CustomerCommand::RequestDeletion {
            request_id: "r1".into(),
            reason: Some("moving on".into()),
            requested_by: "user:ann".into(),
            due_at: at(10),
        }
    }

    fn requested() -> CustomerEvent {
        CustomerEvent::DeletionRequested(DeletionRequested {
            request_id: "r1".into(),
            reason: Some("moving on".into()),
            requested_by: "user:ann".into(),
            due_at: at(10),
            stopped: vec![StoppedProduct {
                product: "CDN".into(),
                previous: ProductStatus::Active,
            }],
        })
    }

    fn paused() -> CustomerEvent {
        CustomerEvent::ProductStatusChanged(ProductStatusChanged {
            product: "CDN".into(),
            from: ProductStatus::Active,
            to: ProductStatus::Paused,
        })
    }

    fn delete(confirmation: Confirmation) -> CustomerCommand {
        CustomerCommand::DeleteCustomer {
            confirmation,
            deleted_by: "user:bob".into(),
            inner_customers: vec![],
        }
    }

    #[test]
    fn a_deletion_request_stops_every_product_in_use() {
        Given::with(())
            .given(active_customer())
            .when(request())
            .then_expect_events(vec![
                requested(),
                paused(),
                CustomerEvent::AccountStatusChanged(AccountStatusChanged {
                    from: AccountStatus::Active,
                    to: AccountStatus::TrialEnd,
                    cause: "DeletionRequested".into(),
                }),
            ]);
    }

    #[test]
    fn a_second_request_while_one_is_open_is_refused() {
        let mut given = active_customer();
        given.extend([requested(), paused()]);
        Given::with(())
            .given(given)
            .when(request())
            .then_expect_error(CustomerError::RequestAlreadyOpen);
    }

    #[test]
    fn cancelling_returns_stopped_products_to_their_statuses() {
        let mut given = active_customer();
        given.extend([requested(), paused()]);
        let cancel = CustomerCommand::CancelDeletionRequest {
            note: "stays with us".into(),
            cancelled_by: "user:bob".into(),
        };
        let events = Given::with(())
            .given(given)
            .when(cancel)
            .inspect_result()
            .unwrap();
        assert!(
            matches!(&events[0], CustomerEvent::DeletionCancelled(c) if c.note == "stays with us" && c.restored.len() == 1)
        );
        assert!(
            matches!(&events[1], CustomerEvent::ProductStatusChanged(c) if c.to == ProductStatus::Active)
        );
        assert!(
            matches!(&events[2], CustomerEvent::AccountStatusChanged(c) if c.to == AccountStatus::Active)
        );
    }

    #[test]
    fn cancelling_without_an_open_request_is_refused() {
        Given::with(())
            .given(active_customer())
            .when(CustomerCommand::CancelDeletionRequest {
                note: "x".into(),
                cancelled_by: "y".into(),
            })
            .then_expect_error(CustomerError::NoOpenRequest);
    }

    #[test]
    fn deleting_needs_the_shortname_typed() {
        let result = Given::with(())
            .given(active_customer())
            .when(delete(Confirmation::Typed("acme".into())))
            .inspect_result();
        assert!(
            matches!(result, Err(CustomerError::Invalid(v)) if v[0].rule == Rule::Confirmation)
        );
    }

    #[test]
    fn deleting_ends_products_erases_personal_data_and_is_final() {
        let events = Given::with(())
            .given(active_customer())
            .when(delete(Confirmation::Typed("acme1".into())))
            .inspect_result()
            .unwrap();
        let types: Vec<String> = events
            .iter()
            .map(cqrs_es::DomainEvent::event_type)
            .collect();
        assert_eq!(
            types,
            [
                "ProductStatusChanged",
                "AssignmentsReleased",
                "CustomerDeleted",
                "AccountStatusChanged"
            ]
        );
        let mut customer = Customer::default();
        for event in active_customer().into_iter().chain(events) {
            customer.apply(event);
        }
        assert_eq!(customer.account_status(), AccountStatus::Deleted);
        assert_eq!(customer.profile.as_ref().unwrap().email, None);
        let mut given = active_customer();
        given.push(CustomerEvent::CustomerDeleted(CustomerDeleted {
            request_id: None,
            deleted_by: "user:bob".into(),
            automatic: false,
        }));
        Given::with(())
            .given(given)
            .when(edit(CustomerChanges::default()))
            .then_expect_error(CustomerError::Deleted);
    }

    #[test]
    fn the_service_deletes_only_a_due_open_request() {
        let mut given = active_customer();
        given.extend([requested(), paused()]);
        let early = Confirmation::DueRequest {
            request_id: "r1".into(),
            now: at(9),
        };
        Given::with(())
            .given(given.clone())
            .when(delete(early))
            .then_expect_error(CustomerError::NotDue);
        let due = Confirmation::DueRequest {
            request_id: "r1".into(),
            now: at(10),
        };
        let events = Given::with(())
            .given(given)
            .when(delete(due))
            .inspect_result()
            .unwrap();
        assert!(events
            .iter()
            .any(|e| matches!(e, CustomerEvent::CustomerDeleted(d)
            if d.automatic && d.request_id.as_deref() == Some("r1"))));
    }
}

#[test]
fn the_tenants_own_company_takes_no_command() {
    let own = CustomerEvent::CustomerCreated(CustomerCreated {
        tenant: "acme".into(),
        profile: CustomerProfile::named("acme"),
        own_company: true,
    });
    Given::with(())
        .given(vec![own])
        .when(edit(CustomerChanges::default()))
        .then_expect_error(CustomerError::OwnCompany);
}
