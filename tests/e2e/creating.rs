//! Creating and reading customers through GraphQL.

use clientele_tests::{on_both_backends, spawn_app, Backend};
use serde_json::json;

on_both_backends!(
    a_created_customer_reads_back_with_every_field,
    names_are_normalised_and_unique_within_the_tenant,
    shortnames_are_unique_case_insensitively,
    every_broken_rule_is_named_and_nothing_is_written,
    a_tenant_can_require_any_of_the_creation_forms_fields,
    an_unknown_customer_is_null,
);

async fn a_created_customer_reads_back_with_every_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let input = json!({
        "name": "Umbrella Corp", "email": "ops@umbrella.example", "givenName": "Alice",
        "familyName": "Wong", "organization": "Umbrella", "shortname": "umb-01", "type": "MSSP",
        "serviceStatus": "TRIAL_ACTIVE", "contractualFlowsPerSecond": 2500, "multiAccount": true,
        "internal": false, "testAccount": false, "dataRetentionDays": 90, "rollupRetentionDays": 365,
        "language": "pt-BR", "seller": "bob", "customId": "ACC#42", "title": "Umbrella",
        "country": "FR", "city": "Lyon", "address": "1 rue X", "phone": "+33 1 23 45 67 89"
    });
    let created = app.create_customer(input.clone()).await;
    assert_eq!(created["name"], "umbrella-corp");
    assert_eq!(created["version"], 1);
    assert_eq!(created["accountStatus"], "PREPARATION");
    for (field, value) in input.as_object().unwrap() {
        if field != "name" {
            assert_eq!(&created[field], value, "{field}");
        }
    }
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        app.customer(id).await,
        created,
        "a read after the answer sees the write"
    );
}

async fn names_are_normalised_and_unique_within_the_tenant(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_customer(json!({ "name": "  TEST CUSTOMER " }))
        .await;
    assert_eq!(created["name"], "test-customer");
    let error = app
        .create_customer_error(json!({ "name": "test customer" }))
        .await;
    assert_eq!(error["extensions"]["code"], "CONFLICT");
    assert_eq!(error["extensions"]["field"], "input.name");
    assert_eq!(error["extensions"]["rule"], "UNIQUE");
    assert_eq!(
        app.event_count().await,
        1,
        "the refused create wrote nothing"
    );
}

async fn shortnames_are_unique_case_insensitively(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app
        .create_customer(json!({ "name": "a", "shortname": "AbCdE" }))
        .await;
    let error = app
        .create_customer_error(json!({ "name": "b", "shortname": "abcde" }))
        .await;
    assert_eq!(error["extensions"]["code"], "CONFLICT");
    assert_eq!(error["extensions"]["field"], "input.shortname");
    // Releasing a shortname by editing it away frees it for another customer.
    app.edit_customer(
        first["id"].as_str().unwrap(),
        None,
        json!({ "shortname": "other" }),
    )
    .await;
    let second = app
        .create_customer(json!({ "name": "b", "shortname": "abcde" }))
        .await;
    assert_eq!(second["shortname"], "abcde");
}

async fn every_broken_rule_is_named_and_nothing_is_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases = [
        (
            json!({ "name": "x", "shortname": "ab+cd" }),
            "input.shortname",
            "CHARSET",
        ),
        (
            json!({ "name": "x", "shortname": "abcd" }),
            "input.shortname",
            "LENGTH",
        ),
        (
            json!({ "name": "x", "shortname": "a".repeat(17) }),
            "input.shortname",
            "LENGTH",
        ),
        (
            json!({ "name": "x", "email": "nope" }),
            "input.email",
            "FORMAT",
        ),
        (
            json!({ "name": "x", "dataRetentionDays": 30 }),
            "input.dataRetentionDays",
            "ALLOWED_VALUES",
        ),
        (
            json!({ "name": "x", "rollupRetentionDays": 45 }),
            "input.rollupRetentionDays",
            "ALLOWED_VALUES",
        ),
        (
            json!({ "name": "x", "contractualFlowsPerSecond": -1 }),
            "input.contractualFlowsPerSecond",
            "RANGE",
        ),
        (
            json!({ "name": "x", "language": "not a tag" }),
            "input.language",
            "FORMAT",
        ),
        (json!({ "name": "   " }), "input.name", "REQUIRED"),
        (
            json!({ "name": "x", "organization": "o".repeat(201) }),
            "input.organization",
            "LENGTH",
        ),
        (
            json!({ "name": "x", "city": "a\u{0}b" }),
            "input.city",
            "CHARSET",
        ),
    ];
    for (input, field, rule) in cases {
        let error = app.create_customer_error(input.clone()).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{input}");
        assert_eq!(error["extensions"]["field"], field, "{input}");
        assert_eq!(error["extensions"]["rule"], rule, "{input}");
        assert!(
            error["message"].as_str().unwrap().len() > 15,
            "a sentence: {error}"
        );
    }
    let error = app
        .create_customer_error(json!({ "name": "x", "email": "nope", "phone": "call me" }))
        .await;
    assert_eq!(
        error["extensions"]["violations"].as_array().unwrap().len(),
        2
    );
    // An input of the wrong type is refused by GraphQL validation.
    let body = app
        .graphql(
            "mutation { createCustomer(input: { name: \"x\", type: NOPE }) { id } }",
            json!({}),
        )
        .await;
    assert!(body["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("NOPE"));
    assert_eq!(app.event_count().await, 0);
    let data = app
        .ok(
            "{ customers(filter: { ownCompany: false }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(data["customers"]["totalCount"], 0);
}

async fn a_tenant_can_require_any_of_the_creation_forms_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let data = app
        .ok(
            "mutation { setRequiredCustomerFields(fields: [EMAIL, SHORTNAME, NAME]) }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["setRequiredCustomerFields"],
        json!(["EMAIL", "SHORTNAME"])
    );
    let data = app.ok("{ requiredCustomerFields }", json!({})).await;
    assert_eq!(
        data["requiredCustomerFields"],
        json!(["EMAIL", "SHORTNAME"])
    );
    let error = app.create_customer_error(json!({ "name": "acme" })).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let fields: Vec<&str> = error["extensions"]["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["input.email", "input.shortname"]);
    let created = app
        .create_customer(json!({ "name": "acme", "email": "a@acme.example", "shortname": "acme1" }))
        .await;
    let id = created["id"].as_str().unwrap();
    let body = app
        .edit_customer_raw(id, None, json!({ "email": null }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["rule"], "REQUIRED");
}

async fn an_unknown_customer_is_null(backend: Backend) {
    let app = spawn_app(backend).await;
    let data = app.ok("{ customer(id: \"nope\") { id } }", json!({})).await;
    assert_eq!(data["customer"], json!(null));
    let body = app
        .edit_customer_raw("nope", None, json!({ "city": "x" }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let error = app
        .error(
            "{ customerHistory(id: \"nope\") { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND");
}
