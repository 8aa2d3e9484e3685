//! The address fields added later (state, zip, address2): validated, edited, erased, and
//! events stored before them still decode.

use super::*;

#[test]
fn the_address_fields_are_validated_trimmed_and_kept() {
    let draft = CustomerDraft {
        name: "acme".into(),
        state: Some(" NY ".into()),
        zip: Some("10001".into()),
        address2: Some("Suite 4".into()),
        ..Default::default()
    };
    let profile = draft.validate(&[]).expect("valid");
    assert_eq!(profile.state.as_deref(), Some("NY"));
    assert_eq!(profile.zip.as_deref(), Some("10001"));
    assert_eq!(profile.address2.as_deref(), Some("Suite 4"));
    let too_long = CustomerDraft {
        name: "acme".into(),
        state: Some("s".repeat(101)),
        zip: Some("z".repeat(101)),
        address2: Some("a".repeat(501)),
        ..Default::default()
    };
    assert_eq!(
        too_long.validate(&[]).unwrap_err().len(),
        3,
        "each is checked"
    );
}

#[test]
fn an_edit_sets_and_clears_them_and_deletion_erases_them() {
    let mut profile = CustomerProfile::named("acme");
    profile.state = Some("NY".into());
    profile.zip = Some("10001".into());
    let changes = CustomerChanges {
        zip: Change::Clear,
        address2: Change::Set("Floor 2".into()),
        state: Change::Set("NY".into()),
        ..Default::default()
    };
    let patch = changes.validate(&profile, &[]).expect("valid");
    assert_eq!(patch.cleared, [CustomerField::Zip]);
    assert_eq!(patch.address2.as_deref(), Some("Floor 2"));
    assert_eq!(patch.state, None, "an unchanged value is no change");
    patch.apply_to(&mut profile);
    assert_eq!(profile.zip, None);
    erase_personal_data(&mut profile);
    assert_eq!((profile.state, profile.address2), (None, None));
    for field in ["state", "zip", "address2"] {
        assert!(PERSONAL_FIELDS.contains(&field), "{field} is sealed");
    }
}

#[test]
fn events_stored_before_the_address_fields_still_decode() {
    let stored = r#"{"CustomerCreated":{"tenant":"acme","profile":{"name":"acme","language":"en","address":"1 Main St"}}}"#;
    let CustomerEvent::CustomerCreated(created) =
        serde_json::from_str(stored).expect("stored shape")
    else {
        panic!("a creation");
    };
    assert_eq!(created.profile.address.as_deref(), Some("1 Main St"));
    assert_eq!(
        (
            created.profile.state,
            created.profile.zip,
            created.profile.address2
        ),
        (None, None, None)
    );
    // And a profile without them is written as before: no new keys.
    let json = serde_json::to_value(CustomerProfile::named("acme")).unwrap();
    assert_eq!(
        json,
        serde_json::json!({ "name": "acme", "multiAccount": false, "internal": false, "testAccount": false, "language": "en" })
    );
}

#[test]
fn a_suffixed_name_stays_within_the_names_length() {
    assert_eq!(suffixed_name("acme", 1), "acme");
    assert_eq!(suffixed_name("acme", 2), "acme-2");
    let long = "n".repeat(100);
    assert_eq!(suffixed_name(&long, 12), format!("{}-12", "n".repeat(97)));
    assert_eq!(suffixed_name(&long, 12).chars().count(), 100);
}

#[test]
fn a_create_under_another_name_records_the_name_asked_for() {
    let create = |name: &str, requested: Option<&str>| CustomerCommand::CreateCustomer {
        tenant: "acme".into(),
        draft: CustomerDraft {
            name: name.into(),
            ..Default::default()
        },
        required: vec![],
        parent: None,
        requested_name: requested.map(str::to_string),
        products: vec![],
    };
    let created = |name: &str, requested: Option<&str>| {
        CustomerEvent::CustomerCreated(CustomerCreated {
            tenant: "acme".into(),
            profile: CustomerProfile::named(name),
            own_company: false,
            public: false,
            requested_name: requested.map(str::to_string),
        })
    };
    Given::with(())
        .given_no_previous_events()
        .when(create("acme-2", Some("ACME")))
        .then_expect_events(vec![created("acme-2", Some("acme"))]);
    // Asked for what it got: nothing to report.
    Given::with(())
        .given_no_previous_events()
        .when(create("acme", Some("Acme")))
        .then_expect_events(vec![created("acme", None)]);
}
