//! The product toggles of the creation form (seed 001): createCustomer takes each product's
//! own visibility and writes it with the creation, all or nothing; and
//! resetProductVisibility puts an override back to the global setting.

use clientele_tests::{code, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    the_creation_form_toggles_products_with_the_creation,
    an_unknown_or_repeated_product_refuses_the_whole_create,
    reset_puts_an_override_back_to_the_global_setting,
    a_create_with_its_first_admin_takes_toggles_and_a_uniquified_name_too,
);

const CREATE: &str = "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) {
    id version createdAt products { key visible visibilitySource status } } }";

const READ: &str = "query($id: ID!) { customer(id: $id) { version updatedAt
    products { key visible visibilitySource status } } }";

/// (visible, visibilitySource) of `key` in a customer's `products`.
fn product(customer: &Value, key: &str) -> (bool, String) {
    let p = customer["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key)
        .unwrap_or_else(|| panic!("no product {key}: {customer}"));
    (
        p["visible"].as_bool().unwrap(),
        p["visibilitySource"].as_str().unwrap().to_string(),
    )
}

fn own(visible: bool) -> (bool, String) {
    (visible, "CUSTOMER".into())
}

fn global(visible: bool) -> (bool, String) {
    (visible, "GLOBAL".into())
}

async fn set_global(app: &TestApp, product: &str, visible: bool) {
    app.ok(
        "mutation($p: String!, $v: Boolean!) { setGlobalProductVisibility(product: $p, visible: $v) { key } }",
        json!({ "p": product, "v": visible }),
    )
    .await;
}

async fn read(app: &TestApp, id: &str) -> Value {
    app.ok(READ, json!({ "id": id })).await["customer"].clone()
}

async fn the_creation_form_toggles_products_with_the_creation(backend: Backend) {
    let app = spawn_app(backend).await;
    set_global(&app, "CDN", true).await;
    let products = json!([
        { "product": "CDN", "visible": false },
        { "product": "DNS", "visible": true },
        { "product": "STORAGE", "visible": false },
    ]);
    let created = app
        .ok(
            CREATE,
            json!({ "input": { "name": "acme", "products": products } }),
        )
        .await["createCustomer"]
        .clone();
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["version"], 4, "the creation and three overrides");
    assert_eq!(product(&created, "CDN"), own(false));
    assert_eq!(product(&created, "DNS"), own(true));
    // A toggle given is an override even when it matches the global setting.
    assert_eq!(product(&created, "STORAGE"), own(false));
    assert_eq!(
        product(&created, "CLOUD"),
        global(false),
        "left out: global"
    );
    // Visible is not activated.
    assert_eq!(created["products"][0]["status"], Value::Null);
    // One command: the same request wrote every event, in order.
    let history = app.history(&id).await;
    let types: Vec<&str> = history
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "CustomerCreated",
            "ProductVisibilitySet",
            "ProductVisibilitySet",
            "ProductVisibilitySet"
        ]
    );
    assert!(history
        .iter()
        .all(|e| e["requestId"] == history[0]["requestId"]
            && e["occurredAt"] == history[0]["occurredAt"]));
    assert_eq!(
        history[2]["payload"],
        json!({ "product": "DNS", "visible": true, "previous": null })
    );
    // Later global changes leave the overrides alone.
    set_global(&app, "DNS", false).await;
    set_global(&app, "STORAGE", true).await;
    let now = read(&app, &id).await;
    assert_eq!(product(&now, "DNS"), own(true));
    assert_eq!(product(&now, "STORAGE"), own(false));
    // As of the creation, the same overrides.
    let as_of = app
        .ok(
            "query($id: ID!, $at: DateTime!) { customerAsOf(id: $id, at: $at) { version products { key visible visibilitySource status } } }",
            json!({ "id": id, "at": created["createdAt"] }),
        )
        .await["customerAsOf"]
        .clone();
    assert_eq!(as_of["version"], 4);
    assert_eq!(product(&as_of, "DNS"), own(true));
}

async fn an_unknown_or_repeated_product_refuses_the_whole_create(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = app.event_count().await;
    let refused = |input: Value| {
        let app = &app;
        async move {
            let body = app.graphql(CREATE, json!({ "input": input })).await;
            assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
            body["errors"][0]["extensions"].clone()
        }
    };
    let unknown = refused(json!({ "name": "acme", "products": [
        { "product": "CDN", "visible": true }, { "product": "NOPE", "visible": true } ] }))
    .await;
    assert_eq!(
        (&unknown["field"], &unknown["rule"]),
        (&json!("input.products"), &json!("UNKNOWN_PRODUCT")),
        "{unknown}"
    );
    let twice = refused(json!({ "name": "acme", "products": [
        { "product": "CDN", "visible": true }, { "product": "CDN", "visible": false } ] }))
    .await;
    assert_eq!(
        (&twice["field"], &twice["rule"]),
        (&json!("input.products"), &json!("UNIQUE")),
        "{twice}"
    );
    // Every broken rule at once: the fields' and the toggles'.
    let both = app
        .graphql(
            CREATE,
            json!({ "input": { "name": "n".repeat(101), "products": [{ "product": "NOPE", "visible": true }] } }),
        )
        .await;
    let rules: Vec<(String, String)> = both["errors"][0]["extensions"]["violations"]
        .as_array()
        .unwrap_or_else(|| panic!("{both}"))
        .iter()
        .map(|v| {
            (
                v["field"].as_str().unwrap().into(),
                v["rule"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            ("input.name".to_string(), "LENGTH".to_string()),
            ("input.products".into(), "UNKNOWN_PRODUCT".into())
        ]
    );
    assert_eq!(app.event_count().await, before, "nothing written");
    let listed = app
        .ok(
            "{ customers(filter: { ownCompany: false }) { edges { node { id } } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["customers"]["edges"], json!([]));
}

async fn reset_puts_an_override_back_to_the_global_setting(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .ok(
            CREATE,
            json!({ "input": { "name": "acme", "products": [{ "product": "CDN", "visible": true }] } }),
        )
        .await["createCustomer"]
        .clone();
    let id = created["id"].as_str().unwrap().to_string();
    app.ok(
        "mutation($id: ID!) { activateProduct(customerId: $id, product: \"CDN\") { id } }",
        json!({ "id": id }),
    )
    .await;
    let reset =
        "mutation($id: ID!, $p: String!) { resetProductVisibility(customerId: $id, product: $p) {
        version updatedAt products { key visible visibilitySource status } } }";
    let after =
        app.ok(reset, json!({ "id": id, "p": "CDN" })).await["resetProductVisibility"].clone();
    assert_eq!(
        product(&after, "CDN"),
        global(false),
        "the global default again"
    );
    let cdn = &after["products"][0];
    assert_eq!(
        (&cdn["key"], &cdn["status"]),
        (&json!("CDN"), &json!("NEW")),
        "the activation stays"
    );
    let version = after["version"].clone();
    // It follows the global setting from now on.
    set_global(&app, "CDN", true).await;
    assert_eq!(product(&read(&app, &id).await, "CDN"), global(true));
    // Without an override there is nothing to reset: nothing is written.
    let again =
        app.ok(reset, json!({ "id": id, "p": "CDN" })).await["resetProductVisibility"].clone();
    assert_eq!(again["version"], version);
    let history = app.history(&id).await;
    let last = history
        .iter()
        .rfind(|e| e["type"] == "ProductVisibilityReset")
        .expect("a reset event");
    assert_eq!(
        last["payload"],
        json!({ "product": "CDN", "previous": true })
    );
    assert_eq!(
        history
            .iter()
            .filter(|e| e["type"] == "ProductVisibilityReset")
            .count(),
        1
    );
    // As of before the reset it was the customer's own; as of after, the global one then.
    let as_of = "query($id: ID!, $at: DateTime!) { customerAsOf(id: $id, at: $at) { products { key visible visibilitySource status } } }";
    let before = app
        .ok(as_of, json!({ "id": id, "at": created["createdAt"] }))
        .await["customerAsOf"]
        .clone();
    assert_eq!(product(&before, "CDN"), own(true));
    let then = app
        .ok(as_of, json!({ "id": id, "at": after["updatedAt"] }))
        .await["customerAsOf"]
        .clone();
    assert_eq!(product(&then, "CDN"), global(false));
    // An unknown product is refused and writes nothing.
    let count = app.event_count().await;
    let body = app.graphql(reset, json!({ "id": id, "p": "NOPE" })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(
        (&extensions["field"], &extensions["rule"]),
        (&json!("product"), &json!("UNKNOWN_PRODUCT"))
    );
    assert_eq!(app.event_count().await, count);
    // A customer out of reach is NOT_FOUND.
    let body = app
        .graphql(
            reset,
            json!({ "id": "0190a000-0000-7000-8000-000000000000", "p": "CDN" }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
}

async fn a_create_with_its_first_admin_takes_toggles_and_a_uniquified_name_too(backend: Backend) {
    let app = spawn_app(backend).await;
    app.ok(CREATE, json!({ "input": { "name": "acme" } })).await;
    let input = json!({ "name": "Acme", "nameConflict": "UNIQUIFY",
        "products": [{ "product": "CDN", "visible": true }],
        "firstAdmin": { "email": "ada@acme.example", "password": "zq-long-enough-pass-7731" } });
    let query = "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) {
        id version name requestedName products { key visible visibilitySource }
        users { nodes { email status } } } }";
    let created = app.ok(query, json!({ "input": input })).await["createCustomer"].clone();
    assert_eq!(
        (&created["name"], &created["requestedName"]),
        (&json!("acme-2"), &json!("acme"))
    );
    assert_eq!(product(&created, "CDN"), own(true));
    assert_eq!(
        created["users"]["nodes"],
        json!([{ "email": "ada@acme.example", "status": "ACTIVE" }])
    );
    let id = created["id"].as_str().unwrap();
    let types = app.history_types(id).await;
    assert_eq!(&types[..2], ["CustomerCreated", "ProductVisibilitySet"]);
    assert_eq!(created["version"], types.len(), "one command's events");
}
