//! The event log's global order, snapshots, and the checkpointed projection runner.

use std::time::Duration;

use clientele_domain::customer::Customer;
use clientele_server::Command;
use clientele_store::events::{fold_history, read_log};
use clientele_store::projections::{catch_up, catch_up_batch, checkpoint, reset};
use clientele_store::{ConnectOptions, Db, LogPosition, Projection, Store};
use clientele_tests::{on_both_backends, run_cli, spawn_app, Backend, TestApp, TestDatabase};
use futures::future::join_all;
use serde_json::json;

on_both_backends!(
    the_log_reads_every_event_once_in_commit_order,
    a_failed_projection_resumes_where_it_stopped,
    a_projection_stopped_midway_resumes_without_skipping_or_double_applying,
    rebuild_produces_the_same_read_model_as_the_live_projections,
    the_snapshot_always_equals_a_fold_of_the_full_history,
    counts_by_status_follow_the_log_live,
);

async fn open(database: &TestDatabase) -> Db {
    let options = ConnectOptions {
        url: database.url.clone(),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(10),
    };
    let db = Db::connect(&options).await.expect("connect");
    db.migrate().await.expect("migrate");
    db
}

/// The whole log once `expected` events are readable. On PostgreSQL the reader waits for
/// the cluster-wide horizon, which a transaction in another test's database can hold back
/// for a moment after every create here has been acknowledged.
async fn read_all(db: &Db, expected: usize) -> Vec<clientele_store::StoredEvent> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut tx = db.begin().await.unwrap();
        let events = read_log(&mut tx, LogPosition::default(), 100_000)
            .await
            .unwrap();
        if events.len() >= expected || tokio::time::Instant::now() > deadline {
            return events;
        }
        drop(tx);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn create_many(app: &TestApp, count: usize) -> Vec<String> {
    let creates =
        (0..count).map(|i| app.create_customer(json!({ "name": format!("customer {i}") })));
    join_all(creates)
        .await
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn the_log_reads_every_event_once_in_commit_order(backend: Backend) {
    let app = spawn_app(backend).await;
    create_many(&app, 20).await;
    let events = read_all(app.store.db(), 21).await;
    assert_eq!(
        events.len(),
        21,
        "20 customers and the tenant's own company"
    );
    let positions: Vec<LogPosition> = events.iter().map(|e| e.log_position).collect();
    let mut sorted = positions.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(positions, sorted, "strictly increasing, no repeats");
    if backend == Backend::Sqlite {
        let expected: Vec<i64> = (1..=21).collect();
        let got: Vec<i64> = positions.iter().map(|p| p.position).collect();
        assert_eq!(
            got, expected,
            "one writer at a time: positions are contiguous"
        );
        return;
    }
    // PostgreSQL: a transaction that took an earlier position but commits later must not
    // be skipped by a reader that already saw a later position.
    let Db::Postgres(pool) = app.store.db() else {
        unreachable!()
    };
    let insert = "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tenant_id) \
                  VALUES ('Probe', $1, 1, 'Probed', '1.0', '{}', \
                  '{\"tenant\":\"default\",\"actor\":\"test\",\"request_id\":\"\",\"occurred_at\":\"2026-01-01T00:00:00Z\"}', 'default')";
    let mut slow = pool.begin().await.unwrap();
    sqlx::query(insert)
        .bind("slow")
        .execute(&mut *slow)
        .await
        .unwrap();
    let mut fast = pool.begin().await.unwrap();
    sqlx::query(insert)
        .bind("fast")
        .execute(&mut *fast)
        .await
        .unwrap();
    fast.commit().await.unwrap();
    let last = *positions.last().unwrap();
    let mut tx = app.store.db().begin().await.unwrap();
    let visible = read_log(&mut tx, last, 100).await.unwrap();
    assert!(
        visible.is_empty(),
        "nothing past a running transaction is read: {visible:?}"
    );
    drop(tx);
    slow.commit().await.unwrap();
    // Other transactions in the cluster (other tests' databases too) can hold the horizon
    // back for a moment; the reader waits for them rather than skip anything.
    for _ in 0..200 {
        let mut tx = app.store.db().begin().await.unwrap();
        let visible = read_log(&mut tx, last, 100).await.unwrap();
        let ids: Vec<&str> = visible.iter().map(|e| e.aggregate_id.as_str()).collect();
        match ids.as_slice() {
            ["slow", "fast"] => return,
            [] | ["slow"] => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("read out of order or with gaps: {other:?}"),
        }
    }
    panic!("the committed events never became readable");
}

async fn a_failed_projection_resumes_where_it_stopped(backend: Backend) {
    let app = spawn_app(backend).await;
    create_many(&app, 5).await;
    let database = app.stop().await;
    let db = open(&database).await;
    // A corrupt event in the middle of the log makes the projection fail there.
    let bad_payload = match db {
        Db::Postgres(_) => "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tenant_id) VALUES ('Customer', 'broken', 1, 'CustomerCreated', '1.0', '{\"CustomerCreated\":{}}', '{\"tenant\":\"default\",\"actor\":\"x\",\"request_id\":\"\",\"occurred_at\":\"2026-01-01T00:00:00Z\"}', 'default')",
        Db::Sqlite { .. } => "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata, tenant_id, position) VALUES ('Customer', 'broken', 1, 'CustomerCreated', '1.0', '{\"CustomerCreated\":{}}', '{\"tenant\":\"default\",\"actor\":\"x\",\"request_id\":\"\",\"occurred_at\":\"2026-01-01T00:00:00Z\"}', 'default', (SELECT max(position) + 1 FROM events))",
    };
    let mut tx = db.begin().await.unwrap();
    tx.execute(bad_payload, &[]).await.unwrap();
    tx.commit().await.unwrap();
    reset(&db, Projection::Customers).await.unwrap();
    apply_exactly(&db, Projection::Customers, 3).await;
    let before = checkpoint(&db, Projection::Customers).await.unwrap();
    // Where the corrupt event is in the global (transaction, position) order: the
    // customers were created concurrently, so positions alone do not give that order.
    let bad_tx = match db {
        Db::Postgres(_) => "SELECT tx_id::text::bigint FROM events WHERE aggregate_id = 'broken'",
        Db::Sqlite { .. } => "SELECT 0",
    };
    let bad = LogPosition {
        tx: db.fetch_scalar(bad_tx, &[]).await.unwrap().unwrap(),
        position: db
            .fetch_scalar(
                "SELECT position FROM events WHERE aggregate_id = 'broken'",
                &[],
            )
            .await
            .unwrap()
            .unwrap(),
    };
    assert!(
        catch_up(&db, Projection::Customers).await.is_err(),
        "the corrupt event fails the projection"
    );
    let stopped = checkpoint(&db, Projection::Customers).await.unwrap();
    assert!(
        stopped >= before && stopped < bad,
        "it never passes the corrupt event: {before:?} <= {stopped:?} < {bad:?}"
    );
    assert!(
        catch_up(&db, Projection::Customers).await.is_err(),
        "and fails there again, loudly"
    );
    let mut tx = db.begin().await.unwrap();
    tx.execute("DELETE FROM events WHERE aggregate_id = 'broken'", &[])
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Identity values may have gaps (a rolled-back append burns one), so count the events
    // the checkpoint covers rather than trusting positions to be contiguous.
    let covered = match db {
        Db::Postgres(_) => {
            "SELECT count(*) FROM events WHERE (tx_id, position) <= ($1::text::xid8, $2)"
        }
        Db::Sqlite { .. } => "SELECT count(*) FROM events WHERE position <= $2 AND $1 = $1",
    };
    let covered = db
        .fetch_scalar(
            covered,
            &[stopped.tx.to_string().into(), stopped.position.into()],
        )
        .await
        .unwrap()
        .unwrap();
    let resumed = catch_up(&db, Projection::Customers).await.unwrap();
    assert_eq!(
        resumed as i64,
        6 - covered,
        "it resumes after the checkpoint, applying nothing twice"
    );
    let store = Store::from_db(db);
    assert_eq!(
        store
            .count_customers("default", &Default::default())
            .await
            .unwrap(),
        6,
        "five customers and the tenant's own company"
    );
}

async fn a_projection_stopped_midway_resumes_without_skipping_or_double_applying(backend: Backend) {
    let app = spawn_app(backend).await;
    create_many(&app, 25).await;
    let database = app.stop().await;
    let db = open(&database).await;
    let store = Store::from_db(db.clone());
    reset(&db, Projection::CustomerCounts).await.unwrap();
    apply_exactly(&db, Projection::CustomerCounts, 10).await;
    assert_eq!(
        store.customer_counts("default").await.unwrap()[0].1,
        10,
        "PREPARATION"
    );
    // "Restart": a new runner picks up from the checkpoint.
    drop(store);
    db.close().await;
    let db = open(&database).await;
    assert_eq!(
        catch_up(&db, Projection::CustomerCounts).await.unwrap(),
        16,
        "the other 15 customers and the own company"
    );
    assert_eq!(
        catch_up(&db, Projection::CustomerCounts).await.unwrap(),
        0,
        "nothing is applied twice"
    );
    let store = Store::from_db(db);
    assert_eq!(
        store.customer_counts("default").await.unwrap()[0].1,
        26,
        "with the own company"
    );
}

async fn rebuild_produces_the_same_read_model_as_the_live_projections(backend: Backend) {
    let app = spawn_app(backend).await;
    app.ok(
        "mutation { setRequiredCustomerFields(fields: [CITY]) }",
        json!({}),
    )
    .await;
    let ids = create_many_with_city(&app, 12).await;
    for (i, id) in ids.iter().enumerate().take(6) {
        app.edit_customer(
            id,
            None,
            json!({ "organization": format!("org {i}"), "testAccount": i % 2 == 0 }),
        )
        .await;
    }
    app.ok(
        "mutation { setGlobalProductVisibility(product: \"CDN\", visible: true) { key } }",
        json!({}),
    )
    .await;
    for id in ids.iter().take(4) {
        let vars = json!({ "id": id });
        app.ok(
            "mutation($id: ID!) { activateProduct(customerId: $id, product: \"CDN\") { id } }",
            vars.clone(),
        )
        .await;
        app.ok("mutation($id: ID!) { setProductStatus(customerId: $id, product: \"CDN\", status: TRIAL) { id } }", vars.clone())
            .await;
        app.ok("mutation($id: ID!) { setProductVisibility(customerId: $id, product: \"DNS\", visible: true) { id } }", vars)
            .await;
    }
    wait_for_counts(&app, 8).await;
    let live = snapshot_read_models(&app.store, &ids).await;
    let database = app.stop().await;
    let rebuild = Command::Rebuild {
        projections: vec![],
    };
    run_cli(&database, rebuild).await.expect("rebuild");
    let db = open(&database).await;
    let rebuilt = snapshot_read_models(&Store::from_db(db), &ids).await;
    assert_eq!(live, rebuilt);
}

async fn create_many_with_city(app: &TestApp, count: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..count {
        let c = app
            .create_customer(json!({ "name": format!("c{i}"), "city": "Rome" }))
            .await;
        ids.push(c["id"].as_str().unwrap().to_string());
    }
    ids
}

async fn snapshot_read_models(store: &Store, ids: &[String]) -> String {
    let mut out = String::new();
    for id in ids {
        out.push_str(&format!(
            "{:?}\n",
            store.customer("default", id).await.unwrap()
        ));
    }
    out.push_str(&format!(
        "{:?}\n",
        store.required_customer_fields("default").await.unwrap()
    ));
    out.push_str(&format!(
        "{:?}\n",
        store.customer_counts("default").await.unwrap()
    ));
    out
}

/// Waits until the asynchronous `customer_counts` projection (every customer, the own
/// company included) holds `expected` customers besides the own company.
async fn wait_for_counts(app: &TestApp, expected: i64) {
    app.ok("{ customers(first: 1) { totalCount } }", json!({}))
        .await;
    for _ in 0..100 {
        let counts = app.store.customer_counts("default").await.unwrap();
        if counts[0] == (clientele_domain::AccountStatus::Preparation, expected + 1) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("customer counts never reached {expected}");
}

async fn the_snapshot_always_equals_a_fold_of_the_full_history(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_customer(json!({ "name": "acme", "phone": "555 0100" }))
        .await;
    let id = created["id"].as_str().unwrap();
    for i in 0..30 {
        let change = match i % 4 {
            0 => json!({ "city": format!("city {i}") }),
            1 => json!({ "phone": null }),
            2 => json!({ "phone": format!("555 {i:04}"), "testAccount": i % 3 == 0 }),
            _ => {
                json!({ "type": if i % 2 == 0 { "SLG" } else { "MSSP" }, "dataRetentionDays": 45 })
            }
        };
        app.edit_customer(id, None, change).await;
    }
    let db = app.store.db();
    let (folded, version) = fold_history::<Customer>(db, id, &[]).await.unwrap();
    #[derive(sqlx::FromRow)]
    struct Snapshot {
        version: i64,
        payload: String,
    }
    let snapshot: Snapshot = db
        .fetch_optional(
            "SELECT version, payload FROM aggregate_snapshots WHERE aggregate_type = 'Customer' AND aggregate_id = $1",
            &[id.into()],
        )
        .await
        .unwrap()
        .expect("a snapshot");
    let snapshotted: Customer = serde_json::from_str(&snapshot.payload).unwrap();
    assert_eq!(snapshot.version as u64, version);
    assert_eq!(snapshotted, folded);
    assert_eq!(app.customer(id).await["version"], version);
}

async fn counts_by_status_follow_the_log_live(backend: Backend) {
    let app = spawn_app(backend).await;
    create_many(&app, 7).await;
    wait_for_counts(&app, 7).await;
}

/// Applies exactly `n` events of the log with `catch_up_batch`. On PostgreSQL another test's
/// open transaction anywhere in the cluster holds back the readable horizon for a moment, so
/// one batch may apply fewer events than asked; this waits for the rest.
async fn apply_exactly(db: &Db, projection: Projection, n: usize) {
    let mut applied = 0;
    for _ in 0..3000 {
        applied += catch_up_batch(db, projection, (n - applied) as i64)
            .await
            .unwrap();
        if applied == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("only {applied} of {n} events became readable in 30 s");
}
