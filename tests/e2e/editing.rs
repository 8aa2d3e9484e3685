//! Editing customers and reading their history.

use clientele_tests::{on_both_backends, spawn_app, Backend};
use serde_json::json;

on_both_backends!(
    an_edit_changes_only_the_given_fields_and_is_in_the_history,
    an_edit_that_changes_nothing_writes_no_event,
    null_clears_a_field_but_not_the_name,
    a_stale_expected_version_is_a_conflict_with_the_current_version,
    history_pages_through_a_long_history,
);

async fn an_edit_changes_only_the_given_fields_and_is_in_the_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_customer(json!({ "name": "acme", "city": "Paris", "phone": "555 0100" }))
        .await;
    let id = created["id"].as_str().unwrap();
    let edited = app
        .edit_customer(
            id,
            Some(1),
            json!({ "city": "Lyon", "organization": "Acme SA" }),
        )
        .await;
    assert_eq!(edited["version"], 2);
    assert_eq!(edited["city"], "Lyon");
    assert_eq!(edited["organization"], "Acme SA");
    assert_eq!(edited["phone"], "555 0100");
    assert_eq!(edited["createdAt"], created["createdAt"]);
    assert_ne!(edited["updatedAt"], created["updatedAt"]);
    let history = app.history(id).await;
    let types: Vec<(&str, i64)> = history
        .iter()
        .map(|n| (n["type"].as_str().unwrap(), n["version"].as_i64().unwrap()))
        .collect();
    assert_eq!(types, [("CustomerCreated", 1), ("CustomerEdited", 2)]);
    assert_eq!(
        history[1]["payload"],
        json!({ "changes": { "city": "Lyon", "organization": "Acme SA" } })
    );
    assert_eq!(history[1]["actor"], "admin");
    assert_eq!(history[1]["eventVersion"], "1.0");
    assert!(
        !history[1]["requestId"].as_str().unwrap().is_empty(),
        "every event has its request id"
    );
}

async fn an_edit_that_changes_nothing_writes_no_event(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_customer(json!({ "name": "acme", "city": "Paris" }))
        .await;
    let id = created["id"].as_str().unwrap();
    let same = app
        .edit_customer(
            id,
            Some(1),
            json!({ "name": "ACME", "city": " Paris ", "email": null }),
        )
        .await;
    assert_eq!(same["version"], 1);
    assert_eq!(app.event_count().await, 1);
}

async fn null_clears_a_field_but_not_the_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_customer(json!({ "name": "acme", "phone": "555 0100" }))
        .await;
    let id = created["id"].as_str().unwrap();
    let edited = app.edit_customer(id, None, json!({ "phone": null })).await;
    assert_eq!(edited["phone"], json!(null));
    let history = app.history(id).await;
    assert_eq!(
        history[1]["payload"],
        json!({ "changes": { "cleared": ["PHONE"] } })
    );
    let body = app
        .edit_customer_raw(id, None, json!({ "name": null }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.name");
    assert_eq!(body["errors"][0]["extensions"]["rule"], "NOT_NULLABLE");
}

async fn a_stale_expected_version_is_a_conflict_with_the_current_version(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_customer(json!({ "name": "acme" })).await;
    let id = created["id"].as_str().unwrap();
    app.edit_customer(id, Some(1), json!({ "city": "Lyon" }))
        .await;
    let body = app
        .edit_customer_raw(id, Some(1), json!({ "city": "Nice" }))
        .await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "CONFLICT");
    assert_eq!(error["extensions"]["currentVersion"], 2);
    assert_eq!(
        app.customer(id).await["city"],
        "Lyon",
        "the stale edit wrote nothing"
    );
}

async fn history_pages_through_a_long_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_customer(json!({ "name": "acme" })).await;
    let id = created["id"].as_str().unwrap();
    for i in 0..130 {
        app.edit_customer(id, None, json!({ "city": format!("city {i}") }))
            .await;
    }
    let history = app.history(id).await;
    assert_eq!(history.len(), 131);
    let versions: Vec<i64> = history
        .iter()
        .map(|n| n["version"].as_i64().unwrap())
        .collect();
    assert_eq!(versions, (1..=131).collect::<Vec<_>>());
    assert_eq!(app.customer(id).await["city"], "city 129");
}
