//! Listing customers: Relay pages, ordering, filters.

use clientele_tests::{on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    pages_forwards_and_backwards_without_gaps_or_repeats,
    cursors_stay_valid_while_customers_are_created,
    every_order_sorts_both_ways,
    filters_match_text_type_seller_and_hide_test_accounts,
    absurd_page_sizes_and_foreign_cursors_are_refused,
    a_name_typed_as_people_write_it_finds_the_normalised_name,
);

const LIST: &str = "query($first: Int, $after: String, $last: Int, $before: String, $filter: CustomerFilter, $order: CustomerOrder) {
    customers(first: $first, after: $after, last: $last, before: $before, filter: $filter, orderBy: $order) {
        totalCount
        edges { cursor node { name organization } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    } }";

/// A page of customers other than the tenant's own company.
async fn page(app: &TestApp, mut variables: Value) -> Value {
    let filter = variables.get("filter").cloned().unwrap_or(json!({}));
    let mut filter = filter.as_object().cloned().unwrap_or_default();
    filter.entry("ownCompany").or_insert(json!(false));
    variables["filter"] = Value::Object(filter);
    app.ok(LIST, variables).await["customers"].clone()
}

fn names(page: &Value) -> Vec<String> {
    page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn create_named(app: &TestApp, names: &[&str]) {
    for name in names {
        app.create_customer(json!({ "name": name })).await;
    }
}

async fn pages_forwards_and_backwards_without_gaps_or_repeats(backend: Backend) {
    let app = spawn_app(backend).await;
    let all = ["c1", "c2", "c3", "c4", "c5", "c6", "c7"];
    create_named(&app, &all).await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let p = page(&app, json!({ "first": 3, "after": after })).await;
        assert_eq!(p["totalCount"], 7);
        seen.extend(names(&p));
        if p["pageInfo"]["hasNextPage"] == json!(false) {
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, all);
    let last = page(&app, json!({ "last": 3 })).await;
    assert_eq!(names(&last), ["c5", "c6", "c7"]);
    assert_eq!(last["pageInfo"]["hasPreviousPage"], true);
    let before = page(
        &app,
        json!({ "last": 3, "before": last["pageInfo"]["startCursor"] }),
    )
    .await;
    assert_eq!(names(&before), ["c2", "c3", "c4"]);
    assert_eq!(before["pageInfo"]["hasNextPage"], true);
    let first = page(
        &app,
        json!({ "last": 3, "before": before["pageInfo"]["startCursor"] }),
    )
    .await;
    assert_eq!(names(&first), ["c1"]);
    assert_eq!(first["pageInfo"]["hasPreviousPage"], false);
}

async fn cursors_stay_valid_while_customers_are_created(backend: Backend) {
    let app = spawn_app(backend).await;
    create_named(&app, &["b", "d", "f"]).await;
    let order = json!({ "field": "NAME" });
    let p1 = page(&app, json!({ "first": 2, "order": order })).await;
    assert_eq!(names(&p1), ["b", "d"]);
    create_named(&app, &["a", "c", "e"]).await;
    let p2 = page(
        &app,
        json!({ "first": 10, "after": p1["pageInfo"]["endCursor"], "order": order }),
    )
    .await;
    assert_eq!(
        names(&p2),
        ["e", "f"],
        "the page continues after d, with the new e in place"
    );
}

async fn every_order_sorts_both_ways(backend: Backend) {
    let app = spawn_app(backend).await;
    for (name, org, short) in [
        ("n2", "o1", "s3aaa"),
        ("n3", "o3", "s1aaa"),
        ("n1", "o2", "s2aaa"),
    ] {
        app.create_customer(json!({ "name": name, "organization": org, "shortname": short }))
            .await;
    }
    let cases = [
        ("CREATED_AT", ["n2", "n3", "n1"]),
        ("NAME", ["n1", "n2", "n3"]),
        ("ORGANIZATION", ["n2", "n1", "n3"]),
        ("SHORTNAME", ["n3", "n1", "n2"]),
    ];
    for (field, expected) in cases {
        let asc = page(
            &app,
            json!({ "order": { "field": field, "direction": "ASC" } }),
        )
        .await;
        assert_eq!(names(&asc), expected, "{field} ASC");
        let desc = page(
            &app,
            json!({ "order": { "field": field, "direction": "DESC" } }),
        )
        .await;
        let mut reversed = expected.to_vec();
        reversed.reverse();
        assert_eq!(names(&desc), reversed, "{field} DESC");
        // Paging one by one in descending order visits the same sequence.
        let mut after = Value::Null;
        let mut walked = Vec::new();
        for _ in 0..3 {
            let p = page(&app, json!({ "first": 1, "after": after, "order": { "field": field, "direction": "DESC" } })).await;
            walked.extend(names(&p));
            after = p["pageInfo"]["endCursor"].clone();
        }
        assert_eq!(walked, reversed, "{field} DESC paged");
    }
}

async fn filters_match_text_type_seller_and_hide_test_accounts(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(
        json!({ "name": "alpha", "email": "Ops@Alpha.example", "type": "SLG", "seller": "bob" }),
    )
    .await;
    app.create_customer(
        json!({ "name": "beta", "organization": "Beta 100%_Corp", "type": "MSSP" }),
    )
    .await;
    app.create_customer(json!({ "name": "gamma", "customId": "ACC-7", "testAccount": true }))
        .await;
    let filtered = |filter: Value| {
        let app = &app;
        async move { names(&page(app, json!({ "filter": filter })).await) }
    };
    assert_eq!(
        filtered(json!({})).await,
        ["alpha", "beta"],
        "test accounts are hidden by default"
    );
    assert_eq!(filtered(json!({ "testAccount": true })).await, ["gamma"]);
    assert_eq!(filtered(json!({ "text": "OPS@alpha" })).await, ["alpha"]);
    assert_eq!(
        filtered(json!({ "text": "100%_c" })).await,
        ["beta"],
        "% and _ match literally"
    );
    assert_eq!(filtered(json!({ "text": "%" })).await, ["beta"]);
    assert_eq!(
        filtered(json!({ "text": "acc-7", "testAccount": true })).await,
        ["gamma"]
    );
    assert_eq!(filtered(json!({ "type": "MSSP" })).await, ["beta"]);
    assert_eq!(filtered(json!({ "seller": "bob" })).await, ["alpha"]);
    assert_eq!(
        filtered(json!({ "accountStatus": "PREPARATION" })).await,
        ["alpha", "beta"]
    );
    assert_eq!(
        filtered(json!({ "accountStatus": "ACTIVE" })).await,
        Vec::<String>::new()
    );
    let p = page(&app, json!({ "filter": { "type": "MSSP" } })).await;
    assert_eq!(p["totalCount"], 1);
}

async fn absurd_page_sizes_and_foreign_cursors_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    create_named(&app, &["a"]).await;
    for variables in [
        json!({ "first": 1000 }),
        json!({ "first": -1 }),
        json!({ "last": 101 }),
    ] {
        let error = app.error(LIST, variables.clone()).await;
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{variables}");
        assert_eq!(error["extensions"]["rule"], "RANGE", "{variables}");
    }
    let error = app.error(LIST, json!({ "first": 1, "last": 1 })).await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
    let error = app.error(LIST, json!({ "after": "garbage" })).await;
    assert_eq!(error["extensions"]["field"], "after");
    let by_name = page(&app, json!({ "order": { "field": "NAME" } })).await;
    let error = app
        .error(LIST, json!({ "after": by_name["pageInfo"]["endCursor"] }))
        .await;
    assert_eq!(
        error["extensions"]["code"], "BAD_USER_INPUT",
        "a cursor of another order"
    );
}

async fn a_name_typed_as_people_write_it_finds_the_normalised_name(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(json!({ "name": "Customer Title 1", "organization": "Title Works" }))
        .await;
    app.create_customer(json!({ "name": "customer-title-2" }))
        .await;
    app.create_customer(json!({ "name": "other", "organization": "Customer Title Ltd" }))
        .await;
    let found = |text: &'static str| {
        let app = &app;
        async move { page(app, json!({ "filter": { "text": text } })).await }
    };
    // As typed: the stored name is "customer-title-1".
    let typed = found("Customer title 1").await;
    assert_eq!(names(&typed), ["customer-title-1"]);
    assert_eq!(typed["totalCount"], 1);
    // Normalised and as typed both match: the names, and the organization as written.
    let both = found("  CUSTOMER TITLE ").await;
    assert_eq!(
        names(&both),
        ["customer-title-1", "customer-title-2", "other"]
    );
    assert_eq!(
        names(&found("customer-title").await),
        ["customer-title-1", "customer-title-2"]
    );
    assert_eq!(names(&found("Title Works").await), ["customer-title-1"]);
    assert!(names(&found("Customer title 9").await).is_empty());
}
