//! Bulk mutations: many customers at once, each its own command with its own events and
//! its own answer (the one the single mutation would give), 1 to 1,000 distinct ids, and
//! dry runs that check everything and write nothing; reach.rs: each id as far as the caller
//! may see it.

use clientele_tests::{code, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_bulk_edit_answers_each_id_in_order_and_one_refusal_stops_no_other,
    a_bulk_call_takes_1_to_1000_distinct_ids_or_runs_nothing,
    bulk_visibility_and_deletion_requests_act_on_each_customer,
    a_bulk_dry_run_checks_everything_writes_nothing_and_predicts_the_real_run,
);

mod reach;

const EDIT: &str = "mutation($ids: [ID!]!, $input: EditCustomerInput!, $dry: Boolean! = false) {
    bulkEditCustomers(ids: $ids, input: $input, dryRun: $dry) {
        id ok events customer { id city shortname } error { code message field rule } } }";
const VISIBILITY: &str =
    "mutation($ids: [ID!]!, $p: String!, $v: Boolean!, $dry: Boolean! = false) {
    bulkSetProductVisibility(ids: $ids, product: $p, visible: $v, dryRun: $dry) {
        id ok events customer { id products { key visible } } error { code field rule } } }";
const REQUEST: &str =
    "mutation($ids: [ID!]!, $r: String, $sub: Boolean! = false, $dry: Boolean! = false) {
    bulkRequestDeletion(ids: $ids, reason: $r, deleteInnerCustomers: $sub, dryRun: $dry) {
        id ok events customer { id products { key status } } error { code field rule } } }";

/// A random id that names no customer.
fn nobody() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The results of a bulk mutation that ran (no top-level error).
fn results<'a>(body: &'a Value, name: &str) -> &'a Vec<Value> {
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    body["data"][name].as_array().expect("a list of results")
}

/// Each result's `ok`, or its error code.
fn outcomes(results: &[Value]) -> Vec<String> {
    results
        .iter()
        .map(|r| match r["ok"].as_bool().unwrap() {
            true => "ok".to_string(),
            false => r["error"]["code"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// Every deletion request of the tenant, and how each stands.
async fn all_requests(app: &TestApp) -> Value {
    app.ok(
        "{ deletionRequests(first: 100) { edges { node { customerId status } } } }",
        json!({}),
    )
    .await
}

async fn a_bulk_edit_answers_each_id_in_order_and_one_refusal_stops_no_other(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("alpha", None).await;
    let b = app.new_customer("beta", None).await;
    let gone = app
        .create_customer(json!({ "name": "gone", "shortname": "gone1" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.ok(
        "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"gone1\") { id } }",
        json!({ "id": gone }),
    )
    .await;
    let own = clientele_server::auth::own_company_id("default");
    let ids = json!([a, nobody(), b, own, gone, "not-a-uuid"]);
    let body = app
        .graphql(EDIT, json!({ "ids": ids, "input": { "city": "Bern" } }))
        .await;
    let list = results(&body, "bulkEditCustomers");
    let given: Vec<&str> = list.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let asked: Vec<&str> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(given, asked, "one result per id, in the order of the ids");
    assert_eq!(
        outcomes(list),
        [
            "ok",
            "NOT_FOUND",
            "ok",
            "FORBIDDEN",
            "CUSTOMER_DELETED",
            "NOT_FOUND"
        ]
    );
    for (i, id) in [(0, &a), (2, &b)] {
        assert_eq!(list[i]["customer"]["city"], "Bern", "{body}");
        assert_eq!(list[i]["events"], json!(["CustomerEdited"]));
        assert_eq!(app.customer(id).await["city"], "Bern");
        assert!(list[i]["error"].is_null());
    }
    // An id that names nothing answers as the single mutation does.
    let single = app
        .error(
            "mutation($id: ID!) { editCustomer(id: $id, input: { city: \"Bern\" }) { id } }",
            json!({ "id": nobody() }),
        )
        .await;
    assert_eq!(list[1]["error"]["message"], single["message"]);
    assert!(list[1]["customer"].is_null());
    // Each id is its own command: the second customer given the same shortname conflicts,
    // the first keeps it, and an edit that changes nothing writes nothing.
    let body = app
        .graphql(
            EDIT,
            json!({ "ids": [a, b], "input": { "shortname": "shared1", "city": "Bern" } }),
        )
        .await;
    let list = results(&body, "bulkEditCustomers");
    assert_eq!(outcomes(list), ["ok", "CONFLICT"]);
    assert_eq!(list[1]["error"]["field"], "input.shortname");
    assert_eq!(list[1]["error"]["rule"], "UNIQUE");
    assert_eq!(app.customer(&a).await["shortname"], "shared1");
    assert_eq!(app.customer(&b).await["shortname"], Value::Null);
    let unchanged = app
        .graphql(EDIT, json!({ "ids": [b], "input": { "city": "Bern" } }))
        .await;
    assert_eq!(
        results(&unchanged, "bulkEditCustomers")[0]["events"],
        json!([])
    );
    // Bad input is each id's BAD_USER_INPUT, with the single call's field and rule.
    let bad = app
        .graphql(
            EDIT,
            json!({ "ids": [a, b], "input": { "email": "not an email" } }),
        )
        .await;
    for result in results(&bad, "bulkEditCustomers") {
        assert_eq!(result["error"]["code"], "BAD_USER_INPUT");
        assert_eq!(result["error"]["field"], "input.email");
        assert_eq!(result["error"]["rule"], "FORMAT");
    }
}

async fn a_bulk_call_takes_1_to_1000_distinct_ids_or_runs_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("alpha", None).await;
    let before = app.event_count().await;
    let too_many: Vec<String> = std::iter::once(a.clone())
        .chain((0..1000).map(|_| nobody()))
        .collect();
    let repeated = vec![a.clone(), nobody(), a.to_uppercase()];
    for (ids, rule) in [
        (json!([]), "RANGE"),
        (json!(too_many), "RANGE"),
        (json!(repeated), "DUPLICATE"),
    ] {
        for (query, vars) in [
            (EDIT, json!({ "ids": ids, "input": { "city": "Bern" } })),
            (VISIBILITY, json!({ "ids": ids, "p": "CDN", "v": true })),
            (REQUEST, json!({ "ids": ids })),
        ] {
            let body = app.graphql(query, vars).await;
            assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
            assert_eq!(body["errors"][0]["extensions"]["field"], "ids");
            assert_eq!(body["errors"][0]["extensions"]["rule"], rule, "{body}");
        }
    }
    assert_eq!(app.event_count().await, before, "nothing was written");
    assert_eq!(app.customer(&a).await["city"], Value::Null);
    // Exactly 1,000 is taken: the one customer among them is edited, the rest are unknown.
    let mut thousand: Vec<String> = (0..999).map(|_| nobody()).collect();
    thousand.insert(500, a.clone());
    let body = app
        .graphql(
            EDIT,
            json!({ "ids": thousand, "input": { "city": "Bern" } }),
        )
        .await;
    let list = results(&body, "bulkEditCustomers");
    assert_eq!(list.len(), 1000);
    assert_eq!(list[500]["ok"], true);
    assert_eq!(list[500]["id"], a.as_str());
    let refused = list.iter().filter(|r| r["error"]["code"] == "NOT_FOUND");
    assert_eq!(refused.count(), 999);
    assert_eq!(app.event_count().await, before + 1, "one CustomerEdited");
}

async fn bulk_visibility_and_deletion_requests_act_on_each_customer(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("alpha", None).await;
    let b = app.new_customer("beta", None).await;
    let parent = app.new_customer("parent", None).await;
    app.new_customer("child", Some(&parent)).await;
    let body = app
        .graphql(VISIBILITY, json!({ "ids": [a, b], "p": "CDN", "v": true }))
        .await;
    let list = results(&body, "bulkSetProductVisibility");
    assert_eq!(outcomes(list), ["ok", "ok"]);
    for result in list {
        assert_eq!(result["events"], json!(["ProductVisibilitySet"]));
        let cdn = result["customer"]["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == "CDN")
            .cloned();
        assert_eq!(cdn.unwrap()["visible"], true, "{body}");
    }
    let unknown = app
        .graphql(VISIBILITY, json!({ "ids": [a], "p": "NOPE", "v": true }))
        .await;
    let refused = &results(&unknown, "bulkSetProductVisibility")[0]["error"];
    assert_eq!(refused["code"], "BAD_USER_INPUT");
    assert_eq!(refused["rule"], "UNKNOWN_PRODUCT");
    app.ok(
        "mutation($id: ID!) { activateProduct(customerId: $id, product: \"CDN\") { id } }",
        json!({ "id": a }),
    )
    .await;
    // A reason too long is refused once, for the whole call, before anything runs.
    let before = app.event_count().await;
    let long = app
        .graphql(REQUEST, json!({ "ids": [a, b], "r": "x".repeat(1001) }))
        .await;
    assert_eq!(code(&long), "BAD_USER_INPUT");
    assert_eq!(long["errors"][0]["extensions"]["field"], "reason");
    assert_eq!(app.event_count().await, before);
    let body = app
        .graphql(
            REQUEST,
            json!({ "ids": [a, parent, b], "r": "closing down" }),
        )
        .await;
    let list = results(&body, "bulkRequestDeletion");
    assert_eq!(outcomes(list), ["ok", "CONFLICT", "ok"]);
    assert_eq!(list[1]["error"]["field"], "deleteInnerCustomers");
    assert_eq!(
        list[0]["events"],
        json!([
            "DeletionRequested",
            "ProductStatusChanged",
            "AccountStatusChanged"
        ]),
        "the product in use is stopped: {body}"
    );
    assert_eq!(
        list[0]["customer"]["products"][0]["status"], "PAUSED",
        "{body}"
    );
    let open = all_requests(&app).await;
    assert_eq!(
        open["deletionRequests"]["edges"].as_array().unwrap().len(),
        2,
        "{open}"
    );
    // A second request for the same customers meets the open one.
    let again = app.graphql(REQUEST, json!({ "ids": [b] })).await;
    assert_eq!(
        outcomes(results(&again, "bulkRequestDeletion")),
        ["CONFLICT"]
    );
    let with_inner = app
        .graphql(REQUEST, json!({ "ids": [parent], "sub": true }))
        .await;
    assert_eq!(
        outcomes(results(&with_inner, "bulkRequestDeletion")),
        ["ok"]
    );
}

async fn a_bulk_dry_run_checks_everything_writes_nothing_and_predicts_the_real_run(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let a = app
        .create_customer(json!({ "name": "alpha", "shortname": "alpha1" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = app.new_customer("beta", None).await;
    let parent = app.new_customer("parent", None).await;
    app.new_customer("child", Some(&parent)).await;
    let missing = nobody();
    let before = (app.event_count().await, all_requests(&app).await);
    let history = app.history(&b).await;
    let cases = [
        (
            "bulkEditCustomers",
            EDIT,
            json!({ "ids": [a, missing, b], "input": { "city": "Bern", "shortname": "alpha1" } }),
        ),
        (
            "bulkSetProductVisibility",
            VISIBILITY,
            json!({ "ids": [a, missing, b], "p": "CDN", "v": true }),
        ),
        (
            "bulkRequestDeletion",
            REQUEST,
            json!({ "ids": [a, missing, parent, b] }),
        ),
    ];
    let mut predicted = Vec::new();
    for (name, query, vars) in &cases {
        let mut vars = vars.clone();
        vars["dry"] = json!(true);
        let body = app.graphql(query, vars).await;
        let list = results(&body, name).clone();
        for result in &list {
            assert!(
                result["customer"].is_null(),
                "a dry run changes no customer: {body}"
            );
        }
        predicted.push(list);
    }
    // The shortname b would take is a's (the dry run of each id sees today's state, with
    // the unique values of the others); the missing id is unknown; the parent has inner
    // customers.
    assert_eq!(outcomes(&predicted[0]), ["ok", "NOT_FOUND", "CONFLICT"]);
    assert_eq!(predicted[0][0]["events"], json!(["CustomerEdited"]));
    assert_eq!(predicted[0][2]["error"]["field"], "input.shortname");
    assert_eq!(outcomes(&predicted[1]), ["ok", "NOT_FOUND", "ok"]);
    assert_eq!(predicted[1][2]["events"], json!(["ProductVisibilitySet"]));
    assert_eq!(
        outcomes(&predicted[2]),
        ["ok", "NOT_FOUND", "CONFLICT", "ok"]
    );
    assert_eq!(predicted[2][0]["events"], json!(["DeletionRequested"]));
    assert_eq!(
        (app.event_count().await, all_requests(&app).await),
        before,
        "a dry run writes no event and no read model"
    );
    assert_eq!(app.history(&b).await, history);
    assert_eq!(app.customer(&a).await["city"], Value::Null);
    // For real, each id comes out as its dry run said.
    for ((name, query, vars), dry) in cases.iter().zip(&predicted) {
        let body = app.graphql(query, vars.clone()).await;
        let list = results(&body, name);
        assert_eq!(outcomes(list), outcomes(dry), "{name}: {body}");
        for (real, dry) in list.iter().zip(dry) {
            assert_eq!(real["events"], dry["events"], "{name}: {body}");
            assert_eq!(real["error"], dry["error"], "{name}: {body}");
        }
    }
}
