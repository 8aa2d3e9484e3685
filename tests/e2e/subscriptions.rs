//! Subscriptions over a real WebSocket: order, resume, instances, slow subscribers,
//! tenants and roles, the protocol's refusals, and shutdown.

use std::collections::BTreeSet;
use std::time::Duration;

use clientele_graphql::Role;
use clientele_tests::ws::{Received, WsClient, LEGACY};
use clientele_tests::{
    fresh_database, mint, on_both_backends, spawn_app, spawn_app_configured, spawn_app_on, Backend,
    TestApp, TestClock,
};
use futures::future::join_all;
use serde_json::{json, Value};

on_both_backends!(
    events_arrive_in_order_and_a_resume_misses_nothing,
    a_slow_subscriber_is_cut_off_with_its_cursor_while_others_keep_up,
    subscriptions_respect_tenants_and_roles,
    account_status_changes_and_counts_are_pushed,
    live_counts_follow_a_create_at_once,
);

const EVENTS: &str = "subscription($after: String, $filter: CustomerEventFilter) { \
    customerEvents(after: $after, filter: $filter) { cursor type customerId version actor payload } }";

/// The cursor before the first event.
const START: &str = "0-0";

/// The next `n` events of subscription `id`.
async fn next_events(client: &mut WsClient, id: &str, n: usize) -> Vec<Value> {
    let mut events = Vec::with_capacity(n);
    for _ in 0..n {
        events.push(client.next_data(id, "customerEvents").await);
    }
    events
}

/// Cursors compare in global order: (transaction, position).
fn order(cursor: &Value) -> (i64, i64) {
    let (tx, position) = cursor.as_str().unwrap().split_once('-').unwrap();
    (tx.parse().unwrap(), position.parse().unwrap())
}

fn assert_increasing(events: &[Value]) {
    for pair in events.windows(2) {
        assert!(
            order(&pair[0]["cursor"]) < order(&pair[1]["cursor"]),
            "global order: {} then {}",
            pair[0],
            pair[1]
        );
    }
}

async fn events_arrive_in_order_and_a_resume_misses_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.create_customer(json!({ "name": "first" })).await;
    let first_id = first["id"].as_str().unwrap();
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    let only_customers = json!({ "types": ["CustomerCreated", "CustomerEdited"] });
    client
        .subscribe(
            "s",
            EVENTS,
            json!({ "after": START, "filter": only_customers }),
        )
        .await;
    // Replayed from the store: the tenant's own company, then "first".
    let replayed = next_events(&mut client, "s", 2).await;
    assert_eq!(replayed[1]["customerId"], first_id);
    assert_eq!(replayed[1]["type"], "CustomerCreated");
    assert_eq!(replayed[1]["payload"]["profile"]["name"], "first");
    // Then live, with no gap at the seam.
    app.edit_customer(first_id, None, json!({ "city": "Lyon" }))
        .await;
    let live = next_events(&mut client, "s", 1).await;
    assert_eq!(live[0]["type"], "CustomerEdited");
    assert_eq!(live[0]["version"], 2);
    assert_eq!(live[0]["actor"], "admin");
    let mut seen: Vec<Value> = replayed.into_iter().chain(live).collect();
    assert_increasing(&seen);
    let resume_from = seen.last().unwrap()["cursor"].clone();
    client.close().await;

    // While the subscriber is away.
    app.edit_customer(first_id, None, json!({ "city": "Nice" }))
        .await;
    let second = app.create_customer(json!({ "name": "second" })).await;
    let second_id = second["id"].as_str().unwrap();

    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client
        .subscribe(
            "s",
            EVENTS,
            json!({ "after": resume_from, "filter": only_customers }),
        )
        .await;
    let missed = next_events(&mut client, "s", 2).await;
    assert_eq!(missed[0]["type"], "CustomerEdited");
    assert_eq!(missed[0]["payload"]["changes"]["city"], "Nice");
    assert_eq!(missed[1]["customerId"], second_id);
    app.edit_customer(second_id, None, json!({ "city": "Pau" }))
        .await;
    let live = next_events(&mut client, "s", 1).await;
    assert_eq!(live[0]["customerId"], second_id);
    seen.extend(missed);
    seen.extend(live);
    assert_increasing(&seen);
    let cursors: BTreeSet<String> = seen
        .iter()
        .map(|e| e["cursor"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(cursors.len(), seen.len(), "no event twice");
    // Every event of "first" and "second" in the store, and nothing else, was delivered.
    let history = [app.history(first_id).await, app.history(second_id).await].concat();
    assert_eq!(seen.len(), 1 + history.len());
    client.assert_silent(Duration::from_millis(300)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_deliver_every_event_once_in_global_order() {
    let one = spawn_app(Backend::Postgres).await;
    let two = spawn_app_on(one.database.clone()).await;
    let only_created = json!({ "types": ["CustomerCreated"] });
    let mut subscribers = Vec::new();
    for app in [&one, &two] {
        let mut client = WsClient::signed_in(&app.address, &app.token).await;
        client
            .subscribe(
                "s",
                EVENTS,
                json!({ "after": START, "filter": only_created }),
            )
            .await;
        // The tenant's own company, replayed: the subscription is live from here on.
        assert_eq!(next_events(&mut client, "s", 1).await.len(), 1);
        subscribers.push(client);
    }
    let writes = (0..40).map(|i| {
        let app = if i % 2 == 0 { &one } else { &two };
        app.create_customer(json!({ "name": format!("customer {i}") }))
    });
    let created: BTreeSet<String> = join_all(writes)
        .await
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let mut orders = Vec::new();
    for client in &mut subscribers {
        let events = next_events(client, "s", 40).await;
        assert_increasing(&events);
        let ids: BTreeSet<String> = events
            .iter()
            .map(|e| e["customerId"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(ids, created, "every write of both instances, each once");
        client.assert_silent(Duration::from_millis(300)).await;
        orders.push(events);
    }
    assert_eq!(
        orders[0], orders[1],
        "both instances deliver the same order"
    );
}

async fn a_slow_subscriber_is_cut_off_with_its_cursor_while_others_keep_up(backend: Backend) {
    let database = fresh_database(backend).await;
    let app = spawn_app_configured(database, TestClock::default(), |settings| {
        settings.subscription_buffer = 64;
        // A bounded kernel buffer, so "too far behind" comes after a few hundred events
        // rather than the megabytes loopback autotuning allows.
        settings.tcp_send_buffer_bytes = 16 << 10;
    })
    .await;
    let only_created = json!({ "types": ["CustomerCreated"] });
    let variables = json!({ "after": START, "filter": only_created });
    let mut normal = WsClient::signed_in(&app.address, &app.token).await;
    normal.subscribe("s", EVENTS, variables.clone()).await;
    next_events(&mut normal, "s", 1).await;
    // A small receive buffer: once it is full, the server cannot write to this one.
    let mut slow =
        WsClient::connect_with(&app.address, clientele_tests::ws::TRANSPORT, Some(4096)).await;
    slow.send(json!({"type": "connection_init", "payload": {"token": app.token}}))
        .await;
    assert_eq!(slow.recv().await["type"], "connection_ack");
    slow.subscribe("s", EVENTS, variables.clone()).await;
    next_events(&mut slow, "s", 1).await;

    let total = 600;
    let reader = tokio::spawn(async move {
        let events = next_events(&mut normal, "s", total).await;
        (normal, events)
    });
    // 30 creates per request (the alias limit).
    for batch in 0..total / 30 {
        let fields: String = (0..30)
            .map(|i| {
                format!("c{i}: createCustomer(input: {{ name: \"slow {batch}-{i}\" }}) {{ id }} ")
            })
            .collect();
        let body = app
            .graphql(&format!("mutation {{ {fields} }}"), json!({}))
            .await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let (mut normal, kept_up) = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the normal subscriber keeps up")
        .unwrap();
    assert_increasing(&kept_up);
    normal.assert_silent(Duration::from_millis(200)).await;

    // The slow one now reads what was buffered for it, then the cut-off.
    let mut delivered = Vec::new();
    let last_cursor = loop {
        let message = match tokio::time::timeout(Duration::from_secs(5), slow.recv()).await {
            Ok(message) => message,
            Err(_) => panic!("no cut-off after {} events", delivered.len()),
        };
        assert_eq!(message["id"], "s", "{message}");
        assert_eq!(message["type"], "next", "{message}");
        if let Some(errors) = message["payload"].get("errors") {
            assert_eq!(
                errors[0]["extensions"]["code"], "SUBSCRIBER_LAGGED",
                "{message}"
            );
            break errors[0]["extensions"]["lastCursor"].clone();
        }
        delivered.push(message["payload"]["data"]["customerEvents"].clone());
    };
    assert_eq!(slow.recv().await, json!({"id": "s", "type": "complete"}));
    assert!(delivered.len() < total, "it was cut off before the end");
    if let Some(last) = delivered.last() {
        assert!(
            order(&last_cursor) >= order(&last["cursor"]),
            "the cursor is at or after the last event it got"
        );
    }
    // Resuming from that cursor delivers exactly the rest.
    let mut resumed = WsClient::signed_in(&app.address, &app.token).await;
    resumed
        .subscribe(
            "r",
            EVENTS,
            json!({ "after": last_cursor, "filter": only_created }),
        )
        .await;
    let rest = next_events(&mut resumed, "r", total - delivered.len()).await;
    delivered.extend(rest);
    assert_eq!(delivered, kept_up, "nothing lost, nothing twice");
    resumed.assert_silent(Duration::from_millis(200)).await;
}

/// The error a refused subscription gets: `error` for its id, and the connection stays.
async fn refusal(client: &mut WsClient, id: &str, query: &str, variables: Value) -> Value {
    client.subscribe(id, query, variables).await;
    let message = client.recv().await;
    assert_eq!(message["type"], "error", "{message}");
    assert_eq!(message["id"], id, "{message}");
    message["payload"][0].clone()
}

async fn subscriptions_respect_tenants_and_roles(backend: Backend) {
    let app = spawn_app(backend).await;
    let mine = app
        .create_customer(json!({ "name": "mine", "seller": "sam" }))
        .await;
    let mine_id = mine["id"].as_str().unwrap().to_string();
    let other = app.create_customer(json!({ "name": "other" })).await;
    let other_id = other["id"].as_str().unwrap().to_string();

    // Another tenant sees none of tenant default's events, and cannot name its customers.
    let outsider = mint("eve", "other-tenant", Role::TenantAdmin, None);
    let mut eve = WsClient::signed_in(&app.address, &outsider).await;
    let error = refusal(
        &mut eve,
        "x",
        EVENTS,
        json!({ "filter": { "customerId": mine_id } }),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error}");
    eve.subscribe("all", EVENTS, json!({ "after": START }))
        .await;
    eve.subscribe(
        "status",
        "subscription { accountStatusChanged(after: \"0-0\") { customerId } }",
        json!({}),
    )
    .await;

    // A seller sees the events of its own customers only.
    let seller = mint("sam", "default", Role::Seller, None);
    let mut sam = WsClient::signed_in(&app.address, &seller).await;
    let error = refusal(
        &mut sam,
        "x",
        EVENTS,
        json!({ "filter": { "customerId": other_id } }),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error}");

    // Roles that may not read histories or tenant-wide counts are refused.
    let user = mint("una", "default", Role::CustomerUser, Some(&mine_id));
    let mut una = WsClient::signed_in(&app.address, &user).await;
    let error = refusal(&mut una, "e", EVENTS, json!({})).await;
    assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{error}");
    let error = refusal(
        &mut una,
        "c",
        "subscription { customerCountsByStatus { status count } }",
        json!({}),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "FORBIDDEN", "{error}");

    // Bad arguments are refused with the field and the rule.
    let error = refusal(
        &mut sam,
        "t",
        EVENTS,
        json!({ "filter": { "types": ["CustomerEditted"] } }),
    )
    .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{error}");
    assert_eq!(error["extensions"]["field"], "filter.types", "{error}");
    assert_eq!(error["extensions"]["rule"], "ALLOWED_VALUES", "{error}");
    let error = refusal(&mut sam, "a", EVENTS, json!({ "after": "yesterday" })).await;
    assert_eq!(error["extensions"]["field"], "after", "{error}");
    assert_eq!(error["extensions"]["rule"], "FORMAT", "{error}");

    sam.subscribe("s", EVENTS, json!({ "after": START })).await;
    app.edit_customer(&mine_id, None, json!({ "city": "Metz" }))
        .await;
    app.edit_customer(&other_id, None, json!({ "city": "Brest" }))
        .await;
    app.ok(
        "mutation($id: ID!) { setProductVisibility(customerId: $id, product: \"CDN\", visible: true) { id } activateProduct(customerId: $id, product: \"CDN\") { id } setProductStatus(customerId: $id, product: \"CDN\", status: ACTIVE) { id } }",
        json!({ "id": other_id }),
    )
    .await;
    // The seller: "mine" created, then edited; never "other".
    let events = next_events(&mut sam, "s", 2).await;
    assert!(
        events.iter().all(|e| e["customerId"] == mine_id),
        "{events:?}"
    );
    assert_eq!(events[1]["type"], "CustomerEdited");
    sam.assert_silent(Duration::from_millis(500)).await;
    // The outsider: at most its own tenant's company, never a customer of default.
    loop {
        match tokio::time::timeout(Duration::from_millis(500), eve.receive()).await {
            Err(_) => break,
            Ok(Received::Message(message)) => {
                let text = message.to_string();
                assert!(
                    !text.contains(&mine_id) && !text.contains(&other_id),
                    "another tenant's event leaked: {message}"
                );
            }
            Ok(closed) => panic!("{closed:?}"),
        }
    }
}

async fn account_status_changes_and_counts_are_pushed(backend: Backend) {
    let app = spawn_app(backend).await;
    let customer = app.create_customer(json!({ "name": "acme" })).await;
    let id = customer["id"].as_str().unwrap();
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client
        .subscribe(
            "status",
            "subscription($id: ID!) { accountStatusChanged(filter: { customerId: $id }) { customerId from to cause version } }",
            json!({ "id": id }),
        )
        .await;
    client
        .subscribe(
            "counts",
            "subscription { customerCountsByStatus { status count } }",
            json!({}),
        )
        .await;
    let count_of = |counts: &Value, status: &str| {
        counts
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["status"] == status)
            .map_or(0, |c| c["count"].as_i64().unwrap())
    };
    let initial = client.next_data("counts", "customerCountsByStatus").await;
    assert_eq!(count_of(&initial, "ACTIVE"), 0, "{initial}");
    let preparation = count_of(&initial, "PREPARATION");
    assert!(preparation >= 1, "{initial}");
    // Give the status subscription a moment to be registered: it has no `after`.
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.ok(
        "mutation($id: ID!) { setProductVisibility(customerId: $id, product: \"CDN\", visible: true) { id } activateProduct(customerId: $id, product: \"CDN\") { id } setProductStatus(customerId: $id, product: \"CDN\", status: ACTIVE) { id } }",
        json!({ "id": id }),
    )
    .await;
    let mut change = None;
    let mut counts = None;
    while change.is_none() || counts.is_none() {
        let message = client.recv().await;
        assert_eq!(message["type"], "next", "{message}");
        match message["id"].as_str().unwrap() {
            "status" => {
                assert!(change.is_none(), "one change only: {message}");
                change = Some(message["payload"]["data"]["accountStatusChanged"].clone());
            }
            "counts" => {
                let latest = message["payload"]["data"]["customerCountsByStatus"].clone();
                if count_of(&latest, "ACTIVE") == 1 {
                    counts = Some(latest);
                }
            }
            other => panic!("unexpected id {other}"),
        }
    }
    let change = change.unwrap();
    assert_eq!(change["customerId"], id);
    assert_eq!(change["from"], "PREPARATION");
    assert_eq!(change["to"], "ACTIVE");
    assert_eq!(change["cause"], "ProductStatusChanged");
    assert_eq!(
        count_of(counts.as_ref().unwrap(), "PREPARATION"),
        preparation - 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_protocol_refuses_what_it_must() {
    let database = fresh_database(Backend::Sqlite).await;
    let app = spawn_app_configured(database, TestClock::default(), |settings| {
        settings.ws_init_timeout_ms = 300;
        settings.max_subscriptions_per_connection = 2;
    })
    .await;
    // No connection_init in time: 4408.
    let mut idle = WsClient::connect(&app.address, clientele_tests::ws::TRANSPORT).await;
    assert_eq!(idle.closed_with().await, Some(4408));
    // A bad token, or none: 4403.
    for payload in [json!({"token": "not-a-token"}), json!({})] {
        let mut client = WsClient::connect(&app.address, clientele_tests::ws::TRANSPORT).await;
        client
            .send(json!({"type": "connection_init", "payload": payload}))
            .await;
        assert_eq!(client.closed_with().await, Some(4403), "{payload}");
    }
    // Subscribing before connection_init: 4401.
    let mut early = WsClient::connect(&app.address, clientele_tests::ws::TRANSPORT).await;
    early.subscribe("s", EVENTS, json!({})).await;
    assert_eq!(early.closed_with().await, Some(4401));
    // A duplicate id: 4409.
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client.subscribe("s", EVENTS, json!({})).await;
    client.subscribe("s", EVENTS, json!({})).await;
    assert_eq!(client.closed_with().await, Some(4409));
    // The per-connection limit: the third is refused, the connection stays.
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client.subscribe("a", EVENTS, json!({})).await;
    client.subscribe("b", EVENTS, json!({})).await;
    let error = refusal(&mut client, "c", EVENTS, json!({})).await;
    assert_eq!(error["extensions"]["code"], "LIMIT_EXCEEDED", "{error}");
    // Completing one frees a place; an id may be reused once completed.
    client.send(json!({"id": "a", "type": "complete"})).await;
    client.subscribe("a", EVENTS, json!({})).await;
    client.send(json!({"type": "ping"})).await;
    assert_eq!(client.recv().await["type"], "pong");
    // Queries run over the socket too.
    client
        .subscribe("q", "{ customers { totalCount } }", json!({}))
        .await;
    let error = client.recv().await;
    assert_eq!(
        error["type"], "error",
        "the connection is at its limit: {error}"
    );
    client.send(json!({"id": "b", "type": "complete"})).await;
    client
        .subscribe("q", "{ customers { totalCount } }", json!({}))
        .await;
    assert_eq!(
        client.next_data("q", "customers").await["totalCount"],
        1,
        "the own company"
    );
    assert_eq!(client.recv().await, json!({"id": "q", "type": "complete"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_protocol_delivers_too() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut client = WsClient::connect(&app.address, LEGACY).await;
    client
        .send(json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {}", app.token)}}))
        .await;
    assert_eq!(client.recv().await["type"], "connection_ack");
    client
        .send(json!({"id": "1", "type": "start", "payload": {"query": EVENTS, "variables": {"after": START}}}))
        .await;
    let message = client.recv().await;
    assert_eq!(message["type"], "data", "{message}");
    assert_eq!(message["id"], "1");
    assert_eq!(
        message["payload"]["data"]["customerEvents"]["type"],
        "CustomerCreated"
    );
    client.send(json!({"id": "1", "type": "stop"})).await;
    client.send(json!({"type": "connection_terminate"})).await;
    assert_eq!(client.closed_with().await, Some(1000));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_completes_open_subscriptions_and_closes() {
    let app: TestApp = spawn_app(Backend::Sqlite).await;
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client
        .subscribe("s", EVENTS, json!({ "after": START }))
        .await;
    client.next_data("s", "customerEvents").await;
    let stopping = tokio::spawn(app.stop());
    assert_eq!(client.recv().await, json!({"id": "s", "type": "complete"}));
    assert_eq!(client.closed_with().await, Some(1001));
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("shutdown finishes")
        .unwrap();
}

/// Waits for a `customerCountsByStatus` message in which the counts add up to `total`,
/// and returns how long it took.
async fn counts_reach(client: &mut WsClient, total: i64, within: Duration) -> Duration {
    let started = std::time::Instant::now();
    loop {
        let left = within.saturating_sub(started.elapsed());
        let data = tokio::time::timeout(left, client.next_data("c", "customerCountsByStatus"))
            .await
            .unwrap_or_else(|_| panic!("the counts did not reach {total} within {within:?}"));
        let sum: i64 = data
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["count"].as_i64().unwrap())
            .sum();
        if sum == total {
            return started.elapsed();
        }
    }
}

const COUNTS: &str = "subscription { customerCountsByStatus { status count } }";

/// Subscribes to the counts once the tenant's own company (registered on the first
/// signed-in request, and not counted unless asked for) exists.
async fn counting(app: &TestApp, on: &TestApp) -> WsClient {
    app.ok("{ customers(first: 1) { totalCount } }", json!({}))
        .await;
    let mut client = WsClient::signed_in(&on.address, &on.token).await;
    client.subscribe("c", COUNTS, json!({})).await;
    counts_reach(&mut client, 0, Duration::from_secs(5)).await;
    client
}

async fn live_counts_follow_a_create_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = counting(&app, &app).await;
    for n in 1..=3 {
        app.create_customer(json!({ "name": format!("counted {n}") }))
            .await;
        // The counts poll every 2 s when nothing wakes them: a prompt update is the
        // commit itself waking the shared count.
        counts_reach(&mut client, n, Duration::from_secs(1)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_counts_follow_a_create_on_another_instance_at_once() {
    let one = spawn_app(Backend::Postgres).await;
    let two = spawn_app_on(one.database.clone()).await;
    let mut client = counting(&one, &two).await;
    for n in 1..=3 {
        one.create_customer(json!({ "name": format!("elsewhere {n}") }))
            .await;
        counts_reach(&mut client, n, Duration::from_secs(1)).await;
    }
}
