//! `customerAsOf` is one instant, all of it: every nested field (products, account status,
//! its explanation and history, users, open request, parent, inner customers) is as of `at`.

use chrono::Duration as Days;
use clientele_domain::customer::Customer;
use clientele_store::events::fold_history;
use clientele_tests::{on_both_backends, spawn_app, Backend, TestApp, ADD_USER};
use proptest::prelude::*;
use serde_json::{json, Value};

on_both_backends!(
    every_nested_field_of_customer_as_of_is_of_the_same_instant,
    inner_customers_and_the_parent_are_as_of_the_instant,
);

/// The fields `customer` and `customerAsOf` share, nested ones included.
const FIELDS: &str = "id version name city organization accountStatus parentId updatedAt \
    products { key visible visibilitySource status } \
    accountStatusHistory { from to at cause causeVersion } \
    accountStatusExplanation { status reason products { key status } } \
    users { nodes { id email status givenName createdAt updatedAt } }";

async fn as_of(app: &TestApp, id: &str, at: &str, extra: &str) -> Value {
    let query = format!(
        "query($id: ID!, $at: DateTime!) {{ customerAsOf(id: $id, at: $at) {{ {FIELDS} {extra} }} }}"
    );
    app.ok(&query, json!({ "id": id, "at": at })).await["customerAsOf"].clone()
}

async fn live(app: &TestApp, id: &str) -> Value {
    let query = format!("query($id: ID!) {{ customer(id: $id) {{ {FIELDS} }} }}");
    app.ok(&query, json!({ "id": id })).await["customer"].clone()
}

async fn cmd(app: &TestApp, mutation: &str, vars: Value) -> Value {
    app.graphql(mutation, vars).await
}

const ACTIVATE: &str =
    "mutation($id: ID!, $p: String!) { activateProduct(customerId: $id, product: $p) { id } }";
const STATUS: &str = "mutation($id: ID!, $p: String!, $s: ProductStatus!) { setProductStatus(customerId: $id, product: $p, status: $s) { id } }";
const REQUEST: &str = "mutation($id: ID!) { requestDeletion(customerId: $id) { id } }";
const CANCEL: &str =
    "mutation($id: ID!) { cancelDeletionRequest(customerId: $id, note: \"keep\") { id } }";
const DISABLE: &str =
    "mutation($c: ID!, $u: ID!) { disableCustomerUser(customerId: $c, userId: $u) { id } }";
const MOVE: &str = "mutation($id: ID!, $p: ID) { moveCustomer(id: $id, parentId: $p) { id } }";

async fn every_nested_field_of_customer_as_of_is_of_the_same_instant(backend: Backend) {
    let app = spawn_app(backend).await;
    app.ok(
        "mutation { setGlobalProductVisibility(product: \"CDN\", visible: true) { key } }",
        json!({}),
    )
    .await;
    let id = app.new_customer("acme", None).await;
    let vars = json!({ "id": id, "p": "CDN", "s": "TRIAL" });
    app.ok(ACTIVATE, vars.clone()).await;
    app.ok(STATUS, vars).await;
    let trial = live(&app, &id).await;
    let trial_at = app.clock.now().to_rfc3339();
    assert_eq!(trial["accountStatus"], "TRIAL");
    app.clock.advance(Days::minutes(5));
    app.ok(REQUEST, json!({ "id": id })).await;
    let requested = live(&app, &id).await;
    assert_eq!(requested["accountStatus"], "TRIAL_END");

    let then = as_of(&app, &id, &trial_at, "openDeletionRequest { id }").await;
    let mut expected = trial.clone();
    expected["openDeletionRequest"] = Value::Null;
    assert_eq!(then, expected, "the whole answer is of the trial instant");
    let cdn = |c: &Value| {
        c["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == "CDN")
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(cdn(&then), "TRIAL");
    assert_eq!(then["accountStatusExplanation"]["status"], "TRIAL");

    let now = as_of(
        &app,
        &id,
        &app.clock.now().to_rfc3339(),
        "openDeletionRequest { id }",
    )
    .await;
    assert_eq!(cdn(&now), "PAUSED");
    assert!(now["openDeletionRequest"]["id"].is_string());
}

async fn inner_customers_and_the_parent_are_as_of_the_instant(backend: Backend) {
    let app = spawn_app(backend).await;
    let parent = app.new_customer("parent", None).await;
    let child = app.new_customer("child", Some(&parent)).await;
    let before_move = app.clock.now().to_rfc3339();
    app.clock.advance(Days::minutes(1));
    app.edit_customer(&parent, None, json!({ "organization": "Later Org" }))
        .await;
    cmd(&app, MOVE, json!({ "id": child, "p": null })).await;
    let q = "query($id: ID!, $at: DateTime!) { customerAsOf(id: $id, at: $at) { children { id parentId } parent { id organization } } }";
    let then = app.ok(q, json!({ "id": parent, "at": before_move })).await;
    assert_eq!(
        then["customerAsOf"]["children"],
        json!([{ "id": child, "parentId": parent }])
    );
    let child_then = app.ok(q, json!({ "id": child, "at": before_move })).await;
    assert_eq!(
        child_then["customerAsOf"]["parent"],
        json!({ "id": parent, "organization": null })
    );
    let now = app
        .ok(
            q,
            json!({ "id": parent, "at": app.clock.now().to_rfc3339() }),
        )
        .await;
    assert_eq!(now["customerAsOf"]["children"], json!([]));
}

/// One random command on the customer under test.
#[derive(Debug, Clone)]
enum Step {
    Edit(usize),
    Global(usize, bool),
    Activate(usize),
    Status(usize, &'static str),
    Request,
    Cancel,
    AddUser,
    DisableUser,
    Move(bool),
}

const KEYS: [&str; 2] = ["CDN", "DNS"];
const CITIES: [&str; 3] = ["Oslo", "Bergen", "Tromsø"];

fn step() -> impl Strategy<Value = Step> {
    let status = prop_oneof![
        Just("TRIAL"),
        Just("ACTIVE"),
        Just("PAUSED"),
        Just("TRIAL_END"),
    ];
    prop_oneof![
        (0..3usize).prop_map(Step::Edit),
        (0..2usize, any::<bool>()).prop_map(|(p, v)| Step::Global(p, v)),
        (0..2usize).prop_map(Step::Activate),
        (0..2usize, status).prop_map(|(p, s)| Step::Status(p, s)),
        Just(Step::Request),
        Just(Step::Cancel),
        Just(Step::AddUser),
        Just(Step::DisableUser),
        any::<bool>().prop_map(Step::Move),
    ]
}

/// Runs the steps, recording after each its instant, the live answer and the reference
/// fold of the whole history then; then asks `customerAsOf` at every recorded instant.
async fn run_steps(app: &TestApp, steps: &[Step]) {
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let parent = app.new_customer(&format!("p-{tag}"), None).await;
    let id = app.new_customer(&format!("c-{tag}"), None).await;
    let mut users: Vec<String> = Vec::new();
    let mut recorded = Vec::new();
    for step in steps {
        app.clock.advance(Days::minutes(1));
        let c = json!({ "id": id });
        match step {
            Step::Edit(i) => {
                app.graphql(
                    "mutation($id: ID!, $c: String!) { editCustomer(id: $id, input: { city: $c }) { id } }",
                    json!({ "id": id, "c": CITIES[*i] }),
                )
                .await;
            }
            Step::Global(p, v) => {
                app.graphql(
                    "mutation($p: String!, $v: Boolean!) { setGlobalProductVisibility(product: $p, visible: $v) { key } }",
                    json!({ "p": KEYS[*p], "v": v }),
                )
                .await;
            }
            Step::Activate(p) => {
                cmd(app, ACTIVATE, json!({ "id": id, "p": KEYS[*p] })).await;
            }
            Step::Status(p, s) => {
                cmd(app, STATUS, json!({ "id": id, "p": KEYS[*p], "s": s })).await;
            }
            Step::Request => {
                cmd(app, REQUEST, c).await;
            }
            Step::Cancel => {
                cmd(app, CANCEL, c).await;
            }
            Step::AddUser => {
                let input = json!({ "email": format!("u{}-{tag}@x.example", users.len()), "givenName": "U", "userType": "CUSTOMER_USER" });
                let added = app
                    .graphql(ADD_USER, json!({ "c": id, "input": input }))
                    .await;
                if let Some(user) = added["data"]["addCustomerUser"]["user"]["id"].as_str() {
                    users.push(user.to_string());
                }
            }
            Step::DisableUser => {
                if let Some(user) = users.first() {
                    cmd(app, DISABLE, json!({ "c": id, "u": user })).await;
                }
            }
            Step::Move(under) => {
                let p = under.then(|| parent.clone());
                cmd(app, MOVE, json!({ "id": id, "p": p })).await;
            }
        }
        let answer = live(app, &id).await;
        let (folded, version) =
            fold_history::<Customer>(app.store.db(), &id, app.store.upcasters())
                .await
                .unwrap();
        recorded.push((app.clock.now().to_rfc3339(), answer, folded, version));
    }
    for (at, answer, folded, version) in recorded {
        let then = as_of(app, &id, &at, "openDeletionRequest { id }").await;
        let mut expected = answer.clone();
        expected["openDeletionRequest"] = match &folded.open_request {
            Some(r) => json!({ "id": r.request_id }),
            None => Value::Null,
        };
        assert_eq!(
            then, expected,
            "customerAsOf at {at} is the answer given then"
        );
        // Field by field against the domain's own fold of the events up to then.
        assert_eq!(then["version"], version as i64);
        assert_eq!(then["accountStatus"], folded.account_status().as_str());
        assert_eq!(then["parentId"].as_str(), folded.parent.as_deref());
        for product in then["products"].as_array().unwrap() {
            let key = product["key"].as_str().unwrap();
            let status = folded.products.get(key).and_then(|p| p.status);
            assert_eq!(product["status"].as_str(), status.map(|s| s.as_str()));
        }
        let mut got: Vec<String> = then["users"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["status"].as_str().unwrap().to_string())
            .collect();
        let mut want: Vec<String> = folded
            .users
            .values()
            .map(|u| format!("{:?}", u.status()))
            .map(|s| screaming(&s))
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
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
        cases: 16,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(steps in proptest::collection::vec(step(), 1..12))| {
        runtime.block_on(run_steps(&app, &steps));
    });
}

#[test]
fn customer_as_of_at_every_instant_equals_the_fold_up_to_it_on_postgres() {
    property(Backend::Postgres);
}

#[test]
fn customer_as_of_at_every_instant_equals_the_fold_up_to_it_on_sqlite() {
    property(Backend::Sqlite);
}

/// `PendingActivation` as GraphQL spells it: `PENDING_ACTIVATION`.
fn screaming(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}
