//! Finding customers (issue 19): the `text` filter over every text field, without case or
//! accents; search text after erasure and after the migration that changed it.

use clientele_graphql::Role;
use clientele_tests::{
    fresh_database, mint, on_both_backends, spawn_app, spawn_app_on, spawn_app_with, Backend,
    TestApp, TestClock,
};
use serde_json::{json, Value};

on_both_backends!(
    text_finds_every_text_field_without_case_or_accents,
    erased_personal_fields_leave_the_search,
    search_text_written_before_the_migration_is_recomputed_at_start,
    search_text_without_the_address_fields_is_recomputed_after_0016,
    filters_take_several_values_and_sellers_are_counted,
    created_at_ranges_and_the_new_orders_page_through_ties,
    sellers_counts_only_what_the_caller_may_see,
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

/// Every name of the list in `order`, read a page of `first` at a time.
async fn paged(app: &TestApp, order: Value, first: usize) -> Vec<String> {
    let (mut names, mut after) = (Vec::new(), Value::Null);
    loop {
        let page = app
            .ok(
                LIST,
                json!({ "filter": { "ownCompany": false }, "order": order, "first": first, "after": after }),
            )
            .await;
        let page = &page["customers"];
        for edge in page["edges"].as_array().unwrap() {
            names.push(edge["node"]["name"].as_str().unwrap().to_string());
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            return names;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
}

async fn created_at_ranges_and_the_new_orders_page_through_ties(backend: Backend) {
    let clock = TestClock::default();
    let app = spawn_app_with(fresh_database(backend).await, clock.clone()).await;
    let start = clock.now();
    for name in ["day0-a", "day0-b", "day0-c"] {
        app.create_customer(json!({ "name": name })).await;
    }
    clock.advance(chrono::Duration::days(1));
    let day1 = clock.now();
    for name in ["day1-a", "day1-b"] {
        app.create_customer(json!({ "name": name })).await;
    }
    clock.advance(chrono::Duration::days(1));
    let day2 = clock.now();
    app.create_customer(json!({ "name": "day2-a" })).await;
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let range = |from: Option<chrono::DateTime<chrono::Utc>>,
                 to: Option<chrono::DateTime<chrono::Utc>>| {
        json!({ "createdAt": { "from": from.map(|t| t.to_rfc3339()), "to": to.map(|t| t.to_rfc3339()) } })
    };
    // `from` is included, `to` left out; either end may be open.
    assert_eq!(
        sorted(found(&app, range(Some(day1), Some(day2))).await),
        ["day1-a", "day1-b"]
    );
    assert_eq!(
        sorted(found(&app, range(Some(day1), None)).await),
        ["day1-a", "day1-b", "day2-a"]
    );
    assert_eq!(
        sorted(found(&app, range(None, Some(day1))).await),
        ["day0-a", "day0-b", "day0-c"]
    );
    assert!(found(&app, range(None, Some(start))).await.is_empty());
    let error = app
        .error(LIST, json!({ "filter": range(Some(day2), Some(day1)) }))
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(error["extensions"]["field"], "filter.createdAt.to");

    // Every customer is in PREPARATION: the account-status order is all ties, broken by id,
    // and a page of one at a time still lists each customer exactly once.
    let all = sorted(found(&app, json!({})).await);
    assert_eq!(all.len(), 6);
    for direction in ["ASC", "DESC"] {
        let by_status = paged(
            &app,
            json!({ "field": "ACCOUNT_STATUS", "direction": direction }),
            1,
        )
        .await;
        assert_eq!(sorted(by_status.clone()), all, "{direction}");
        let by_updated = paged(
            &app,
            json!({ "field": "UPDATED_AT", "direction": direction }),
            2,
        )
        .await;
        assert_eq!(sorted(by_updated), all, "{direction}");
    }
    // An edit makes a customer the most recently updated one.
    let day0_b = app
        .ok(
            "{ customers(filter: { text: \"day0-b\" }) { edges { node { id } } } }",
            json!({}),
        )
        .await["customers"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    clock.advance(chrono::Duration::hours(1));
    app.edit_customer(&day0_b, None, json!({ "organization": "touched" }))
        .await;
    let newest = paged(
        &app,
        json!({ "field": "UPDATED_AT", "direction": "DESC" }),
        3,
    )
    .await;
    assert_eq!(newest[0], "day0-b");
    let oldest = paged(
        &app,
        json!({ "field": "UPDATED_AT", "direction": "ASC" }),
        3,
    )
    .await;
    assert_eq!(oldest.last().unwrap(), "day0-b");
    assert_eq!(oldest[0], "day0-a");
}

async fn sellers_counts_only_what_the_caller_may_see(backend: Backend) {
    let app = spawn_app(backend).await;
    let sam_root = app
        .create_customer(json!({ "name": "sam root", "seller": "sam" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.create_customer(json!({ "name": "sam inner", "seller": "sam", "parentId": sam_root }))
        .await;
    app.create_customer(json!({ "name": "olga one", "seller": "olga" }))
        .await;
    app.create_customer(json!({ "name": "olga two", "seller": "olga" }))
        .await;
    let other_tenant = mint("root", "other", Role::TenantAdmin, None);
    let created = app
        .graphql_as(
            &other_tenant,
            "mutation { createCustomer(input: { name: \"elsewhere\", seller: \"olga\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(created.get("errors").is_none(), "{created}");
    let sellers_as = |token: String| {
        let app = &app;
        async move {
            let body = app
                .graphql_as(&token, "{ sellers { seller customers } }", json!({}))
                .await;
            assert!(body.get("errors").is_none(), "{body}");
            body["data"]["sellers"].clone()
        }
    };
    assert_eq!(
        sellers_as(app.token.clone()).await,
        json!([{ "seller": "olga", "customers": 2 }, { "seller": "sam", "customers": 2 }]),
        "the tenant's own sellers only: the other tenant's olga customer is not counted"
    );
    assert_eq!(
        sellers_as(other_tenant).await,
        json!([{ "seller": "olga", "customers": 1 }])
    );
    assert_eq!(
        sellers_as(mint("sam", "default", Role::Seller, None)).await,
        json!([{ "seller": "sam", "customers": 2 }]),
        "a seller sees itself"
    );
    let inner_admin = mint(
        "inner-admin",
        "default",
        Role::CustomerAdmin,
        Some(&sam_root),
    );
    assert_eq!(
        sellers_as(inner_admin).await,
        json!([{ "seller": "sam", "customers": 2 }]),
        "a customer's admin counts its customer's subtree"
    );
}
