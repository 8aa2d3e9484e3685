//! What a user can count on: no lost writes, one winner per unique value, durability.

use clientele_tests::{on_both_backends, spawn_app, spawn_app_on, Backend};
use futures::future::join_all;
use serde_json::json;

on_both_backends!(
    concurrent_edits_never_lose_an_acknowledged_write,
    racing_creates_of_one_shortname_let_exactly_one_win,
    customers_survive_a_restart,
);

async fn concurrent_edits_never_lose_an_acknowledged_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app.create_customer(json!({ "name": "acme" })).await;
    let id = created["id"].as_str().unwrap();
    let edits = (0..24)
        .map(|i| app.edit_customer_raw(id, None, json!({ "seller": format!("seller {i}") })));
    let answers = join_all(edits).await;
    let acknowledged = answers.iter().filter(|a| a.get("errors").is_none()).count();
    assert_eq!(
        acknowledged, 24,
        "every edit succeeds after re-deciding: {answers:#?}"
    );
    let history = app.history(id).await;
    assert_eq!(history.len(), 25, "each acknowledged edit is an event");
    let mut sellers: Vec<&str> = history[1..]
        .iter()
        .map(|n| n["payload"]["changes"]["seller"].as_str().unwrap())
        .collect();
    sellers.sort();
    sellers.dedup();
    assert_eq!(sellers.len(), 24);
    let customer = app.customer(id).await;
    assert_eq!(customer["version"], 25);
    assert_eq!(
        customer["seller"], history[24]["payload"]["changes"]["seller"],
        "the read model shows the last edit"
    );
}

async fn racing_creates_of_one_shortname_let_exactly_one_win(backend: Backend) {
    let app = spawn_app(backend).await;
    let creates = (0..16).map(|i| {
        app.graphql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }",
            json!({ "input": { "name": format!("racer {i}"), "shortname": "taken" } }),
        )
    });
    let answers = join_all(creates).await;
    let winners = answers.iter().filter(|a| a.get("errors").is_none()).count();
    assert_eq!(winners, 1, "{answers:#?}");
    for loser in answers.iter().filter(|a| a.get("errors").is_some()) {
        assert_eq!(loser["errors"][0]["extensions"]["code"], "CONFLICT");
        assert_eq!(loser["errors"][0]["extensions"]["field"], "input.shortname");
    }
    assert_eq!(app.event_count().await, 1);
}

async fn customers_survive_a_restart(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_customer(json!({ "name": "durable", "city": "Oslo" }))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    app.edit_customer(&id, Some(1), json!({ "city": "Bergen" }))
        .await;
    let database = app.stop().await;
    let app = spawn_app_on(database).await;
    let customer = app.customer(&id).await;
    assert_eq!(customer["city"], "Bergen");
    assert_eq!(customer["version"], 2);
    let edited = app
        .edit_customer(&id, Some(2), json!({ "city": "Tromsø" }))
        .await;
    assert_eq!(edited["version"], 3);
}
