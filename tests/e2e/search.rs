//! Finding customers (issue 19): the `text` filter over every text field, without case or
//! accents; search text after erasure and after the migration that changed it.

use clientele_tests::{on_both_backends, spawn_app, spawn_app_on, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    text_finds_every_text_field_without_case_or_accents,
    erased_personal_fields_leave_the_search,
    search_text_written_before_the_migration_is_recomputed_at_start,
    search_text_without_the_address_fields_is_recomputed_after_0016,
    filters_take_several_values_and_sellers_are_counted,
);

const LIST: &str =
    "query($filter: CustomerFilter, $order: CustomerOrder, $first: Int, $after: String) {
    customers(filter: $filter, orderBy: $order, first: $first, after: $after) {
        totalCount
        edges { cursor node { id name seller accountStatus } }
        pageInfo { hasNextPage endCursor }
    } }";

/// The names of the customers `filter` lists (the tenant's own company left out).
pub(crate) async fn found(app: &TestApp, filter: Value) -> Vec<String> {
    let mut filter = filter.as_object().cloned().unwrap_or_default();
    filter.entry("ownCompany").or_insert(json!(false));
    let data = app
        .ok(LIST, json!({ "filter": filter, "first": 100 }))
        .await;
    data["customers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn text_finds_every_text_field_without_case_or_accents(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(json!({
        "name": "Grüezi AG", "email": "info@gruezi.example", "givenName": "Jürgen",
        "familyName": "Müller", "organization": "Crème Brûlée Holding", "shortname": "grz-1",
        "customId": "CH-0042", "seller": "Zoë", "title": "Señor", "country": "Österreich",
        "city": "Zürich", "address": "Bahnhofstraße 1", "phone": "+41 44 000 00 00",
    }))
    .await;
    app.create_customer(json!({ "name": "plain", "city": "Basel" }))
        .await;
    for text in [
        "zurich",
        "ZÜRICH",
        "Zürich",
        "muller",
        "MÜLLER",
        "jurgen",
        "creme brulee",
        "GRUEZI.EXAMPLE",
        "ch-0042",
        "zoe",
        "senor",
        "osterreich",
        "bahnhofstrasse",
        "44 000",
        "grüezi ag",
        "GRZ-1",
    ] {
        assert_eq!(
            found(&app, json!({ "text": text })).await,
            ["grüezi-ag"],
            "{text}"
        );
    }
    assert_eq!(found(&app, json!({ "text": "basel" })).await, ["plain"]);
    assert!(found(&app, json!({ "text": "genève" })).await.is_empty());
}

async fn erased_personal_fields_leave_the_search(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_customer(json!({
            "name": "leaving", "organization": "Kept Org", "email": "gone@leaving.example",
            "givenName": "Hélène", "city": "Genève", "phone": "+33 1 23 45",
        }))
        .await;
    let id = created["id"].as_str().unwrap();
    app.ok(
        "mutation($id: ID!) { requestDeletion(customerId: $id, reason: \"asked\") { id } }",
        json!({ "id": id }),
    )
    .await;
    app.ok(
        "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"leaving\") { id } }",
        json!({ "id": id }),
    )
    .await;
    for text in ["helene", "geneve", "gone@", "23 45"] {
        assert!(
            found(&app, json!({ "text": text, "includeDeleted": true }))
                .await
                .is_empty(),
            "{text} is still searchable after deletion"
        );
    }
    assert_eq!(
        found(&app, json!({ "text": "kept org", "includeDeleted": true })).await,
        ["leaving"],
        "the name, organization and shortname stay"
    );
    let rows: Vec<(String,)> = match app.store.db() {
        clientele_store::Db::Postgres(pool) => {
            sqlx::query_as("SELECT search_text FROM customers WHERE id = $1")
                .bind(id)
                .fetch_all(pool)
                .await
                .unwrap()
        }
        clientele_store::Db::Sqlite { read, .. } => {
            sqlx::query_as("SELECT search_text FROM customers WHERE id = $1")
                .bind(id)
                .fetch_all(read)
                .await
                .unwrap()
        }
    };
    assert_eq!(rows[0].0, "leaving\nkept org");
}

async fn search_text_written_before_the_migration_is_recomputed_at_start(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(json!({ "name": "old row", "city": "Zürich" }))
        .await;
    // As a row written before migration 0015 was: only some fields, not folded.
    let mut tx = app.store.db().begin().await.unwrap();
    tx.execute("UPDATE customers SET search_text = 'old-row'", &[])
        .await
        .unwrap();
    tx.execute(
        "INSERT INTO read_model_rewrites (name) VALUES ('customers.search_text.folded')",
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(found(&app, json!({ "text": "zurich" })).await.is_empty());
    let app = spawn_app_on(app.stop().await).await;
    assert_eq!(found(&app, json!({ "text": "zurich" })).await, ["old-row"]);
    let pending = app
        .store
        .db()
        .fetch_scalar("SELECT count(*) FROM read_model_rewrites", &[])
        .await
        .unwrap();
    assert_eq!(pending, Some(0), "the rewrite runs once");
}

async fn search_text_without_the_address_fields_is_recomputed_after_0016(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(json!({ "name": "upgraded", "zip": "40410", "address2": "Hof" }))
        .await;
    // As a row an instance of the previous release rewrote: without the new fields.
    let mut tx = app.store.db().begin().await.unwrap();
    tx.execute("UPDATE customers SET search_text = 'upgraded'", &[])
        .await
        .unwrap();
    tx.execute(
        "INSERT INTO read_model_rewrites (name) VALUES ('customers.search_text.address_fields')",
        &[],
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert!(found(&app, json!({ "text": "40410" })).await.is_empty());
    let app = spawn_app_on(app.stop().await).await;
    assert_eq!(found(&app, json!({ "text": "40410" })).await, ["upgraded"]);
    assert_eq!(found(&app, json!({ "text": "hof" })).await, ["upgraded"]);
    let pending = app
        .store
        .db()
        .fetch_scalar("SELECT count(*) FROM read_model_rewrites", &[])
        .await
        .unwrap();
    assert_eq!(pending, Some(0), "the rewrite runs once");
}

async fn filters_take_several_values_and_sellers_are_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(json!({ "name": "a1", "type": "SLG", "seller": "Alice" }))
        .await;
    app.create_customer(json!({ "name": "a2", "type": "MSSP", "seller": "alice" }))
        .await;
    app.create_customer(json!({ "name": "b1", "seller": "bob", "testAccount": true }))
        .await;
    assert_eq!(
        found(&app, json!({ "seller": "ALICE" })).await,
        ["a2", "a1"].iter().rev().cloned().collect::<Vec<_>>()
    );
    assert_eq!(
        found(&app, json!({ "types": ["SLG", "MSSP"] })).await,
        ["a1", "a2"]
    );
    assert!(found(&app, json!({ "types": [] })).await.is_empty());
    assert_eq!(
        found(&app, json!({ "testAccounts": "INCLUDE" })).await,
        ["a1", "a2", "b1"]
    );
    assert_eq!(found(&app, json!({ "testAccounts": "ONLY" })).await, ["b1"]);
    assert_eq!(
        found(
            &app,
            json!({ "accountStatuses": ["PREPARATION", "DELETED"] })
        )
        .await,
        ["a1", "a2"]
    );
    let error = app
        .error(
            LIST,
            json!({ "filter": { "testAccount": true, "testAccounts": "ONLY" } }),
        )
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "filter.testAccounts");
    let sellers = app
        .ok(
            "{ sellers(testAccounts: INCLUDE) { seller customers } }",
            json!({}),
        )
        .await;
    assert_eq!(
        sellers["sellers"],
        json!([{ "seller": "Alice", "customers": 1 }, { "seller": "alice", "customers": 1 }, { "seller": "bob", "customers": 1 }])
    );
    let by_seller = app
        .ok(LIST, json!({ "filter": { "ownCompany": false }, "order": { "field": "SELLER", "direction": "DESC" }, "first": 1 }))
        .await;
    assert_eq!(
        by_seller["customers"]["edges"][0]["node"]["seller"],
        "alice"
    );
    let next = app
        .ok(LIST, json!({ "filter": { "ownCompany": false }, "order": { "field": "SELLER", "direction": "DESC" }, "first": 5, "after": by_seller["customers"]["pageInfo"]["endCursor"] }))
        .await;
    assert_eq!(next["customers"]["edges"][0]["node"]["seller"], "Alice");
}
