//! A customer's history is the whole of it: devices, assets, edges and dashboards arriving
//! and leaving are in `customerHistory` and `historyExport(customerId:)`, and a
//! re-assignment is in both customers' histories, naming the previous owner.

use clientele_tests::ws::WsClient;
use clientele_tests::{on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_device_arriving_and_leaving_is_in_both_customers_histories,
    the_history_export_of_a_customer_includes_its_assignments,
    a_customers_event_subscription_carries_its_assignments,
);

const HISTORY: &str = "query($id: ID!, $after: String) { customerHistory(id: $id, first: 100, after: $after) { edges { cursor node { type aggregateType aggregateId payload } } pageInfo { hasNextPage } } }";

async fn history(app: &TestApp, id: &str) -> Vec<Value> {
    let answer = app.ok(HISTORY, json!({ "id": id })).await;
    answer["customerHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn types(history: &[Value]) -> Vec<&str> {
    history
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect()
}

async fn a_device_arriving_and_leaving_is_in_both_customers_histories(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("first", None).await;
    let b = app.new_customer("second", None).await;
    let assign =
        "mutation($c: ID!, $d: ID!) { assignDevice(customerId: $c, deviceId: $d) { changed } }";
    app.ok(assign, json!({ "c": a, "d": "dev-1" })).await;
    app.ok(
        "mutation($c: ID!, $d: ID!) { assignDashboard(customerId: $c, dashboardId: $d) { changed } }",
        json!({ "c": a, "d": "dash-1" }),
    )
    .await;
    app.ok(assign, json!({ "c": b, "d": "dev-1" })).await;
    app.ok(
        "mutation($d: ID!) { unassignDevice(deviceId: $d) { changed } }",
        json!({ "d": "dev-1" }),
    )
    .await;

    let first = history(&app, &a).await;
    assert_eq!(
        types(&first),
        [
            "CustomerCreated",
            "DeviceAssigned",
            "DashboardAssigned",
            "DeviceAssigned"
        ]
    );
    assert_eq!(first[1]["aggregateType"], "Device");
    // The re-assignment is in the previous owner's history, naming it.
    assert_eq!(first[3]["payload"]["customerId"], b.as_str());
    assert_eq!(first[3]["payload"]["previousCustomerId"], a.as_str());
    let second = history(&app, &b).await;
    assert_eq!(
        types(&second),
        ["CustomerCreated", "DeviceAssigned", "DeviceUnassigned"]
    );
    assert_eq!(second[1]["payload"]["previousCustomerId"], a.as_str());

    // Pages follow each other without a gap or a repeat.
    let page = "query($id: ID!, $after: String) { customerHistory(id: $id, first: 2, after: $after) { edges { cursor node { type } } pageInfo { hasNextPage endCursor } } }";
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let answer = app.ok(page, json!({ "id": a, "after": after })).await;
        let h = &answer["customerHistory"];
        for edge in h["edges"].as_array().unwrap() {
            seen.push(edge["node"]["type"].as_str().unwrap().to_string());
        }
        if h["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = h["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, types(&first));
}

async fn the_history_export_of_a_customer_includes_its_assignments(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("exported", None).await;
    for (kind, arg) in [
        ("Device", "deviceId"),
        ("Asset", "assetId"),
        ("Edge", "edgeId"),
    ] {
        let m = format!(
            "mutation($c: ID!, $e: ID!) {{ assign{kind}(customerId: $c, {arg}: $e) {{ changed }} }}"
        );
        app.ok(&m, json!({ "c": a, "e": "e-1" })).await;
    }
    let export = app
        .ok(
            "query($id: ID!) { historyExport(customerId: $id) }",
            json!({ "id": a }),
        )
        .await;
    let lines: Vec<Value> = export["historyExport"]
        .as_str()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = lines
        .iter()
        .map(|l| l["aggregateType"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["Customer", "Device", "Asset", "Edge"]);
}

async fn a_customers_event_subscription_carries_its_assignments(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("watched", None).await;
    let b = app.new_customer("other", None).await;
    let assign =
        "mutation($c: ID!, $d: ID!) { assignDevice(customerId: $c, deviceId: $d) { changed } }";
    app.ok(assign, json!({ "c": a, "d": "dev-1" })).await;
    let events = "subscription($after: String, $filter: CustomerEventFilter) { \
        customerEvents(after: $after, filter: $filter) { type customerId aggregateType payload } }";
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client
        .subscribe(
            "s",
            events,
            json!({ "after": "0-0", "filter": { "customerId": a } }),
        )
        .await;
    // Replayed: the creation and the device's arrival.
    let created = client.next_data("s", "customerEvents").await;
    assert_eq!(created["type"], "CustomerCreated");
    let arrived = client.next_data("s", "customerEvents").await;
    assert_eq!(arrived["type"], "DeviceAssigned");
    assert_eq!(arrived["customerId"], a.as_str());
    // Live: the device leaves for another customer; the watched one sees it go.
    app.ok(assign, json!({ "c": b, "d": "dev-1" })).await;
    let left = client.next_data("s", "customerEvents").await;
    assert_eq!(left["type"], "DeviceAssigned");
    assert_eq!(left["aggregateType"], "Device");
    assert_eq!(left["payload"]["previousCustomerId"], a.as_str());
    assert_eq!(left["payload"]["customerId"], b.as_str());
    client.close().await;
}
