//! Assignments: a device, asset or edge has one customer, a dashboard many; their lists,
//! counts and paging, and the home dashboard.

use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend};
use serde_json::json;

on_both_backends!(devices_have_one_customer_and_dashboards_many_with_lists_and_counts,);

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
