//! Webhooks end to end: a real receiver (support/webhooks.rs) checks every signature with
//! the specification's algorithm; deliveries arrive once, in log order, only of the chosen
//! types and tenant; failures are retried in order; a stalled receiver holds back no one
//! else; a restart loses nothing; rotation, disabling, deletion and redelivery; an endpoint
//! that keeps failing is disabled and the tenant mailed; the address rules.

use std::time::{Duration, Instant};

use clientele_graphql::Role;
use clientele_tests::webhooks::{Hit, Receiver};
use clientele_tests::{
    fresh_database, mint, on_both_backends, spawn_app_configured, Backend, TestApp, TestClock,
    TestDatabase,
};
use serde_json::{json, Value};

mod management;

on_both_backends!(
    every_wanted_event_of_the_tenant_arrives_once_in_order_and_signed,
    a_failing_receiver_is_retried_and_holds_back_the_later_events,
    a_stalled_receiver_holds_back_no_other_endpoint_and_no_command,
    a_restart_while_the_receiver_is_down_loses_nothing,
);

const REGISTER: &str = "mutation($url: String!, $types: [String!]! = []) {
    registerWebhookEndpoint(input: { url: $url, eventTypes: $types, description: \"test\" }) {
        secret endpoint { id url enabled eventTypes } } }";

const ENDPOINT: &str = "query($id: ID!) { webhookEndpoint(id: $id) { enabled disabledBy disabledReason
    deliveries(first: 50) { edges { node { attempt eventType webhookId status responseCode latencyMs error nextAttemptAt } } } } }";

/// An app that lets webhooks reach 127.0.0.1, retrying after `base_ms` (then multiples).
async fn app_on(database: TestDatabase, base_ms: u64, smtp: Option<u16>) -> TestApp {
    spawn_app_configured(database, TestClock::default(), |s| {
        s.webhooks_allow_private_addresses = true;
        s.webhooks_retry_base_ms = base_ms;
        s.webhooks_poll_ms = 50;
        s.webhooks_timeout_ms = 1_000;
        if let Some(port) = smtp {
            s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        }
    })
    .await
}

async fn app(backend: Backend, base_ms: u64) -> TestApp {
    app_on(fresh_database(backend).await, base_ms, None).await
}

/// Registers an endpoint for `receiver`, which then trusts its secret; returns its id.
async fn register(app: &TestApp, receiver: &Receiver, types: &[&str]) -> (String, String) {
    let data = app
        .ok(REGISTER, json!({ "url": receiver.url(), "types": types }))
        .await;
    let answer = &data["registerWebhookEndpoint"];
    let secret = answer["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{answer}");
    receiver.trust(&secret);
    (
        answer["endpoint"]["id"].as_str().unwrap().to_string(),
        secret,
    )
}

fn kinds(hits: &[Hit]) -> Vec<(String, String)> {
    hits.iter()
        .map(|h| (h.event_type().to_string(), h.customer().to_string()))
        .collect()
}

fn created(ids: &[&String]) -> Vec<(String, String)> {
    ids.iter()
        .map(|id| ("CustomerCreated".to_string(), id.to_string()))
        .collect()
}

async fn deliveries(app: &TestApp, id: &str) -> Value {
    app.ok(ENDPOINT, json!({ "id": id })).await["webhookEndpoint"].clone()
}

async fn every_wanted_event_of_the_tenant_arrives_once_in_order_and_signed(backend: Backend) {
    let app = app(backend, 50).await;
    let receiver = Receiver::start().await;
    let (id, secret) = register(&app, &receiver, &["CustomerCreated", "CustomerEdited"]).await;
    let a = app.new_customer("alpha", None).await;
    let b = app.new_customer("beta", None).await;
    app.ok(
        "mutation($id: ID!) { editCustomer(id: $id, input: { city: \"Bern\" }) { id } }",
        json!({ "id": a }),
    )
    .await;
    // Not a chosen type: not delivered.
    app.ok(
        "mutation($id: ID!) { requestDeletion(customerId: $id) { id } }",
        json!({ "id": b }),
    )
    .await;
    // Another tenant's customer: never delivered here.
    let other = mint("other-admin", "other", Role::TenantAdmin, None);
    app.graphql_as(
        &other,
        "mutation { createCustomer(input: { name: \"elsewhere\" }) { id } }",
        json!({}),
    )
    .await;
    let c = app.new_customer("gamma", None).await;
    receiver.wait_for(4).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hits = receiver.hits();
    assert!(hits.iter().all(|h| h.answered == 204), "{hits:#?}");
    let mut expected = created(&[&a, &b]);
    expected.push(("CustomerEdited".into(), a.clone()));
    expected.extend(created(&[&c]));
    assert_eq!(kinds(&hits), expected, "once each, in log order");
    let body = &hits[0].body;
    assert_eq!(body["data"]["tenant"], "default");
    assert_eq!(
        body["data"]["payload"]["profile"]["name"], "alpha",
        "{body}"
    );
    assert!(hits[0].webhook_id.starts_with("msg_"));
    assert_eq!(hits[0].signatures, 1);
    // The secret is in no readable history nor in the log itself.
    let export = app.ok("{ historyExport }", json!({})).await.to_string();
    assert!(!export.contains(&secret[6..]));
    let listed = app
        .ok(
            "{ webhookEndpoints { id url eventTypes description enabled } }",
            json!({}),
        )
        .await;
    assert!(!listed.to_string().contains(&secret[6..]));
    assert_eq!(listed["webhookEndpoints"][0]["id"], id.as_str());
    let in_log = app
        .store
        .db()
        .fetch_scalar(
            "SELECT count(*) FROM events WHERE CAST(payload AS text) LIKE $1 OR CAST(metadata AS text) LIKE $1",
            &[clientele_store::Arg::Text(format!("%{}%", &secret[6..]))],
        )
        .await
        .unwrap();
    assert_eq!(in_log, Some(0));
    let log = deliveries(&app, &id).await;
    assert_eq!(log["deliveries"]["edges"].as_array().unwrap().len(), 4);
    assert_eq!(log["deliveries"]["edges"][0]["node"]["status"], "SUCCEEDED");
    assert_eq!(log["deliveries"]["edges"][0]["node"]["responseCode"], 204);
}

async fn a_failing_receiver_is_retried_and_holds_back_the_later_events(backend: Backend) {
    let app = app(backend, 50).await;
    let receiver = Receiver::start().await;
    receiver.set(|b| b.fail_next = 2);
    let (id, _) = register(&app, &receiver, &["CustomerCreated"]).await;
    let a = app.new_customer("alpha", None).await;
    let b = app.new_customer("beta", None).await;
    receiver.wait_for(2).await;
    let hits = receiver.hits();
    let seen: Vec<(&str, u16)> = hits.iter().map(|h| (h.customer(), h.answered)).collect();
    assert_eq!(
        seen,
        [
            (a.as_str(), 500),
            (a.as_str(), 500),
            (a.as_str(), 204),
            (b.as_str(), 204)
        ],
        "beta waits for alpha"
    );
    assert_eq!(
        hits[0].webhook_id, hits[2].webhook_id,
        "the same id on every attempt"
    );
    let log = deliveries(&app, &id).await;
    let attempts: Vec<(i64, String, i64)> = log["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = &e["node"];
            (
                n["attempt"].as_i64().unwrap(),
                n["status"].as_str().unwrap().to_string(),
                n["responseCode"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [
            (1, "SUCCEEDED".into(), 204),
            (3, "SUCCEEDED".into(), 204),
            (2, "FAILED".into(), 500),
            (1, "FAILED".into(), 500),
        ],
        "newest first: {log}"
    );
    let failed = &log["deliveries"]["edges"][3]["node"];
    assert!(
        failed["nextAttemptAt"].is_string() && failed["error"].is_string(),
        "{failed}"
    );
}

async fn a_stalled_receiver_holds_back_no_other_endpoint_and_no_command(backend: Backend) {
    let app = app(backend, 50).await;
    let slow = Receiver::start().await;
    slow.set(|b| b.stall = Some(Duration::from_secs(3)));
    let fast = Receiver::start().await;
    register(&app, &slow, &[]).await;
    register(&app, &fast, &[]).await;
    let started = Instant::now();
    let a = app.new_customer("alpha", None).await;
    let b = app.new_customer("beta", None).await;
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "commands do not wait"
    );
    let delivered = fast.wait_for(2).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(kinds(&delivered[..2]), created(&[&a, &b]));
    assert!(slow.delivered().is_empty());
}

async fn a_restart_while_the_receiver_is_down_loses_nothing(backend: Backend) {
    let app = app(backend, 100).await;
    let receiver = Receiver::start().await;
    let (id, _) = register(&app, &receiver, &["CustomerCreated"]).await;
    let (port, behaviour) = receiver.stop().await;
    let ids = [
        app.new_customer("one", None).await,
        app.new_customer("two", None).await,
        app.new_customer("three", None).await,
    ];
    let deadline = Instant::now() + Duration::from_secs(10);
    while deliveries(&app, &id).await["deliveries"]["edges"][0]["node"]["status"] != "FAILED" {
        assert!(Instant::now() < deadline, "a failed attempt within 10 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let database = app.stop().await;
    let receiver = Receiver::on(port, behaviour).await;
    let app = app_on(database, 100, None).await;
    let delivered = receiver.wait_for(3).await;
    let mut seen = kinds(&delivered);
    seen.dedup();
    assert_eq!(seen, created(&ids.iter().collect::<Vec<_>>()));
    drop(app);
}

/// Several instances on one PostgreSQL: one at a time delivers an endpoint's events (its
/// lease), so each arrives once and in order; when that one stops, another takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_deliver_each_event_once_in_order() {
    let first = app(Backend::Postgres, 50).await;
    let second = app_on(first.database.clone(), 50, None).await;
    let receiver = Receiver::start().await;
    register(&first, &receiver, &["CustomerCreated"]).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let via = if i % 2 == 0 { &first } else { &second };
        ids.push(via.new_customer(&format!("c{i}"), None).await);
    }
    receiver.wait_for(10).await;
    first.stop().await;
    for i in 10..13 {
        ids.push(second.new_customer(&format!("c{i}"), None).await);
    }
    receiver.wait_for(13).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        kinds(&receiver.delivered()),
        created(&ids.iter().collect::<Vec<_>>()),
        "each once, in log order, across both instances"
    );
}
