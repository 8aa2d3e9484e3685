//! Products, product statuses and the derived account status.

use clientele_domain::{derive_account_status, AccountStatus, ProductStatus};
use clientele_tests::{ok, on_both_backends, spawn_app, Backend, TestApp};
use proptest::prelude::*;
use serde_json::{json, Value};

on_both_backends!(
    every_tenant_starts_with_six_hidden_products_and_can_add_its_own,
    customers_inherit_global_visibility_and_their_own_setting_wins,
    showing_a_product_does_not_activate_it,
    each_account_status_follows_the_products,
    senseless_product_commands_are_refused_and_write_nothing,
    a_trial_contract_keeps_products_out_of_active,
);

const PRODUCTS: &str = "query($id: ID!) { customer(id: $id) { version accountStatus
    products { key name visible visibilitySource status }
    accountStatusExplanation { status reason products { key status } }
    accountStatusHistory { from to cause causeVersion } } }";

async fn customer_products(app: &TestApp, id: &str) -> Value {
    app.ok(PRODUCTS, json!({ "id": id })).await["customer"].clone()
}

fn product<'a>(customer: &'a Value, key: &str) -> &'a Value {
    customer["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == key)
        .unwrap()
}

async fn set_global(app: &TestApp, product: &str, visible: bool) -> Value {
    app.graphql(
        "mutation($p: String!, $v: Boolean!) { setGlobalProductVisibility(product: $p, visible: $v) { key visible } }",
        json!({ "p": product, "v": visible }),
    )
    .await
}

async fn set_visibility(app: &TestApp, id: &str, product: &str, visible: bool) -> Value {
    app.graphql(
        "mutation($id: ID!, $p: String!, $v: Boolean!) { setProductVisibility(customerId: $id, product: $p, visible: $v) { version } }",
        json!({ "id": id, "p": product, "v": visible }),
    )
    .await
}

async fn activate(app: &TestApp, id: &str, product: &str) -> Value {
    app.graphql(
        "mutation($id: ID!, $p: String!) { activateProduct(customerId: $id, product: $p) { version accountStatus } }",
        json!({ "id": id, "p": product }),
    )
    .await
}

async fn set_status(app: &TestApp, id: &str, product: &str, status: &str) -> Value {
    app.graphql(
        "mutation($id: ID!, $p: String!, $s: ProductStatus!) { setProductStatus(customerId: $id, product: $p, status: $s) { version accountStatus } }",
        json!({ "id": id, "p": product, "s": status }),
    )
    .await
}

fn refused(body: &Value, field: &str, rule: &str) {
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body:#}");
    assert_eq!(error["extensions"]["field"], field, "{body:#}");
    assert_eq!(error["extensions"]["rule"], rule, "{body:#}");
}

async fn every_tenant_starts_with_six_hidden_products_and_can_add_its_own(backend: Backend) {
    let app = spawn_app(backend).await;
    let data = app.ok("{ products { key name visible } }", json!({})).await;
    let keys: Vec<&str> = data["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["CDN", "CLOUD", "DDOS", "DNS", "STORAGE", "STREAMING"]
    );
    assert!(data["products"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["visible"] == false));
    let added = app
        .ok(
            "mutation { addProduct(key: \"IOT_HUB\", name: \"IoT hub\") { key name visible } }",
            json!({}),
        )
        .await;
    assert_eq!(
        added["addProduct"],
        json!({ "key": "IOT_HUB", "name": "IoT hub", "visible": false })
    );
    let error = app
        .error(
            "mutation { addProduct(key: \"CDN\", name: \"again\") { key } }",
            json!({}),
        )
        .await;
    assert_eq!(error["extensions"]["rule"], "UNIQUE");
    let error = app
        .error(
            "mutation { addProduct(key: \"bad key\", name: \"x\") { key } }",
            json!({}),
        )
        .await;
    assert_eq!(error["extensions"]["field"], "key");
}

async fn customers_inherit_global_visibility_and_their_own_setting_wins(backend: Backend) {
    let app = spawn_app(backend).await;
    let pinned = app.new_customer("pinned", None).await;
    let follower = app.new_customer("follower", None).await;
    ok(&set_visibility(&app, &pinned, "CDN", false).await);
    ok(&set_global(&app, "CDN", true).await);
    let follows = customer_products(&app, &follower).await;
    assert_eq!(product(&follows, "CDN")["visible"], true);
    assert_eq!(product(&follows, "CDN")["visibilitySource"], "GLOBAL");
    let own = customer_products(&app, &pinned).await;
    assert_eq!(
        product(&own, "CDN")["visible"],
        false,
        "a later global change does not touch the customer's own setting"
    );
    assert_eq!(product(&own, "CDN")["visibilitySource"], "CUSTOMER");
    let late = app.new_customer("late", None).await;
    assert_eq!(
        product(&customer_products(&app, &late).await, "CDN")["visible"],
        true,
        "a new customer inherits"
    );
    refused(
        &set_visibility(&app, &late, "NOPE", true).await,
        "product",
        "UNKNOWN_PRODUCT",
    );
}

async fn showing_a_product_does_not_activate_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.new_customer("acme", None).await;
    refused(&activate(&app, &id, "DNS").await, "product", "NOT_VISIBLE");
    ok(&set_visibility(&app, &id, "DNS", true).await);
    let shown = customer_products(&app, &id).await;
    assert_eq!(product(&shown, "DNS")["status"], Value::Null);
    assert_eq!(shown["accountStatus"], "PREPARATION");
    let activated = activate(&app, &id, "DNS").await;
    assert_eq!(
        ok(&activated)["activateProduct"]["accountStatus"],
        "PREPARATION",
        "NEW is not yet used"
    );
    assert_eq!(
        product(&customer_products(&app, &id).await, "DNS")["status"],
        "NEW"
    );
}

async fn each_account_status_follows_the_products(backend: Backend) {
    let app = spawn_app(backend).await;
    ok(&set_global(&app, "CDN", true).await);
    ok(&set_global(&app, "DNS", true).await);
    let id = app.new_customer("acme", None).await;
    ok(&activate(&app, &id, "CDN").await);
    ok(&activate(&app, &id, "DNS").await);
    let steps = [
        ("CDN", "TRIAL", "TRIAL"),
        ("DNS", "ACTIVE", "ACTIVE"),
        ("CDN", "TRIAL_END", "ACTIVE"),
        ("DNS", "PAUSED", "TRIAL_END"),
        ("CDN", "TRIAL", "TRIAL"),
        ("CDN", "DELETED", "TRIAL_END"),
    ];
    for (key, status, account) in steps {
        let answer = set_status(&app, &id, key, status).await;
        assert_eq!(
            ok(&answer)["setProductStatus"]["accountStatus"],
            account,
            "{key} → {status}"
        );
    }
    let customer = customer_products(&app, &id).await;
    assert_eq!(customer["accountStatusExplanation"]["status"], "TRIAL_END");
    assert_eq!(
        customer["accountStatusExplanation"]["reason"],
        "no product is ACTIVE or in TRIAL, and these ended: CDN (DELETED), DNS (PAUSED)"
    );
    let transitions: Vec<(Value, Value)> = customer["accountStatusHistory"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["from"].clone(), t["to"].clone()))
        .collect();
    let expected = [
        (Value::Null, "PREPARATION"),
        (json!("PREPARATION"), "TRIAL"),
        (json!("TRIAL"), "ACTIVE"),
        (json!("ACTIVE"), "TRIAL_END"),
        (json!("TRIAL_END"), "TRIAL"),
        (json!("TRIAL"), "TRIAL_END"),
    ];
    assert_eq!(transitions, expected.map(|(f, t)| (f, json!(t))).to_vec());
    let history = app.history(&id).await;
    let status_changes: Vec<&Value> = history
        .iter()
        .filter(|e| e["type"] == "ProductStatusChanged")
        .collect();
    assert_eq!(
        status_changes[0]["payload"],
        json!({ "product": "CDN", "from": "NEW", "to": "TRIAL" })
    );
    let list = app
        .ok(
            "{ customers(filter: { accountStatus: TRIAL_END }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(list["customers"]["totalCount"], 1);
    for _ in 0..100 {
        let counts = app
            .ok("{ customerCountsByStatus { status count } }", json!({}))
            .await;
        let by_status: Vec<i64> = counts["customerCountsByStatus"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["count"].as_i64().unwrap())
            .collect();
        if by_status == [0, 0, 0, 1, 0] {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("customerCountsByStatus never showed the customer in TRIAL_END");
}

async fn senseless_product_commands_are_refused_and_write_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    ok(&set_global(&app, "CDN", true).await);
    let id = app.new_customer("acme", None).await;
    refused(
        &set_status(&app, &id, "CDN", "ACTIVE").await,
        "product",
        "NOT_ACTIVATED",
    );
    ok(&activate(&app, &id, "CDN").await);
    refused(
        &activate(&app, &id, "CDN").await,
        "product",
        "ALREADY_ACTIVATED",
    );
    ok(&set_status(&app, &id, "CDN", "ACTIVE").await);
    refused(
        &set_status(&app, &id, "CDN", "NEW").await,
        "status",
        "TRANSITION",
    );
    refused(
        &set_status(&app, &id, "CDN", "TRIAL").await,
        "status",
        "TRANSITION",
    );
    refused(
        &activate(&app, &id, "NOPE").await,
        "product",
        "UNKNOWN_PRODUCT",
    );
    let before = app.event_count().await;
    refused(
        &set_status(&app, &id, "CDN", "TRIAL_END").await,
        "status",
        "TRANSITION",
    );
    assert_eq!(app.event_count().await, before);
    let same = set_status(&app, &id, "CDN", "ACTIVE").await;
    assert_eq!(
        ok(&same)["setProductStatus"]["version"],
        4,
        "setting the same status writes nothing"
    );
    let missing = set_status(&app, "no-such-customer", "CDN", "ACTIVE").await;
    assert_eq!(missing["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

async fn a_trial_contract_keeps_products_out_of_active(backend: Backend) {
    let app = spawn_app(backend).await;
    ok(&set_global(&app, "CDN", true).await);
    let id = app
        .create_customer(json!({ "name": "trial", "serviceStatus": "TRIAL_ACTIVE" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    ok(&activate(&app, &id, "CDN").await);
    refused(
        &set_status(&app, &id, "CDN", "ACTIVE").await,
        "status",
        "SERVICE_STATUS",
    );
    ok(&set_status(&app, &id, "CDN", "TRIAL").await);
    app.edit_customer(&id, None, json!({ "serviceStatus": "ACTIVE" }))
        .await;
    ok(&set_status(&app, &id, "CDN", "ACTIVE").await);
    let body = app
        .edit_customer_raw(&id, None, json!({ "serviceStatus": "TRIAL_ACTIVE" }))
        .await;
    refused(&body, "input.serviceStatus", "SERVICE_STATUS");
}

/// One random product command.
#[derive(Debug, Clone)]
enum Step {
    Global(usize, bool),
    Visibility(usize, bool),
    Activate(usize),
    Status(usize, ProductStatus),
}

const KEYS: [&str; 3] = ["CDN", "DNS", "STORAGE"];

fn step() -> impl Strategy<Value = Step> {
    let status = prop_oneof![
        Just(ProductStatus::New),
        Just(ProductStatus::Trial),
        Just(ProductStatus::Active),
        Just(ProductStatus::Paused),
        Just(ProductStatus::TrialEnd),
        Just(ProductStatus::Deleted),
    ];
    prop_oneof![
        (0..3usize, any::<bool>()).prop_map(|(p, v)| Step::Global(p, v)),
        (0..3usize, any::<bool>()).prop_map(|(p, v)| Step::Visibility(p, v)),
        (0..3usize).prop_map(Step::Activate),
        (0..3usize, status).prop_map(|(p, s)| Step::Status(p, s)),
    ]
}

/// After every step the projected status equals the rule applied to the projected products,
/// and the transition history chains to it.
async fn run_steps(app: &TestApp, steps: &[Step]) {
    let id = app
        .new_customer(&format!("prop-{}", uuid::Uuid::new_v4()), None)
        .await;
    for step in steps {
        let answer = match step {
            Step::Global(p, v) => set_global(app, KEYS[*p], *v).await,
            Step::Visibility(p, v) => set_visibility(app, &id, KEYS[*p], *v).await,
            Step::Activate(p) => activate(app, &id, KEYS[*p]).await,
            Step::Status(p, s) => set_status(app, &id, KEYS[*p], s.as_str()).await,
        };
        if let Some(error) = answer.get("errors") {
            assert_eq!(
                error[0]["extensions"]["code"], "BAD_USER_INPUT",
                "{step:?}: {answer:#}"
            );
        }
        let customer = customer_products(app, &id).await;
        let statuses = customer["products"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["status"].as_str().and_then(ProductStatus::parse));
        let expected: AccountStatus = derive_account_status(false, statuses);
        assert_eq!(
            customer["accountStatus"],
            expected.as_str(),
            "after {step:?}"
        );
        let history = customer["accountStatusHistory"].as_array().unwrap();
        assert_eq!(history.last().unwrap()["to"], expected.as_str());
        for pair in history.windows(2) {
            assert_eq!(pair[0]["to"], pair[1]["from"], "transitions chain");
        }
    }
}

fn property(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(spawn_app(backend));
    let config = ProptestConfig {
        cases: 12,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(steps in proptest::collection::vec(step(), 1..25))| {
        runtime.block_on(run_steps(&app, &steps));
    });
}

#[test]
fn the_projected_account_status_always_equals_the_rule_on_postgres() {
    property(Backend::Postgres);
}

#[test]
fn the_projected_account_status_always_equals_the_rule_on_sqlite() {
    property(Backend::Sqlite);
}
