//! `customerFieldRules`: a form built from data. Every field of the creation form has a
//! rule, the lengths and values the query gives are the ones the commands enforce, and
//! `required` and `editable` follow the tenant and the caller.

use std::collections::BTreeSet;

use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    every_field_of_the_create_and_edit_inputs_has_a_rule,
    the_lengths_and_values_the_query_gives_are_the_ones_enforced,
    required_and_editable_follow_the_tenant_and_the_caller,
);

const RULES: &str = "{ customerFieldRules { field inputName required format minLength maxLength allowedValues clearable customerEditable editable } }";

async fn rules(app: &TestApp, token: &str) -> Vec<Value> {
    let body = app.graphql_as(token, RULES, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["customerFieldRules"]
        .as_array()
        .unwrap()
        .clone()
}

fn rule<'a>(rules: &'a [Value], input_name: &str) -> &'a Value {
    rules
        .iter()
        .find(|r| r["inputName"] == input_name)
        .unwrap_or_else(|| panic!("no rule for {input_name}"))
}

async fn input_fields(app: &TestApp, input: &str) -> BTreeSet<String> {
    let data = app
        .ok(
            "query($t: String!) { __type(name: $t) { inputFields { name } } }",
            json!({ "t": input }),
        )
        .await;
    data["__type"]["inputFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect()
}

async fn every_field_of_the_create_and_edit_inputs_has_a_rule(backend: Backend) {
    let app = spawn_app(backend).await;
    let ruled: BTreeSet<String> = rules(&app, &app.token)
        .await
        .iter()
        .map(|r| r["inputName"].as_str().unwrap().to_string())
        .collect();
    let mut create = input_fields(&app, "CreateCustomerInput").await;
    // Not fields of the customer: where it goes in the tree, its first user, what to do
    // when its name is taken, and its product toggles.
    create.remove("parentId");
    create.remove("firstAdmin");
    create.remove("nameConflict");
    create.remove("products");
    assert_eq!(ruled, create, "one rule per field of CreateCustomerInput");
    assert_eq!(ruled, input_fields(&app, "EditCustomerInput").await);
}

/// A valid value of exactly `len` characters for a field of this format.
fn value_of(format: &str, len: usize) -> String {
    match format {
        // a@bbb…b.com, its domain cut into labels of at most 60 characters.
        "EMAIL" => {
            let mut domain: Vec<char> = (0..len - 6)
                .map(|i| if (i + 1) % 61 == 0 { '.' } else { 'b' })
                .collect();
            if domain.last() == Some(&'.') {
                *domain.last_mut().unwrap() = 'b';
            }
            format!("a@{}.com", domain.into_iter().collect::<String>())
        }
        // en-aaaaaaaa-aaaaaaaa…: subtags of at most 8 characters.
        "LANGUAGE_TAG" => {
            let mut tag = String::from("en");
            while tag.len() < len {
                tag.push(if tag.len() % 9 == 2 { '-' } else { 'a' });
            }
            if tag.ends_with('-') {
                tag.pop();
                tag.push('a');
            }
            tag
        }
        "PHONE" => "1".repeat(len),
        _ => "a".repeat(len),
    }
}

async fn the_lengths_and_values_the_query_gives_are_the_ones_enforced(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.new_customer("measured", None).await;
    let rules = rules(&app, &app.token).await;
    let mut measured = 0;
    for r in &rules {
        let name = r["inputName"].as_str().unwrap();
        let format = r["format"].as_str().unwrap();
        let Some(max) = r["maxLength"].as_u64().map(|n| n as usize) else {
            continue;
        };
        let longest = value_of(format, max);
        assert_eq!(longest.chars().count(), max, "{name}");
        let body = app
            .edit_customer_raw(&id, None, json!({ name: longest }))
            .await;
        assert!(body.get("errors").is_none(), "{name} at {max}: {body}");
        let body = app
            .edit_customer_raw(&id, None, json!({ name: value_of(format, max + 1) }))
            .await;
        assert_eq!(
            code(&body),
            "BAD_USER_INPUT",
            "{name} at {}: {body}",
            max + 1
        );
        let extensions = &body["errors"][0]["extensions"];
        assert_eq!(extensions["field"], format!("input.{name}"), "{body}");
        assert_eq!(extensions["rule"], "LENGTH", "{body}");
        if let Some(min) = r["minLength"].as_u64().filter(|n| *n > 1) {
            let body = app
                .edit_customer_raw(&id, None, json!({ name: "a".repeat(min as usize - 1) }))
                .await;
            let rule = &body["errors"][0]["extensions"]["rule"];
            assert_eq!(rule, "LENGTH", "{name} below {min}: {body}");
        }
        measured += 1;
    }
    assert!(measured >= 14, "text fields measured: {measured}");
    // The allowed values are the only ones taken.
    for name in ["dataRetentionDays", "rollupRetentionDays"] {
        let allowed = rule(&rules, name)["allowedValues"]
            .as_array()
            .unwrap()
            .clone();
        for days in &allowed {
            let days: i64 = days.as_str().unwrap().parse().unwrap();
            let body = app
                .edit_customer_raw(&id, None, json!({ name: days }))
                .await;
            assert!(body.get("errors").is_none(), "{name} {days}: {body}");
        }
        let body = app.edit_customer_raw(&id, None, json!({ name: 46 })).await;
        assert_eq!(
            body["errors"][0]["extensions"]["rule"], "ALLOWED_VALUES",
            "{body}"
        );
    }
    assert_eq!(
        rule(&rules, "type")["allowedValues"],
        json!(["SLG", "MSSP"])
    );
    assert_eq!(rule(&rules, "serviceStatus")["format"], "CHOICE");
    assert_eq!(rule(&rules, "email")["format"], "EMAIL");
    assert_eq!(rule(&rules, "phone")["format"], "PHONE");
    assert_eq!(rule(&rules, "name")["clearable"], false);
    assert_eq!(rule(&rules, "city")["clearable"], true);
}

async fn required_and_editable_follow_the_tenant_and_the_caller(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.new_customer("ruled", None).await;
    app.ok(
        "mutation { setRequiredCustomerFields(fields: [EMAIL, CITY]) }",
        json!({}),
    )
    .await;
    let admin = rules(&app, &app.token).await;
    let required: Vec<&str> = admin
        .iter()
        .filter(|r| r["required"] == true)
        .map(|r| r["inputName"].as_str().unwrap())
        .collect();
    assert_eq!(required, ["name", "email", "city"]);
    assert!(admin.iter().all(|r| r["editable"] == true));
    // A required field the query names is one a create without it is refused for.
    let body = app
        .create_customer_error(json!({ "name": "no-city", "email": "a@b.example" }))
        .await;
    assert_eq!(body["extensions"]["field"], "input.city", "{body}");

    let own_admin = mint("ada", "default", Role::CustomerAdmin, Some(&id));
    let theirs = rules(&app, &own_admin).await;
    for r in &theirs {
        assert_eq!(r["editable"], r["customerEditable"], "{r}");
    }
    assert_eq!(rule(&theirs, "city")["editable"], true);
    assert_eq!(rule(&theirs, "customId")["editable"], false);
    // What the query says a CUSTOMER_ADMIN may not edit, editCustomer refuses.
    for r in theirs.iter().filter(|r| r["editable"] == false) {
        let name = r["inputName"].as_str().unwrap();
        let body = app
            .graphql_as(
                &own_admin,
                "mutation($id: ID!, $input: EditCustomerInput!) { editCustomer(id: $id, input: $input) { id } }",
                json!({ "id": id, "input": { name: null } }),
            )
            .await;
        assert_eq!(code(&body), "FORBIDDEN", "{name}: {body}");
    }
    let user = mint("cu", "default", Role::CustomerUser, Some(&id));
    assert!(rules(&app, &user)
        .await
        .iter()
        .all(|r| r["editable"] == false));
}
