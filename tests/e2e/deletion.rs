//! Deletion requests, irreversible deletion, erasure and the audit trail.

use std::time::Duration;

use chrono::Duration as Days;
use clientele_domain::customer::Customer;
use clientele_server::Command;
use clientele_tests::{on_both_backends, run_cli, spawn_app, spawn_app_with, Backend, TestApp};
use cqrs_es::Aggregate;
use serde_json::{json, Value};

on_both_backends!(
    a_request_stops_products_and_falls_due_after_the_grace_period,
    cancelling_keeps_the_note_and_returns_products_to_their_statuses,
    deleting_needs_the_confirmation_and_cannot_be_undone,
    a_due_request_is_carried_out_by_the_service_itself,
    a_request_due_while_the_service_was_down_is_carried_out_on_start,
    deleting_erases_personal_data_everywhere_but_keeps_the_audit_trail,
    customer_as_of_folds_the_events_up_to_an_instant,
    the_history_export_replays_to_the_same_state,
);

async fn active_customer(app: &TestApp) -> String {
    app.ok(
        "mutation { setGlobalProductVisibility(product: \"CDN\", visible: true) { key } }",
        json!({}),
    )
    .await;
    let created = app
        .create_customer(json!({ "name": "acme", "shortname": "acme1" }))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    let vars = json!({ "id": id });
    app.ok(
        "mutation($id: ID!) { activateProduct(customerId: $id, product: \"CDN\") { id } }",
        vars.clone(),
    )
    .await;
    app.ok("mutation($id: ID!) { setProductStatus(customerId: $id, product: \"CDN\", status: ACTIVE) { id } }", vars)
        .await;
    id
}

async fn request_deletion(app: &TestApp, id: &str) -> Value {
    app.graphql(
        "mutation($id: ID!) { requestDeletion(customerId: $id, reason: \"moving to a competitor\") { accountStatus products { key status } } }",
        json!({ "id": id }),
    )
    .await
}

async fn requests(app: &TestApp, id: &str) -> Vec<Value> {
    let data = app
        .ok(
            "query($id: ID!) { deletionRequests(filter: { customerId: $id }) { edges { node { id requestedBy requestedAt reason dueAt status closedBy closedAt note automatic } } } }",
            json!({ "id": id }),
        )
        .await;
    // The list is soonest due first; these tests read a customer's requests in the order made.
    let edges = data["deletionRequests"]["edges"].as_array().unwrap();
    let mut requests: Vec<Value> = edges.iter().map(|e| e["node"].clone()).collect();
    requests.sort_by_key(|r| time(&r["requestedAt"]));
    requests
}

fn cdn(customer: &Value) -> Value {
    customer["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == "CDN")
        .unwrap()["status"]
        .clone()
}

fn time(value: &Value) -> chrono::DateTime<chrono::Utc> {
    value.as_str().unwrap().parse().unwrap()
}

async fn status_of(app: &TestApp, id: &str) -> Value {
    app.ok(
        "query($id: ID!) { customer(id: $id) { accountStatus } }",
        json!({ "id": id }),
    )
    .await["customer"]["accountStatus"]
        .clone()
}

async fn a_request_stops_products_and_falls_due_after_the_grace_period(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = active_customer(&app).await;
    let answer = request_deletion(&app, &id).await;
    assert_eq!(
        answer["data"]["requestDeletion"]["accountStatus"], "TRIAL_END",
        "{answer:#}"
    );
    assert_eq!(cdn(&answer["data"]["requestDeletion"]), "PAUSED");
    let open = requests(&app, &id).await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["status"], "OPEN");
    assert_eq!(open[0]["reason"], "moving to a competitor");
    assert_eq!(open[0]["requestedBy"], "admin");
    let grace = time(&open[0]["dueAt"]) - time(&open[0]["requestedAt"]);
    assert!(
        (grace - Days::days(10)).num_seconds().abs() < 5,
        "10 days by default: {grace}"
    );
    let again = request_deletion(&app, &id).await;
    assert_eq!(again["errors"][0]["extensions"]["code"], "CONFLICT");
}

async fn cancelling_keeps_the_note_and_returns_products_to_their_statuses(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = active_customer(&app).await;
    request_deletion(&app, &id).await;
    let cancel = "mutation($id: ID!, $note: String!) { cancelDeletionRequest(customerId: $id, note: $note) { accountStatus products { key status } } }";
    let blank = app.error(cancel, json!({ "id": id, "note": "  " })).await;
    assert_eq!(blank["extensions"]["field"], "note");
    let answer = app
        .ok(
            cancel,
            json!({ "id": id, "note": "they stay for a discount" }),
        )
        .await;
    assert_eq!(answer["cancelDeletionRequest"]["accountStatus"], "ACTIVE");
    assert_eq!(
        cdn(&answer["cancelDeletionRequest"]),
        "ACTIVE",
        "the product runs again as before"
    );
    let history = requests(&app, &id).await;
    assert_eq!(history[0]["status"], "CANCELLED");
    assert_eq!(history[0]["note"], "they stay for a discount");
    assert_eq!(history[0]["closedBy"], "admin");
    let again = app
        .error(cancel, json!({ "id": id, "note": "again" }))
        .await;
    assert_eq!(again["extensions"]["code"], "CONFLICT");
    // The grace period is the tenant's to choose.
    app.ok("mutation { setDeletionGracePeriod(days: 3) }", json!({}))
        .await;
    request_deletion(&app, &id).await;
    let both = requests(&app, &id).await;
    assert_eq!(both.len(), 2, "every request is kept, in order");
    let grace = time(&both[1]["dueAt"]) - time(&both[1]["requestedAt"]);
    assert!((grace - Days::days(3)).num_seconds().abs() < 5, "{grace}");
    let error = app
        .error("mutation { setDeletionGracePeriod(days: 0) }", json!({}))
        .await;
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT");
}

async fn deleting_needs_the_confirmation_and_cannot_be_undone(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = active_customer(&app).await;
    let delete = "mutation($id: ID!, $confirm: String!) { deleteCustomer(id: $id, confirm: $confirm) { accountStatus version products { key status } } }";
    let before = app.event_count().await;
    let wrong = app
        .error(delete, json!({ "id": id, "confirm": "acme" }))
        .await;
    assert_eq!(wrong["extensions"]["code"], "BAD_USER_INPUT");
    assert_eq!(wrong["extensions"]["field"], "confirm");
    assert_eq!(wrong["extensions"]["rule"], "CONFIRMATION");
    assert_eq!(
        app.event_count().await,
        before,
        "a stray call deletes nothing"
    );
    let deleted = app
        .ok(delete, json!({ "id": id, "confirm": "acme1" }))
        .await;
    assert_eq!(deleted["deleteCustomer"]["accountStatus"], "DELETED");
    assert_eq!(cdn(&deleted["deleteCustomer"]), "DELETED");
    let body = app
        .edit_customer_raw(&id, None, json!({ "city": "x" }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["code"], "CUSTOMER_DELETED");
    assert_eq!(
        request_deletion(&app, &id).await["errors"][0]["extensions"]["code"],
        "CUSTOMER_DELETED"
    );
    let again = app
        .error(delete, json!({ "id": id, "confirm": "acme1" }))
        .await;
    assert_eq!(again["extensions"]["code"], "CUSTOMER_DELETED");
    let list = "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }";
    assert_eq!(
        app.ok(list, json!({ "f": { "ownCompany": false } })).await["customers"]["totalCount"],
        0,
        "gone from default lists"
    );
    assert_eq!(
        app.ok(
            list,
            json!({ "f": { "includeDeleted": true, "ownCompany": false } })
        )
        .await["customers"]["totalCount"],
        1
    );
    assert_eq!(
        app.ok(list, json!({ "f": { "accountStatus": "DELETED" } }))
            .await["customers"]["totalCount"],
        1
    );
    let reused = app
        .create_customer(json!({ "name": "acme", "shortname": "acme1" }))
        .await;
    assert_ne!(
        reused["id"],
        json!(id),
        "a deleted customer's name and shortname are free again"
    );
}

async fn wait_until_deleted(app: &TestApp, id: &str) {
    for _ in 0..100 {
        if status_of(app, id).await == "DELETED" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the customer was never deleted");
}

async fn a_due_request_is_carried_out_by_the_service_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = active_customer(&app).await;
    request_deletion(&app, &id).await;
    app.clock.advance(Days::days(9));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        status_of(&app, &id).await,
        "TRIAL_END",
        "not due after 9 days"
    );
    app.clock.advance(Days::days(1) + Days::minutes(1));
    wait_until_deleted(&app, &id).await;
    let request = &requests(&app, &id).await[0];
    assert_eq!(request["status"], "CARRIED_OUT");
    assert_eq!(request["automatic"], true);
    assert_eq!(request["closedBy"], "system:deletion-scheduler");
    let history = app.history(&id).await;
    let deleted = history
        .iter()
        .find(|e| e["type"] == "CustomerDeleted")
        .unwrap();
    assert_eq!(deleted["actor"], "system:deletion-scheduler");
    assert_eq!(deleted["payload"]["automatic"], true);
    assert_eq!(deleted["payload"]["requestId"], request["id"]);
}

async fn a_request_due_while_the_service_was_down_is_carried_out_on_start(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = active_customer(&app).await;
    request_deletion(&app, &id).await;
    let clock = app.clock.clone();
    let database = app.stop().await;
    clock.advance(Days::days(11));
    let app = spawn_app_with(database, clock).await;
    wait_until_deleted(&app, &id).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_delete_a_due_request_exactly_once() {
    let first = spawn_app(Backend::Postgres).await;
    let clock = first.clock.clone();
    let second = spawn_app_with(first.database.clone(), clock.clone()).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let created = first
            .create_customer(json!({ "name": format!("c{i}") }))
            .await;
        let id = created["id"].as_str().unwrap().to_string();
        request_deletion(if i % 2 == 0 { &first } else { &second }, &id).await;
        ids.push(id);
    }
    clock.advance(Days::days(11));
    for id in &ids {
        wait_until_deleted(&second, id).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let deletions = first
        .store
        .db()
        .fetch_scalar(
            "SELECT count(*) FROM events WHERE event_type = 'CustomerDeleted'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(deletions, Some(5), "each request carried out exactly once");
}

const SECRETS: [&str; 6] = [
    "zq-secret-7731@mail.example",
    "Zqgiven7731",
    "Zqfamily7731",
    "7731 Zqsecret Lane",
    "Zqcity7731",
    "+1 555 7731",
];

/// Every text value in every table, as one string per row.
async fn every_row(app: &TestApp) -> Vec<String> {
    let db = app.store.db();
    match db {
        clientele_store::Db::Postgres(pool) => {
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .fetch_all(pool)
            .await
            .unwrap();
            let mut rows = Vec::new();
            for table in tables {
                let text: Vec<String> =
                    sqlx::query_scalar(&format!("SELECT t::text FROM \"{table}\" t"))
                        .fetch_all(pool)
                        .await
                        .unwrap();
                rows.extend(text);
            }
            rows
        }
        clientele_store::Db::Sqlite { write, .. } => {
            sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
                .execute(write)
                .await
                .unwrap();
            let path = app.database.url.trim_start_matches("sqlite://").to_string();
            let mut files = Vec::new();
            for suffix in ["", "-wal"] {
                if let Ok(bytes) = std::fs::read(format!("{path}{suffix}")) {
                    files.push(String::from_utf8_lossy(&bytes).into_owned());
                }
            }
            files
        }
    }
}

async fn deleting_erases_personal_data_everywhere_but_keeps_the_audit_trail(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_customer(json!({
            "name": "erasable", "email": SECRETS[0], "givenName": SECRETS[1], "address": SECRETS[3],
            "city": SECRETS[4], "phone": SECRETS[5], "organization": "Keep Org"
        }))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    app.edit_customer(
        &id,
        None,
        json!({ "familyName": SECRETS[2], "city": "Zqcity7731b" }),
    )
    .await;
    let events: Vec<String> = app
        .store
        .db()
        .fetch_all::<(String,)>(
            match backend {
                Backend::Postgres => "SELECT payload::text FROM events",
                Backend::Sqlite => "SELECT payload FROM events",
            },
            &[],
        )
        .await
        .unwrap()
        .into_iter()
        .map(|(p,)| p)
        .collect();
    assert!(
        events
            .iter()
            .all(|p| SECRETS.iter().all(|s| !p.contains(s))),
        "personal values are sealed in the event store even before deletion"
    );
    assert_eq!(
        app.history(&id).await[0]["payload"]["profile"]["email"],
        SECRETS[0],
        "and open for readers"
    );
    request_deletion(&app, &id).await;
    app.ok(
        "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"erasable\") { id } }",
        json!({ "id": id }),
    )
    .await;
    for row in every_row(&app).await {
        for secret in SECRETS.iter().chain(["Zqcity7731b"].iter()) {
            assert!(
                !row.contains(secret),
                "{secret} survived deletion in: {}",
                &row[..row.len().min(300)]
            );
        }
    }
    // The audit trail stays: types, times, actors, statuses, requests; replay still works.
    let history = app.history(&id).await;
    assert_eq!(
        app.history_types(&id).await,
        [
            "CustomerCreated",
            "CustomerEdited",
            "DeletionRequested",
            "AssignmentsReleased",
            "CustomerDeleted",
            "AccountStatusChanged"
        ]
    );
    assert_eq!(history[0]["payload"]["profile"]["email"], Value::Null);
    assert_eq!(history[0]["payload"]["profile"]["organization"], "Keep Org");
    assert_eq!(requests(&app, &id).await[0]["status"], "CARRIED_OUT");
    let customer = app.customer(&id).await;
    assert_eq!(customer["email"], Value::Null);
    assert_eq!(customer["accountStatus"], "DELETED");
    let as_of = app
        .ok("query($id: ID!, $at: DateTime!) { customerAsOf(id: $id, at: $at) { email organization } }", json!({ "id": id, "at": created["createdAt"] }))
        .await;
    assert_eq!(
        as_of["customerAsOf"],
        json!({ "email": null, "organization": "Keep Org" })
    );
    let database = app.stop().await;
    let rebuild = Command::Rebuild {
        projections: vec![],
    };
    run_cli(&database, rebuild)
        .await
        .expect("rebuild works after erasure");
    let app = clientele_tests::spawn_app_on(database).await;
    assert_eq!(
        app.customer(&id).await,
        customer,
        "the rebuilt read model agrees"
    );
}

async fn customer_as_of_folds_the_events_up_to_an_instant(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = app
        .create_customer(json!({ "name": "acme", "city": "Oslo" }))
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    app.clock.advance(Days::hours(1));
    let edited = app
        .edit_customer(&id, None, json!({ "city": "Bergen" }))
        .await;
    app.clock.advance(Days::hours(1));
    app.edit_customer(&id, None, json!({ "city": "Tromsø" }))
        .await;
    let query = "query($id: ID!, $at: DateTime!) { customerAsOf(id: $id, at: $at) { city version accountStatus } }";
    let at = |t: chrono::DateTime<chrono::Utc>| json!({ "id": id, "at": t.to_rfc3339() });
    let first = app
        .ok(query, at(time(&created["createdAt"]) + Days::minutes(30)))
        .await;
    assert_eq!(
        first["customerAsOf"],
        json!({ "city": "Oslo", "version": 1, "accountStatus": "PREPARATION" })
    );
    let second = app.ok(query, at(time(&edited["updatedAt"]))).await;
    assert_eq!(second["customerAsOf"]["city"], "Bergen");
    let before = app
        .ok(query, at(time(&created["createdAt"]) - Days::seconds(1)))
        .await;
    assert_eq!(before["customerAsOf"], Value::Null);
}

async fn the_history_export_replays_to_the_same_state(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = active_customer(&app).await;
    app.edit_customer(&id, None, json!({ "email": "a@b.example", "city": "Rome" }))
        .await;
    request_deletion(&app, &id).await;
    let other = app.create_customer(json!({ "name": "other" })).await;
    let export = app
        .ok(
            "query($id: ID) { historyExport(customerId: $id) }",
            json!({ "id": id }),
        )
        .await["historyExport"]
        .as_str()
        .unwrap()
        .to_string();
    let mut replayed = Customer::default();
    for line in export.lines() {
        let event: Value = serde_json::from_str(line).unwrap();
        replayed.apply(serde_json::from_value(event["payload"].clone()).unwrap());
    }
    let current = app.customer(&id).await;
    assert_eq!(
        replayed.version as i64,
        current["version"].as_i64().unwrap()
    );
    assert_eq!(replayed.account_status().as_str(), current["accountStatus"]);
    let profile = replayed.profile.unwrap();
    assert_eq!(profile.email.as_deref(), current["email"].as_str());
    assert_eq!(profile.city.as_deref(), current["city"].as_str());
    assert!(replayed.open_request.is_some());
    let tenant = app.ok("{ historyExport }", json!({})).await["historyExport"]
        .as_str()
        .unwrap()
        .to_string();
    let ids: Vec<String> = tenant
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["aggregateId"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(ids.contains(&id) && ids.contains(&other["id"].as_str().unwrap().to_string()));
    assert!(
        ids.contains(&"default".to_string()),
        "tenant events are part of the tenant's history"
    );
    assert_eq!(
        ids.len(),
        app.event_count().await as usize + 1,
        "and the own company's registration"
    );
}
