//! Kept documents: the same text sent again is answered from the parsed document the
//! service kept, and everything that depends on the variables or the caller is still
//! checked every time.

use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend};
use serde_json::json;

on_both_backends!(
    a_kept_document_answers_each_call_from_its_own_variables,
    a_kept_document_checks_its_variables_every_time,
    a_document_over_the_limits_is_refused_every_time,
    a_kept_document_still_answers_to_the_callers_role,
);

const READ: &str = "query($id: ID!) { customer(id: $id) { id name } }";

async fn a_kept_document_answers_each_call_from_its_own_variables(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("first one", None).await;
    let b = app.new_customer("second one", None).await;
    for _ in 0..3 {
        for (id, name) in [(&a, "first-one"), (&b, "second-one")] {
            let data = app.ok(READ, json!({ "id": id })).await;
            assert_eq!(data["customer"]["name"], name);
        }
    }
}

async fn a_kept_document_checks_its_variables_every_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let create = "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }";
    app.ok(create, json!({ "input": { "name": "kept one" } }))
        .await;
    // The same text, now with a control character: refused, nothing written.
    let before = app.event_count().await;
    let body = app
        .graphql(create, json!({ "input": { "name": "bad\u{0}name" } }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["rule"], "CHARSET", "{body}");
    // The same text with a variable of the wrong type: refused by validation.
    let body = app.graphql(create, json!({ "input": { "name": 7 } })).await;
    assert!(body["errors"].is_array(), "{body}");
    assert!(body["data"].is_null(), "{body}");
    assert_eq!(app.event_count().await, before);
}

async fn a_document_over_the_limits_is_refused_every_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let aliases: Vec<String> = (0..40).map(|i| format!("a{i}: __typename")).collect();
    let query = format!("{{ {} }}", aliases.join(" "));
    for _ in 0..3 {
        let body = app.graphql(&query, json!({})).await;
        assert_eq!(code(&body), "LIMIT_EXCEEDED", "{body}");
    }
}

async fn a_kept_document_still_answers_to_the_callers_role(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.new_customer("guarded", None).await;
    let delete = "mutation($id: ID!) { requestDeletion(customerId: $id, reason: \"x\") { id } }";
    let auditor = mint("auditor-1", "default", Role::Auditor, None);
    // The tenant admin's use keeps the document; the auditor's same text is still refused.
    let body = app.graphql(delete, json!({ "id": id })).await;
    assert!(body["errors"].is_null(), "{body}");
    let body = app.graphql_as(&auditor, delete, json!({ "id": id })).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
}
