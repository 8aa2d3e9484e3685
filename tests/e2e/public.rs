//! The tenant's public customer (ThingsBoard's): made on first use, exactly once however
//! many calls race, holding what is made public, and taking no command of its own.

use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend};
use futures::future::join_all;
use serde_json::{json, Value};

on_both_backends!(
    the_public_customer_is_made_once_under_concurrency_and_holds_what_is_public,
    the_public_customer_takes_another_name_when_public_is_held,
);

const MAKE_PUBLIC: &str = "mutation($k: EntityKind!, $e: ID!) { makePublic(kind: $k, entityId: $e) { kind entityId customerId changed } }";
const PUBLIC: &str = "{ publicCustomer { id name isPublic ownCompany } }";
const HISTORY: &str =
    "query($id: ID!) { customerHistory(id: $id, first: 100) { edges { node { type } } } }";

async fn the_public_customer_is_made_once_under_concurrency_and_holds_what_is_public(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    assert_eq!(
        app.ok(PUBLIC, json!({})).await["publicCustomer"],
        Value::Null
    );

    // Eight calls at once, on devices, assets and dashboards: one public customer.
    let calls = [
        ("DEVICE", "dev-1"),
        ("DEVICE", "dev-2"),
        ("DEVICE", "dev-3"),
        ("ASSET", "asset-1"),
        ("ASSET", "asset-2"),
        ("DASHBOARD", "dash-1"),
        ("DASHBOARD", "dash-2"),
        ("DASHBOARD", "dash-3"),
    ];
    let answers = join_all(
        calls
            .iter()
            .map(|(kind, id)| app.graphql(MAKE_PUBLIC, json!({ "k": kind, "e": id }))),
    )
    .await;
    let mut owners = Vec::new();
    for answer in &answers {
        assert!(answer.get("errors").is_none(), "{answer}");
        assert_eq!(answer["data"]["makePublic"]["changed"], true, "{answer}");
        owners.push(answer["data"]["makePublic"]["customerId"].clone());
    }
    owners.dedup();
    assert_eq!(owners.len(), 1, "one public customer: {owners:?}");
    let public = app.ok(PUBLIC, json!({})).await["publicCustomer"].clone();
    assert_eq!(public["id"], owners[0]);
    assert_eq!(public["name"], "public");
    assert_eq!(public["isPublic"], true);
    assert_eq!(public["ownCompany"], false);
    let id = public["id"].as_str().unwrap().to_string();
    let history = app.ok(HISTORY, json!({ "id": id })).await;
    let created = history["customerHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["type"] == "CustomerCreated")
        .count();
    assert_eq!(created, 1, "created exactly once: {history}");

    // What it holds reads like any assignment.
    let owner = "query($e: ID!) { entityOwner(kind: DEVICE, entityId: $e) { id isPublic } }";
    let found = app.ok(owner, json!({ "e": "dev-2" })).await;
    assert_eq!(found["entityOwner"]["id"], id.as_str());
    assert_eq!(found["entityOwner"]["isPublic"], true);
    let counts = "query($id: ID!) { customer(id: $id) { assignmentCounts { devices assets edges dashboards } } }";
    let counts = app.ok(counts, json!({ "id": id })).await;
    assert_eq!(
        counts["customer"]["assignmentCounts"],
        json!({ "devices": 3, "assets": 2, "edges": 0, "dashboards": 3 })
    );

    // A device of a customer leaves it when made public; a dashboard keeps its customers.
    let acme = app.new_customer("acme", None).await;
    app.ok(
        "mutation($id: ID!) { assignDevice(customerId: $id, deviceId: \"dev-9\") { changed } assignDashboard(customerId: $id, dashboardId: \"dash-9\") { changed } }",
        json!({ "id": acme }),
    )
    .await;
    for (kind, entity) in [("DEVICE", "dev-9"), ("DASHBOARD", "dash-9")] {
        let made = app.ok(MAKE_PUBLIC, json!({ "k": kind, "e": entity })).await;
        assert_eq!(made["makePublic"]["customerId"], id.as_str());
    }
    let found = app.ok(owner, json!({ "e": "dev-9" })).await;
    assert_eq!(found["entityOwner"]["id"], id.as_str());
    let shared = "{ dashboardCustomers(dashboardId: \"dash-9\") { nodes { id } } }";
    let mut shared: Vec<String> = app.ok(shared, json!({})).await["dashboardCustomers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect();
    shared.sort();
    let mut expected = vec![acme.clone(), id.clone()];
    expected.sort();
    assert_eq!(shared, expected);
    // Again: nothing changes.
    let again = app
        .ok(MAKE_PUBLIC, json!({ "k": "DEVICE", "e": "dev-9" }))
        .await;
    assert_eq!(again["makePublic"]["changed"], false);
    // Private again by unassigning.
    app.ok(
        "mutation($id: ID!) { unassignDevice(deviceId: \"dev-9\") { changed } unassignDashboard(customerId: $id, dashboardId: \"dash-9\") { changed } }",
        json!({ "id": id }),
    )
    .await;
    assert_eq!(
        app.ok(owner, json!({ "e": "dev-9" })).await["entityOwner"],
        Value::Null
    );

    // It takes no command of its own, and an edge cannot be public.
    let edit = app
        .graphql(
            "mutation($id: ID!) { editCustomer(id: $id, input: { city: \"x\" }) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&edit), "FORBIDDEN", "{edit}");
    let request = app
        .graphql(
            "mutation($id: ID!) { requestDeletion(customerId: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&request), "FORBIDDEN", "{request}");
    let edge = app
        .graphql(MAKE_PUBLIC, json!({ "k": "EDGE", "e": "edge-1" }))
        .await;
    assert_eq!(code(&edge), "BAD_USER_INPUT", "{edge}");
    assert_eq!(edge["errors"][0]["extensions"]["field"], "kind");
    assert_eq!(edge["errors"][0]["extensions"]["rule"], "ALLOWED_VALUES");

    // A customer's admin cannot see it nor make anything public.
    let admin = mint("ann", "default", Role::CustomerAdmin, Some(&acme));
    let seen = app.graphql_as(&admin, PUBLIC, json!({})).await;
    assert_eq!(seen["data"]["publicCustomer"], Value::Null, "{seen}");
    let refused = app
        .graphql_as(&admin, MAKE_PUBLIC, json!({ "k": "DEVICE", "e": "dev-5" }))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN", "{refused}");

    // Another tenant has its own.
    let other = mint("olga", "other", Role::TenantAdmin, None);
    let theirs = app
        .graphql_as(&other, MAKE_PUBLIC, json!({ "k": "DEVICE", "e": "dev-1" }))
        .await;
    let theirs = theirs["data"]["makePublic"]["customerId"].clone();
    assert!(theirs.is_string() && theirs != id.as_str(), "{theirs}");
    assert_eq!(
        app.ok(owner, json!({ "e": "dev-1" })).await["entityOwner"]["id"],
        id.as_str(),
        "the other tenant's device is not this one's"
    );
}

async fn the_public_customer_takes_another_name_when_public_is_held(backend: Backend) {
    let app = spawn_app(backend).await;
    app.new_customer("Public", None).await;
    let made = app
        .ok(MAKE_PUBLIC, json!({ "k": "DASHBOARD", "e": "dash-1" }))
        .await;
    let public = app.ok(PUBLIC, json!({})).await["publicCustomer"].clone();
    assert_eq!(public["id"], made["makePublic"]["customerId"]);
    assert_eq!(public["name"], "public-customer");
    assert_eq!(public["isPublic"], true);
}
