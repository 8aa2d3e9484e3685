//! `customerCountsByStatus` by the list's rules: test accounts and the own company left out
//! unless asked for, deleted customers apart, filters by type and seller, a SELLER's own
//! customers only; the subscription takes the same filter.

use std::time::Duration;

use clientele_graphql::Role;
use clientele_tests::ws::WsClient;
use clientele_tests::{mint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    counts_follow_the_lists_rules_and_filters,
    a_seller_counts_its_own_customers,
    a_filtered_subscription_counts_only_what_it_asked_for,
    subscribers_of_the_same_counts_share_one_count_and_outlive_each_other,
);

const COUNTS: &str =
    "query($f: CustomerCountsFilter) { customerCountsByStatus(filter: $f) { status count } }";

/// The counts as [PREPARATION, TRIAL, ACTIVE, TRIAL_END, DELETED].
fn by_status(counts: &Value) -> Vec<i64> {
    counts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_i64().unwrap())
        .collect()
}

async fn counts_as(app: &TestApp, token: &str, filter: Value) -> Vec<i64> {
    let body = app.graphql_as(token, COUNTS, json!({ "f": filter })).await;
    assert!(body.get("errors").is_none(), "{body}");
    by_status(&body["data"]["customerCountsByStatus"])
}

async fn seed(app: &TestApp) {
    for input in [
        json!({ "name": "real slg", "type": "SLG", "seller": "sam" }),
        json!({ "name": "real mssp", "type": "MSSP", "seller": "olga" }),
        json!({ "name": "tester", "testAccount": true, "seller": "sam" }),
        json!({ "name": "gone", "shortname": "gone1", "seller": "sam" }),
    ] {
        app.create_customer(input).await;
    }
    let gone = app
        .ok(
            "{ customers(filter: { text: \"gone\" }) { edges { node { id } } } }",
            json!({}),
        )
        .await["customers"]["edges"][0]["node"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.ok(
        "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"gone1\") { id } }",
        json!({ "id": gone }),
    )
    .await;
}

async fn counts_follow_the_lists_rules_and_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    let admin = app.token.clone();
    // Two real customers in preparation, the deleted one apart; no test account, no own company.
    assert_eq!(counts_as(&app, &admin, json!(null)).await, [2, 0, 0, 0, 1]);
    assert_eq!(
        counts_as(&app, &admin, json!({ "includeTestAccounts": true })).await,
        [3, 0, 0, 0, 1]
    );
    assert_eq!(
        counts_as(&app, &admin, json!({ "includeOwnCompany": true })).await,
        [3, 0, 0, 0, 1]
    );
    assert_eq!(
        counts_as(&app, &admin, json!({ "type": "MSSP" })).await,
        [1, 0, 0, 0, 0]
    );
    assert_eq!(
        counts_as(&app, &admin, json!({ "seller": "sam" })).await,
        [1, 0, 0, 0, 1]
    );
    // The seller filter ignores case, as the list's does.
    assert_eq!(
        counts_as(&app, &admin, json!({ "seller": "SAM" })).await,
        [1, 0, 0, 0, 1]
    );
    // The list agrees with the counts.
    let listed = app
        .ok(
            "{ customers(filter: { ownCompany: false }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["customers"]["totalCount"], 2);
}

async fn a_seller_counts_its_own_customers(backend: Backend) {
    let app = spawn_app(backend).await;
    seed(&app).await;
    let sam = mint("sam", "default", Role::Seller, None);
    assert_eq!(counts_as(&app, &sam, json!(null)).await, [1, 0, 0, 0, 1]);
    // Another seller's filter does not widen its reach: it narrows it to nothing, as the
    // list's seller filter does; its own name in another case changes nothing.
    assert_eq!(
        counts_as(&app, &sam, json!({ "seller": "olga" })).await,
        [0, 0, 0, 0, 0]
    );
    assert_eq!(
        counts_as(&app, &sam, json!({ "seller": "SAM" })).await,
        [1, 0, 0, 0, 1]
    );
    let listed = app
        .graphql_as(
            &sam,
            "{ customers(filter: { seller: \"olga\" }) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["customers"]["totalCount"], 0, "{listed}");
    let olga = mint("olga", "default", Role::Seller, None);
    assert_eq!(counts_as(&app, &olga, json!(null)).await, [1, 0, 0, 0, 0]);
    let auditor = mint("audrey", "default", Role::Auditor, None);
    assert_eq!(
        counts_as(&app, &auditor, json!(null)).await,
        [2, 0, 0, 0, 1]
    );
}

async fn a_filtered_subscription_counts_only_what_it_asked_for(backend: Backend) {
    let app = spawn_app(backend).await;
    app.ok("{ customers(first: 1) { totalCount } }", json!({}))
        .await;
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client
        .subscribe(
            "c",
            "subscription { customerCountsByStatus(filter: { type: MSSP }) { status count } }",
            json!({}),
        )
        .await;
    let first = client.next_data("c", "customerCountsByStatus").await;
    assert_eq!(by_status(&first), [0, 0, 0, 0, 0]);
    app.create_customer(json!({ "name": "slg one", "type": "SLG" }))
        .await;
    app.create_customer(json!({ "name": "mssp one", "type": "MSSP" }))
        .await;
    let next = tokio::time::timeout(
        Duration::from_secs(1),
        client.next_data("c", "customerCountsByStatus"),
    )
    .await
    .expect("the counts follow the create at once");
    // The SLG customer changed nothing this subscription counts: no message for it.
    assert_eq!(by_status(&next), [1, 0, 0, 0, 0]);
}

/// Subscribers of the same counts are served by one shared count: each gets the change,
/// one leaving does not stop the others, and one arriving later gets the current counts.
async fn subscribers_of_the_same_counts_share_one_count_and_outlive_each_other(backend: Backend) {
    let app = spawn_app(backend).await;
    const LIVE: &str = "subscription { customerCountsByStatus { status count } }";
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut client = WsClient::signed_in(&app.address, &app.token).await;
        client.subscribe("c", LIVE, json!({})).await;
        let first = client.next_data("c", "customerCountsByStatus").await;
        assert_eq!(by_status(&first), [0, 0, 0, 0, 0]);
        clients.push(client);
    }
    app.create_customer(json!({ "name": "shared one" })).await;
    for client in &mut clients {
        let next = tokio::time::timeout(
            Duration::from_secs(1),
            client.next_data("c", "customerCountsByStatus"),
        )
        .await
        .expect("every subscriber gets the change at once");
        assert_eq!(by_status(&next), [1, 0, 0, 0, 0]);
    }
    clients.remove(0).close().await;
    app.create_customer(json!({ "name": "shared two" })).await;
    for client in &mut clients {
        let next = tokio::time::timeout(
            Duration::from_secs(1),
            client.next_data("c", "customerCountsByStatus"),
        )
        .await
        .expect("the others still follow after one left");
        assert_eq!(by_status(&next), [2, 0, 0, 0, 0]);
    }
    let mut late = WsClient::signed_in(&app.address, &app.token).await;
    late.subscribe("c", LIVE, json!({})).await;
    let first = late.next_data("c", "customerCountsByStatus").await;
    assert_eq!(
        by_status(&first),
        [2, 0, 0, 0, 0],
        "the current counts at once"
    );
}
