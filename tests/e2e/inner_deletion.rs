//! An automatic deletion records exactly what happened: a request on a customer with inner
//! customers says, when it is made, whether they go with it (the manual rule), and every
//! customer the service deletes carries the cause (request, the customer it was made on,
//! automatic); a deleted customer shows no home dashboard.

use std::time::Duration;

use chrono::Duration as Days;
use clientele_tests::{code, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    a_request_on_a_parent_says_whether_inner_customers_go_and_each_deletion_names_its_cause,
);

const REQUEST: &str = "mutation($id: ID!, $sub: Boolean) { requestDeletion(customerId: $id, deleteInnerCustomers: $sub) { id } }";

async fn status_of(app: &TestApp, id: &str) -> Value {
    app.ok(
        "query($id: ID!) { customer(id: $id) { accountStatus homeDashboardId } }",
        json!({ "id": id }),
    )
    .await["customer"]
        .clone()
}

async fn a_request_on_a_parent_says_whether_inner_customers_go_and_each_deletion_names_its_cause(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let parent = app.new_customer("parent", None).await;
    let child = app.new_customer("child", Some(&parent)).await;
    let grandchild = app.new_customer("grandchild", Some(&child)).await;
    app.ok(
        "mutation($c: ID!) { assignDashboard(customerId: $c, dashboardId: \"dash\") { changed } setHomeDashboard(customerId: $c, dashboardId: \"dash\") { id } }",
        json!({ "c": child }),
    )
    .await;

    let refused = app
        .graphql(REQUEST, json!({ "id": parent, "sub": false }))
        .await;
    assert_eq!(code(&refused), "CONFLICT");
    assert_eq!(
        refused["errors"][0]["extensions"]["field"],
        "deleteInnerCustomers"
    );
    app.ok(REQUEST, json!({ "id": parent, "sub": true })).await;
    let requests = app
        .ok(
            "query($id: ID!) { deletionRequests(filter: { customerId: $id }) { edges { node { id deleteInnerCustomers } } } }",
            json!({ "id": parent }),
        )
        .await;
    let request = requests["deletionRequests"]["edges"][0]["node"].clone();
    assert_eq!(request["deleteInnerCustomers"], true);

    app.clock.advance(Days::days(10) + Days::minutes(1));
    for _ in 0..100 {
        if status_of(&app, &grandchild).await["accountStatus"] == "DELETED" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for id in [&parent, &child, &grandchild] {
        assert_eq!(
            status_of(&app, id).await,
            json!({ "accountStatus": "DELETED", "homeDashboardId": null })
        );
        let history = app.history(id).await;
        let deleted = history
            .iter()
            .find(|e| e["type"] == "CustomerDeleted")
            .unwrap();
        assert_eq!(deleted["payload"]["automatic"], true, "{id}");
        assert_eq!(deleted["payload"]["requestId"], request["id"], "{id}");
        let with = if id == &parent {
            Value::Null
        } else {
            json!(parent)
        };
        assert_eq!(
            deleted["payload"]
                .get("deletedWith")
                .cloned()
                .unwrap_or(Value::Null),
            with
        );
    }
}
