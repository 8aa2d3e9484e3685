//! Assignments: a device, asset or edge has one customer, a dashboard many; their lists,
//! counts and paging, and the home dashboard.

use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend};
use serde_json::{json, Value};

on_both_backends!(
    devices_have_one_customer_and_dashboards_many_with_lists_and_counts,
    a_bulk_assignment_moves_each_entity_by_its_own_event_and_names_the_previous_customer,
    a_bulk_assignment_leaves_the_same_read_models_as_single_assignments,
    a_bulk_assignment_that_breaks_a_rule_writes_nothing,
    an_entity_tells_its_customer_and_a_dashboard_its_customers,
);

const BULK: &str = "mutation($c: ID!, $ids: [ID!]!) { assignDevices(customerId: $c, deviceIds: $ids) { kind customerId assigned unchanged } }";
const COUNTS: &str =
    "query($c: ID!) { customer(id: $c) { assignmentCounts { devices assets edges dashboards } } }";

fn devices(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("dev-{i:05}")).collect()
}

async fn a_bulk_assignment_moves_each_entity_by_its_own_event_and_names_the_previous_customer(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("bulk a", None).await;
    let b = app.new_customer("bulk b", None).await;
    // 2,500 devices: more than one statement's worth of rows.
    let first = app
        .ok(BULK, json!({ "c": a, "ids": devices(0..2500) }))
        .await;
    assert_eq!(
        first["assignDevices"],
        json!({ "kind": "DEVICE", "customerId": a, "assigned": 2500, "unchanged": 0 })
    );
    // Half of them again to a (nothing to write), a duplicate id counted once.
    let mut again = devices(0..1250);
    again.push("dev-00000".into());
    let same = app.ok(BULK, json!({ "c": a, "ids": again })).await;
    assert_eq!(same["assignDevices"]["assigned"], 0);
    assert_eq!(same["assignDevices"]["unchanged"], 1250);
    // Moving 1,000 of them to b, and 500 new ones.
    let moved = app
        .ok(BULK, json!({ "c": b, "ids": devices(2000..3500) }))
        .await;
    assert_eq!(moved["assignDevices"]["assigned"], 1500);
    assert_eq!(
        app.ok(COUNTS, json!({ "c": a })).await["customer"]["assignmentCounts"]["devices"],
        2000
    );
    assert_eq!(
        app.ok(COUNTS, json!({ "c": b })).await["customer"]["assignmentCounts"]["devices"],
        1500
    );
    // One event per entity that moved, each naming the customer it left.
    let rows: Vec<(String, String)> = app
        .store
        .db()
        .fetch_all(
            "SELECT aggregate_id, CAST(payload AS TEXT) FROM events WHERE aggregate_type = 'Device' AND sequence = 2 ORDER BY aggregate_id",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 500);
    for (_, payload) in &rows {
        let payload: serde_json::Value = serde_json::from_str(payload).unwrap();
        let assigned = &payload["DeviceAssigned"];
        assert_eq!(assigned["customerId"], b.as_str(), "{payload}");
        assert_eq!(assigned["previousCustomerId"], a.as_str(), "{payload}");
    }
    // Both customers' histories list the moves.
    let history = app.history_types(&a).await;
    assert_eq!(
        history.iter().filter(|t| *t == "DeviceAssigned").count(),
        3000
    );
}

async fn a_bulk_assignment_leaves_the_same_read_models_as_single_assignments(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("single a", None).await;
    let b = app.new_customer("single b", None).await;
    let one =
        "mutation($c: ID!, $e: ID!) { assignDevice(customerId: $c, deviceId: $e) { changed } }";
    for id in devices(0..6) {
        app.ok(one, json!({ "c": a, "e": id })).await;
    }
    app.ok(BULK, json!({ "c": b, "ids": devices(3..9) })).await;
    let page =
        "query($c: ID!) { customer(id: $c) { devices(first: 20) { edges { node { id } } } } }";
    let ids = |body: serde_json::Value| -> Vec<String> {
        body["customer"]["devices"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(ids(app.ok(page, json!({ "c": a })).await), devices(0..3));
    assert_eq!(ids(app.ok(page, json!({ "c": b })).await), devices(3..9));
    // A single unassignment after a bulk one sees the bulk's rows.
    app.ok(
        "mutation { unassignDevice(deviceId: \"dev-00004\") { changed } }",
        json!({}),
    )
    .await;
    assert_eq!(
        app.ok(COUNTS, json!({ "c": b })).await["customer"]["assignmentCounts"]["devices"],
        5
    );
}

async fn a_bulk_assignment_that_breaks_a_rule_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("rules a", None).await;
    let before = app.event_count().await;
    let bad = app
        .graphql(
            BULK,
            json!({ "c": a, "ids": ["ok-1", "has space", "ok-2"] }),
        )
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "deviceIds.1");
    assert_eq!(bad["errors"][0]["extensions"]["rule"], "CHARSET");
    let too_many = app
        .graphql(BULK, json!({ "c": a, "ids": devices(0..10_001) }))
        .await;
    assert_eq!(code(&too_many), "BAD_USER_INPUT", "{too_many}");
    assert_eq!(too_many["errors"][0]["extensions"]["field"], "deviceIds");
    assert_eq!(too_many["errors"][0]["extensions"]["rule"], "LIMIT");
    let nobody = app
        .graphql(
            BULK,
            json!({ "c": "01a2344e-bbcf-7795-ada8-b36d5f0dab09", "ids": ["d-1"] }),
        )
        .await;
    assert_eq!(code(&nobody), "NOT_FOUND", "{nobody}");
    let user = mint("una", "default", Role::CustomerUser, Some(&a));
    let refused = app
        .graphql_as(&user, BULK, json!({ "c": a, "ids": ["d-1"] }))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    assert_eq!(app.event_count().await, before);
}

async fn devices_have_one_customer_and_dashboards_many_with_lists_and_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.new_customer("a", None).await;
    let b = app.new_customer("b", None).await;
    let assign = |kind: &str| {
        format!("mutation($c: ID!, $e: ID!) {{ assign{kind}(customerId: $c, {}Id: $e) {{ kind entityId customerId changed }} }}", kind.to_lowercase())
    };
    for i in 0..5 {
        app.ok(
            &assign("Device"),
            json!({ "c": a, "e": format!("dev-{i}") }),
        )
        .await;
    }
    app.ok(&assign("Asset"), json!({ "c": a, "e": "asset-1" }))
        .await;
    app.ok(&assign("Edge"), json!({ "c": a, "e": "edge-1" }))
        .await;
    for c in [&a, &b] {
        app.ok(&assign("Dashboard"), json!({ "c": c, "e": "shared-dash" }))
            .await;
    }
    let again = app
        .ok(&assign("Device"), json!({ "c": a, "e": "dev-0" }))
        .await;
    assert_eq!(
        again["assignDevice"]["changed"], false,
        "already so: nothing written"
    );
    // Re-assigning names both customers.
    let re = app
        .ok(&assign("Device"), json!({ "c": b, "e": "dev-0" }))
        .await;
    assert_eq!(re["assignDevice"]["customerId"], b.as_str());
    let events: Vec<(String,)> = app
        .store
        .db()
        .fetch_all(
            "SELECT event_type FROM events WHERE aggregate_type = 'Device' ORDER BY event_type",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 6);
    let counts = "query($c: ID!) { customer(id: $c) { assignmentCounts { devices assets edges dashboards } } }";
    assert_eq!(
        app.ok(counts, json!({ "c": a })).await["customer"]["assignmentCounts"],
        json!({ "devices": 4, "assets": 1, "edges": 1, "dashboards": 1 })
    );
    assert_eq!(
        app.ok(counts, json!({ "c": b })).await["customer"]["assignmentCounts"],
        json!({ "devices": 1, "assets": 0, "edges": 0, "dashboards": 1 })
    );
    // Paged by id.
    let page = "query($c: ID!, $after: String) { customer(id: $c) { devices(first: 3, after: $after) { edges { cursor node { id assignedAt } } pageInfo { hasNextPage endCursor } } } }";
    let first = app.ok(page, json!({ "c": a })).await["customer"]["devices"].clone();
    let got: Vec<&str> = first["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["dev-1", "dev-2", "dev-3"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = app
        .ok(
            page,
            json!({ "c": a, "after": first["pageInfo"]["endCursor"] }),
        )
        .await["customer"]["devices"]
        .clone();
    assert_eq!(second["edges"][0]["node"]["id"], "dev-4");
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    // Unassigning.
    let un = app
        .ok(
            "mutation { unassignDevice(deviceId: \"dev-4\") { changed customerId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        un["unassignDevice"],
        json!({ "changed": true, "customerId": null })
    );
    assert_eq!(
        app.ok(counts, json!({ "c": a })).await["customer"]["assignmentCounts"]["devices"],
        3
    );
    // Bad ids and unknown customers are refused, and write nothing.
    let before = app.event_count().await;
    let bad = app
        .graphql(&assign("Device"), json!({ "c": a, "e": "has space" }))
        .await;
    assert_eq!(
        (
            code(&bad),
            &bad["errors"][0]["extensions"]["field"],
            &bad["errors"][0]["extensions"]["rule"]
        ),
        ("BAD_USER_INPUT", &json!("deviceId"), &json!("CHARSET"))
    );
    let nobody = app
        .graphql(&assign("Device"), json!({ "c": "nobody", "e": "dev-x" }))
        .await;
    assert_eq!(code(&nobody), "NOT_FOUND");
    assert_eq!(app.event_count().await, before);
    // Home dashboard: one of the customer's dashboards; it cannot then be unassigned.
    let home = "mutation($c: ID!, $d: ID) { setHomeDashboard(customerId: $c, dashboardId: $d, hideToolbar: true) { homeDashboardId hideHomeDashboardToolbar } }";
    let not_assigned = app
        .graphql(home, json!({ "c": a, "d": "other-dash" }))
        .await;
    assert_eq!(
        not_assigned["errors"][0]["extensions"]["rule"],
        "NOT_ASSIGNED"
    );
    let set = app.ok(home, json!({ "c": a, "d": "shared-dash" })).await;
    assert_eq!(
        set["setHomeDashboard"],
        json!({ "homeDashboardId": "shared-dash", "hideHomeDashboardToolbar": true })
    );
    let unassign_home = "mutation($c: ID!) { unassignDashboard(customerId: $c, dashboardId: \"shared-dash\") { changed } }";
    let kept = app.graphql(unassign_home, json!({ "c": a })).await;
    assert_eq!(code(&kept), "CONFLICT");
    let gone = app.ok(unassign_home, json!({ "c": b })).await;
    assert_eq!(gone["unassignDashboard"]["changed"], true);
    // Only tenant admins assign; a customer's users see its entities.
    let user = mint("una", "default", Role::CustomerUser, Some(&a));
    let refused = app
        .graphql_as(&user, &assign("Device"), json!({ "c": a, "e": "dev-9" }))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    let seen = app.graphql_as(&user, counts, json!({ "c": a })).await;
    assert_eq!(seen["data"]["customer"]["assignmentCounts"]["devices"], 3);
}

async fn an_entity_tells_its_customer_and_a_dashboard_its_customers(backend: Backend) {
    let app = spawn_app(backend).await;
    let sam = app
        .create_customer(json!({ "name": "sam's", "seller": "sam" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let olga = app
        .create_customer(json!({ "name": "olga's", "seller": "olga" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let tester = app
        .create_customer(json!({ "name": "tester", "testAccount": true }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.ok(
        "mutation($s: ID!, $o: ID!, $t: ID!) {
            a: assignDevice(customerId: $s, deviceId: \"dev-owned\") { changed }
            b: assignAsset(customerId: $o, assetId: \"asset-owned\") { changed }
            c: assignDashboard(customerId: $s, dashboardId: \"dash-shared\") { changed }
            d: assignDashboard(customerId: $o, dashboardId: \"dash-shared\") { changed }
            e: assignDashboard(customerId: $t, dashboardId: \"dash-shared\") { changed }
        }",
        json!({ "s": sam, "o": olga, "t": tester }),
    )
    .await;
    const OWNER: &str =
        "query($k: EntityKind!, $e: ID!) { entityOwner(kind: $k, entityId: $e) { id name } }";
    let owner = |token: String, kind: &'static str, entity: &'static str| {
        let app = &app;
        async move {
            let body = app
                .graphql_as(&token, OWNER, json!({ "k": kind, "e": entity }))
                .await;
            assert!(body.get("errors").is_none(), "{body}");
            body["data"]["entityOwner"].clone()
        }
    };
    let admin = app.token.clone();
    assert_eq!(owner(admin.clone(), "DEVICE", "dev-owned").await["id"], sam);
    assert_eq!(
        owner(admin.clone(), "ASSET", "asset-owned").await["id"],
        olga
    );
    assert_eq!(owner(admin.clone(), "EDGE", "edge-none").await, Value::Null);
    // A device of another seller's customer looks like an unassigned one.
    let olga_seller = mint("olga", "default", Role::Seller, None);
    assert_eq!(
        owner(olga_seller.clone(), "DEVICE", "dev-owned").await,
        Value::Null
    );
    assert_eq!(
        owner(olga_seller.clone(), "ASSET", "asset-owned").await["id"],
        olga
    );
    let wrong = app
        .error(OWNER, json!({ "k": "DASHBOARD", "e": "dash-shared" }))
        .await;
    assert_eq!(wrong["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(wrong["extensions"]["field"], "kind");

    const CUSTOMERS: &str = "query($d: ID!, $first: Int, $after: String) { dashboardCustomers(dashboardId: $d, first: $first, after: $after) { edges { cursor node { id name } } nodes { id } pageInfo { hasNextPage endCursor } } }";
    let mut all: Vec<String> = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app
            .ok(
                CUSTOMERS,
                json!({ "d": "dash-shared", "first": 2, "after": after }),
            )
            .await;
        let page = &page["dashboardCustomers"];
        for edge in page["edges"].as_array().unwrap() {
            all.push(edge["node"]["id"].as_str().unwrap().to_string());
        }
        if !page["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    let mut expected = vec![sam.clone(), olga.clone(), tester.clone()];
    expected.sort();
    assert_eq!(
        all, expected,
        "every customer, test accounts too, by id, once"
    );
    let seen_by_olga = app
        .graphql_as(&olga_seller, CUSTOMERS, json!({ "d": "dash-shared" }))
        .await;
    assert_eq!(
        seen_by_olga["data"]["dashboardCustomers"]["nodes"],
        json!([{ "id": olga }]),
        "{seen_by_olga}"
    );
    // Unassigned from one, and that customer leaves the list.
    app.ok(
        "mutation($s: ID!) { unassignDashboard(customerId: $s, dashboardId: \"dash-shared\") { changed } }",
        json!({ "s": sam }),
    )
    .await;
    let after_unassign = app.ok(CUSTOMERS, json!({ "d": "dash-shared" })).await;
    assert_eq!(
        after_unassign["dashboardCustomers"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let none = app.ok(CUSTOMERS, json!({ "d": "dash-nobody" })).await;
    assert_eq!(none["dashboardCustomers"]["edges"], json!([]));
}
