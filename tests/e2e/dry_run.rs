//! Dry runs of deleteCustomer and moveCustomer: the same checks and errors as the real
//! call, an answer saying what would happen, and nothing written.

use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend, TestApp, ADD_USER};
use serde_json::{json, Value};

on_both_backends!(
    a_deletion_dry_run_says_what_would_go_and_writes_nothing,
    a_deletion_dry_run_refuses_as_the_deletion_would,
    a_move_dry_run_says_where_it_would_go_and_writes_nothing,
);

const DELETE: &str =
    "mutation($id: ID!, $confirm: String!, $sub: Boolean! = false, $dry: Boolean! = false) {
    deleteCustomer(id: $id, confirm: $confirm, deleteInnerCustomers: $sub, dryRun: $dry) {
        id accountStatus deletionPreview {
            innerCustomers { count ids } users { count ids } devices { count ids }
            assets { count ids } edges { count ids } dashboards { count ids }
            closedRequestCount closedRequests { customerId requestId } events } } }";

const MOVE: &str = "mutation($id: ID!, $p: ID, $dry: Boolean! = false) {
    moveCustomer(id: $id, parentId: $p, dryRun: $dry) {
        id parentId movePreview { fromParentId toParentId changed innerCustomers { count ids } events } } }";

/// What a dry run must leave as it was: every event, every deletion request, and the
/// customers' read-model rows.
async fn everything(app: &TestApp, ids: &[&str]) -> (i64, Value, Vec<Value>) {
    let requests = app
        .ok(
            "{ deletionRequests(first: 100) { edges { node { id customerId status } } } }",
            json!({}),
        )
        .await;
    let mut customers = Vec::new();
    for id in ids {
        let q = "query($id: ID!) { customer(id: $id) { version accountStatus parentId users { nodes { id } } assignmentCounts { devices assets edges dashboards } } }";
        customers.push(app.ok(q, json!({ "id": id })).await);
    }
    (app.event_count().await, requests, customers)
}

fn sorted(value: &Value) -> Vec<String> {
    let mut ids: Vec<String> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

async fn a_deletion_dry_run_says_what_would_go_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = app
        .create_customer(json!({ "name": "root", "shortname": "root1" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let child = app.new_customer("child", Some(&root)).await;
    let grandchild = app.new_customer("grandchild", Some(&child)).await;
    let user = app.ok(ADD_USER, json!({ "c": child, "input": { "email": "kid@acme.example", "userType": "CUSTOMER_USER" } })).await;
    let user_id = user["addCustomerUser"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let assign = "mutation($c: ID!, $d: [ID!]!) { assignDevices(customerId: $c, deviceIds: $d) { assigned } assignAssets(customerId: $c, assetIds: [\"asset-1\"]) { assigned } }";
    app.ok(assign, json!({ "c": root, "d": ["dev-1", "dev-2"] }))
        .await;
    app.ok("mutation($c: ID!) { assignEdges(customerId: $c, edgeIds: [\"edge-1\"]) { assigned } assignDashboard(customerId: $c, dashboardId: \"dash-1\") { changed } }", json!({ "c": grandchild })).await;
    let requested = app
        .ok(
            "mutation($c: ID!) { requestDeletion(customerId: $c) { id } }",
            json!({ "c": grandchild }),
        )
        .await;
    assert_eq!(requested["requestDeletion"]["id"], grandchild.as_str());
    let request_id = app
        .ok(
            "query($c: ID!) { deletionRequests(filter: { customerId: $c }) { edges { node { id } } } }",
            json!({ "c": grandchild }),
        )
        .await["deletionRequests"]["edges"][0]["node"]["id"]
        .clone();
    let ids = [root.as_str(), child.as_str(), grandchild.as_str()];
    let before = everything(&app, &ids).await;
    let history = app.history(&grandchild).await;
    let vars = json!({ "id": root, "confirm": "root1", "sub": true, "dry": true });
    let answer = app.ok(DELETE, vars).await["deleteCustomer"].clone();
    assert_eq!(answer["id"], root.as_str());
    assert_eq!(
        answer["accountStatus"], "PREPARATION",
        "the customer as it is"
    );
    let preview = &answer["deletionPreview"];
    assert_eq!(
        preview["innerCustomers"],
        json!({ "count": 2, "ids": [grandchild, child] }),
        "deepest first"
    );
    assert_eq!(preview["users"], json!({ "count": 1, "ids": [user_id] }));
    assert_eq!(preview["devices"]["count"], 2);
    assert_eq!(sorted(&preview["devices"]["ids"]), ["dev-1", "dev-2"]);
    assert_eq!(preview["assets"], json!({ "count": 1, "ids": ["asset-1"] }));
    assert_eq!(preview["edges"], json!({ "count": 1, "ids": ["edge-1"] }));
    assert_eq!(
        preview["dashboards"],
        json!({ "count": 1, "ids": ["dash-1"] })
    );
    assert_eq!(preview["closedRequestCount"], 1);
    assert_eq!(
        preview["closedRequests"],
        json!([{ "customerId": grandchild, "requestId": request_id }])
    );
    assert_eq!(everything(&app, &ids).await, before, "nothing was written");
    assert_eq!(app.history(&grandchild).await, history);
    // Elsewhere a customer has no preview; the real deletion writes what the dry run said.
    assert_eq!(
        app.ok("query($id: ID!) { customer(id: $id) { deletionPreview { events } movePreview { changed } } }", json!({ "id": root })).await["customer"],
        json!({ "deletionPreview": null, "movePreview": null })
    );
    let events = before.0;
    let done = app
        .ok(
            DELETE,
            json!({ "id": root, "confirm": "root1", "sub": true }),
        )
        .await;
    assert_eq!(done["deleteCustomer"]["accountStatus"], "DELETED");
    assert_eq!(done["deleteCustomer"]["deletionPreview"], Value::Null);
    assert_eq!(
        app.event_count().await - events,
        preview["events"].as_i64().unwrap()
    );
    let after = everything(&app, &ids).await;
    assert_eq!(
        after.1["deletionRequests"]["edges"][0]["node"]["status"],
        "CARRIED_OUT"
    );
}

async fn a_deletion_dry_run_refuses_as_the_deletion_would(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = app.new_customer("root", None).await;
    let child = app.new_customer("child", Some(&root)).await;
    let ids = [root.as_str(), child.as_str()];
    let before = everything(&app, &ids).await;
    let cases = [
        json!({ "id": root, "confirm": "wrong" }),
        json!({ "id": root, "confirm": "root" }),
        json!({ "id": uuid::Uuid::now_v7().to_string(), "confirm": "root" }),
    ];
    for vars in cases {
        let real = app.graphql(DELETE, vars.clone()).await;
        let mut dry_vars = vars;
        dry_vars["dry"] = json!(true);
        let dry = app.graphql(DELETE, dry_vars).await;
        assert_ne!(code(&dry), "none", "{dry}");
        assert_eq!(dry["errors"][0]["message"], real["errors"][0]["message"]);
        assert_eq!(
            dry["errors"][0]["extensions"], real["errors"][0]["extensions"],
            "the same error as the deletion"
        );
    }
    // The refusals: the confirmation, the inner customers, an unknown id.
    let refused = app
        .graphql(
            DELETE,
            json!({ "id": root, "confirm": "root", "dry": true }),
        )
        .await;
    assert_eq!(code(&refused), "CONFLICT");
    assert_eq!(
        refused["errors"][0]["extensions"]["innerCustomers"],
        json!([child])
    );
    // Roles the table refuses, and customers out of reach, are refused alike.
    let seller = mint("sam", "default", Role::Seller, None);
    let body = app
        .graphql_as(
            &seller,
            DELETE,
            json!({ "id": root, "confirm": "root", "dry": true }),
        )
        .await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let reseller = mint("rita", "default", Role::Reseller, None);
    let body = app
        .graphql_as(
            &reseller,
            DELETE,
            json!({ "id": child, "confirm": "child", "dry": true }),
        )
        .await;
    assert_eq!(
        body["data"]["deleteCustomer"]["deletionPreview"]["events"], 3,
        "{body}"
    );
    assert_eq!(everything(&app, &ids).await, before, "nothing was written");
}

async fn a_move_dry_run_says_where_it_would_go_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = app.new_customer("root", None).await;
    let a = app.new_customer("a", Some(&root)).await;
    let b = app.new_customer("b", Some(&a)).await;
    let other = app.new_customer("other", None).await;
    let ids = [root.as_str(), a.as_str(), b.as_str(), other.as_str()];
    let before = everything(&app, &ids).await;
    let answer = app
        .ok(MOVE, json!({ "id": a, "p": other, "dry": true }))
        .await["moveCustomer"]
        .clone();
    assert_eq!(answer["parentId"], root.as_str(), "the customer as it is");
    assert_eq!(
        answer["movePreview"],
        json!({
            "fromParentId": root, "toParentId": other, "changed": true,
            "innerCustomers": { "count": 1, "ids": [b] }, "events": 1,
        })
    );
    let top = app
        .ok(MOVE, json!({ "id": a, "p": null, "dry": true }))
        .await;
    assert_eq!(
        top["moveCustomer"]["movePreview"]["toParentId"],
        Value::Null
    );
    assert_eq!(top["moveCustomer"]["movePreview"]["changed"], true);
    let stay = app
        .ok(MOVE, json!({ "id": a, "p": root, "dry": true }))
        .await;
    assert_eq!(stay["moveCustomer"]["movePreview"]["changed"], false);
    assert_eq!(stay["moveCustomer"]["movePreview"]["events"], 0);
    // The same refusals as the move: a cycle, an unknown parent, an unknown customer.
    for vars in [
        json!({ "id": a, "p": b }),
        json!({ "id": a, "p": uuid::Uuid::now_v7().to_string() }),
        json!({ "id": uuid::Uuid::now_v7().to_string(), "p": null }),
    ] {
        let real = app.graphql(MOVE, vars.clone()).await;
        let mut dry_vars = vars;
        dry_vars["dry"] = json!(true);
        let dry = app.graphql(MOVE, dry_vars).await;
        assert_ne!(code(&dry), "none", "{dry}");
        assert_eq!(
            dry["errors"][0]["extensions"],
            real["errors"][0]["extensions"]
        );
    }
    assert_eq!(everything(&app, &ids).await, before, "nothing was written");
    // For real, it goes where the dry run said, taking b along.
    let moved = app.ok(MOVE, json!({ "id": a, "p": other })).await;
    assert_eq!(moved["moveCustomer"]["parentId"], other.as_str());
    assert_eq!(moved["moveCustomer"]["movePreview"], Value::Null);
    assert_eq!(app.event_count().await, before.0 + 1);
}
