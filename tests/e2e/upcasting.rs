//! Events stored in an older shape reach every projection (through `rebuild` and through
//! the asynchronous runner's catch-up) and every aggregate in their current shape, through
//! upcasters registered with the store. Without the upcasters, the rebuild fails loudly
//! instead of skipping the events.

use std::time::Duration;

use chrono::Utc;
use clientele_domain::assignment::EntityKind;
use clientele_domain::customer::{Change, Customer, CustomerChanges, CustomerCommand};
use clientele_domain::tenant::Tenant;
use clientele_domain::AccountStatus;
use clientele_server::Command;
use clientele_store::events::fold_history;
use clientele_store::projections::{catch_up, checkpoint, reset};
use clientele_store::{
    entity_aggregate_id, Arg, CommandError, ConnectOptions, CustomerFilter, Db, EventMetadata,
    LogPosition, Projection, Store, StoreError,
};
use clientele_tests::{fresh_database, on_both_backends, run_cli, Backend};
use cqrs_es::persist::{EventUpcaster, SerializedEvent};
use serde_json::{json, Map, Value};

on_both_backends!(
    events_of_an_older_shape_reach_every_projection_and_aggregate_in_the_current_shape,
    without_its_upcaster_an_older_shape_fails_the_rebuild_loudly,
);

const TENANT: &str = "default";
const CUSTOMER: &str = "0190a000-0000-7000-8000-00000000c0de";
const DEVICE: &str = "device-1";
/// The version of the older shapes; the current one is "1.0".
const OLD: &str = "0.9";

/// Brings one event type from `OLD` to "1.0" by changing its fields.
struct Upcaster {
    event_type: &'static str,
    change: fn(&mut Map<String, Value>),
}

impl EventUpcaster for Upcaster {
    fn can_upcast(&self, event_type: &str, event_version: &str) -> bool {
        event_type == self.event_type && event_version == OLD
    }

    fn upcast(&self, mut event: SerializedEvent) -> SerializedEvent {
        let fields = event
            .payload
            .get_mut(self.event_type)
            .and_then(Value::as_object_mut)
            .expect("an externally tagged payload");
        (self.change)(fields);
        event.event_version = "1.0".into();
        event
    }
}

/// The older shapes: a customer's name was `customerName`, a grace period was counted in
/// weeks, and an assigned device named its owner `customer`.
fn upcasters() -> Vec<Box<dyn EventUpcaster>> {
    vec![
        Box::new(Upcaster {
            event_type: "CustomerCreated",
            change: |fields| {
                let profile = fields["profile"].as_object_mut().expect("a profile");
                let name = profile.remove("customerName").expect("the old name field");
                profile.insert("name".into(), name);
            },
        }),
        Box::new(Upcaster {
            event_type: "DeletionGracePeriodSet",
            change: |fields| {
                let weeks = fields
                    .remove("weeks")
                    .and_then(|w| w.as_u64())
                    .expect("weeks");
                fields.insert("days".into(), json!(weeks * 7));
            },
        }),
        Box::new(Upcaster {
            event_type: "DeviceAssigned",
            change: |fields| {
                let owner = fields.remove("customer").expect("the old owner field");
                fields.insert("customerId".into(), owner);
            },
        }),
    ]
}

async fn open(backend: Backend) -> (clientele_tests::TestDatabase, Db) {
    let database = fresh_database(backend).await;
    let options = ConnectOptions {
        url: database.url.clone(),
        max_connections: 4,
        acquire_timeout: Duration::from_secs(10),
    };
    let db = Db::connect(&options).await.expect("connect");
    db.migrate().await.expect("migrate");
    (database, db)
}

fn metadata() -> EventMetadata {
    EventMetadata {
        tenant: TENANT.into(),
        actor: "test".into(),
        role: None,
        on_behalf_of: None,
        request_id: String::new(),
        occurred_at: Utc::now() - chrono::Duration::minutes(1),
    }
}

/// Writes the rows an older release would have written: a customer, a device assigned to
/// it and the tenant's grace period, each at version `OLD` in its older shape.
async fn store_old_shapes(db: &Db) {
    let old = [
        (
            "Customer",
            CUSTOMER.to_string(),
            "CustomerCreated",
            json!({ "CustomerCreated": { "tenant": TENANT, "profile": {
                "customerName": "Old Shape Ltd", "organization": "Old Org", "language": "en" } } }),
        ),
        (
            "Device",
            entity_aggregate_id(TENANT, DEVICE),
            "DeviceAssigned",
            json!({ "DeviceAssigned": { "tenant": TENANT, "entityId": DEVICE, "customer": CUSTOMER } }),
        ),
        (
            "Tenant",
            TENANT.to_string(),
            "DeletionGracePeriodSet",
            json!({ "DeletionGracePeriodSet": { "weeks": 2 } }),
        ),
    ];
    let sql = match db {
        Db::Postgres(_) => {
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload, metadata, tenant_id, occurred_at) VALUES ($1, $2, 1, $3, $4, $5::json, $6::json, $7, $8)"
        }
        Db::Sqlite { .. } => {
            "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type, event_version, \
             payload, metadata, tenant_id, occurred_at, position) VALUES ($1, $2, 1, $3, $4, $5, $6, $7, $8, \
             (SELECT coalesce(max(position), 0) + 1 FROM events))"
        }
    };
    let metadata = metadata();
    let mut tx = db.begin().await.unwrap();
    for (aggregate_type, id, event_type, payload) in old {
        let args = [
            Arg::from(aggregate_type),
            Arg::Text(id),
            Arg::from(event_type),
            Arg::from(OLD),
            Arg::Text(payload.to_string()),
            Arg::Text(serde_json::to_string(&metadata).unwrap()),
            Arg::from(TENANT),
            Arg::Int(metadata.occurred_at.timestamp_micros()),
        ];
        tx.execute(sql, &args).await.unwrap();
    }
    tx.commit().await.unwrap();
}

/// What every projection made of the three events: only their current shape gives this.
async fn assert_read_models_show_the_current_shape(store: &Store) {
    let customer = store
        .customer(TENANT, CUSTOMER)
        .await
        .unwrap()
        .expect("the customers row");
    assert_eq!(customer.profile.name, "Old Shape Ltd");
    assert_eq!(customer.profile.organization.as_deref(), Some("Old Org"));
    assert_eq!(customer.account_status, AccountStatus::Preparation);
    assert_eq!(customer.version, 1);
    let search = CustomerFilter {
        text: Some("old shape".into()),
        ..CustomerFilter::default()
    };
    assert_eq!(store.count_customers(TENANT, &search).await.unwrap(), 1);
    let history = store
        .account_status_history(TENANT, CUSTOMER)
        .await
        .unwrap();
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(
        (history[0].to, history[0].cause.as_str()),
        (AccountStatus::Preparation, "CustomerCreated")
    );
    assert_eq!(
        store.customer_counts(TENANT).await.unwrap()[0],
        (AccountStatus::Preparation, 1)
    );
    assert_eq!(store.deletion_grace_days(TENANT).await.unwrap(), 14);
    assert_eq!(
        store
            .owner_of(TENANT, EntityKind::Device, DEVICE)
            .await
            .unwrap()
            .as_deref(),
        Some(CUSTOMER)
    );
    let counts = store.assignment_counts(TENANT, CUSTOMER).await.unwrap();
    assert_eq!(counts.devices, 1);
}

fn rename_organization(version: u64) -> CustomerCommand {
    CustomerCommand::EditCustomer {
        expected_version: Some(version),
        changes: CustomerChanges {
            organization: Change::Set("New Org".into()),
            ..CustomerChanges::default()
        },
        required: Vec::new(),
    }
}

async fn events_of_an_older_shape_reach_every_projection_and_aggregate_in_the_current_shape(
    backend: Backend,
) {
    let (_database, db) = open(backend).await;
    store_old_shapes(&db).await;
    let store = Store::from_db_with_upcasters(db.clone(), upcasters());

    // `rebuild` of every projection, inline ones included.
    assert_eq!(store.rebuild_together(&Projection::ALL).await.unwrap(), 3);
    assert_read_models_show_the_current_shape(&store).await;

    // The runner's catch-up, projection by projection from empty.
    for projection in Projection::ALL {
        reset(&db, projection).await.unwrap();
        assert_eq!(store.catch_up(projection).await.unwrap(), 3);
    }
    assert_read_models_show_the_current_shape(&store).await;

    // The background runner, which follows the asynchronous `customer_counts`.
    reset(&db, Projection::CustomerCounts).await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let runner = store.spawn_runner(stopped, Duration::from_millis(20));
    let mut counted = false;
    for _ in 0..500 {
        if store.customer_counts(TENANT).await.unwrap()[0] == (AccountStatus::Preparation, 1) {
            counted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    runner.await.unwrap();
    assert!(
        counted,
        "the runner counted the customer created in the old shape"
    );

    // Loading the aggregates: the reference fold, the as-of view, and commands.
    let (folded, version) = fold_history::<Customer>(&db, CUSTOMER, store.upcasters())
        .await
        .unwrap();
    assert_eq!(version, 1);
    assert_eq!(folded.profile.expect("a profile").name, "Old Shape Ltd");
    let (tenant, _) = fold_history::<Tenant>(&db, TENANT, store.upcasters())
        .await
        .unwrap();
    assert_eq!(tenant.deletion_grace_days, 14);
    let as_of = store
        .customer_snapshot(TENANT, CUSTOMER, Utc::now())
        .await
        .unwrap()
        .expect("the customer existed");
    assert_eq!(
        as_of.customer.profile.expect("a profile").name,
        "Old Shape Ltd"
    );
    let edited = store
        .execute::<Customer>(CUSTOMER, rename_organization(1), &metadata())
        .await
        .expect("the command loads the customer from its old-shape history");
    assert_eq!(edited.version, 2);
    let profile = edited.aggregate.profile.expect("a profile");
    assert_eq!(
        (profile.name.as_str(), profile.organization.as_deref()),
        ("Old Shape Ltd", Some("New Org"))
    );
    let record = store.customer(TENANT, CUSTOMER).await.unwrap().unwrap();
    assert_eq!(
        (record.profile.name.as_str(), record.version),
        ("Old Shape Ltd", 2)
    );
    let unassigned = store
        .unassign(EntityKind::Device, CUSTOMER, DEVICE, &metadata())
        .await
        .expect("the command loads the device from its old-shape history");
    assert_eq!(unassigned, 1, "the device had an owner to lose");
    assert_eq!(
        store
            .owner_of(TENANT, EntityKind::Device, DEVICE)
            .await
            .unwrap(),
        None
    );
}

async fn without_its_upcaster_an_older_shape_fails_the_rebuild_loudly(backend: Backend) {
    let (database, db) = open(backend).await;
    store_old_shapes(&db).await;
    let store = Store::from_db(db.clone());

    let error = store
        .rebuild_together(&Projection::ALL)
        .await
        .expect_err("an event that does not decode fails the rebuild");
    assert!(
        matches!(&error, StoreError::Corrupt(message) if message.contains("CustomerCreated") && message.contains(OLD)),
        "the error names the event and its version: {error}"
    );
    assert_eq!(store.customer(TENANT, CUSTOMER).await.unwrap(), None);
    assert_eq!(
        checkpoint(&db, Projection::Customers).await.unwrap(),
        LogPosition::default(),
        "nothing was skipped: the checkpoint stays before the event"
    );
    assert!(
        catch_up(&db, Projection::CustomerCounts).await.is_err(),
        "the runner's catch-up stops at it too"
    );
    assert_eq!(
        checkpoint(&db, Projection::CustomerCounts).await.unwrap(),
        LogPosition::default()
    );
    let command = store
        .execute::<Customer>(CUSTOMER, rename_organization(1), &metadata())
        .await;
    assert!(
        matches!(command, Err(CommandError::Store(StoreError::Corrupt(_)))),
        "loading the customer fails as loudly: {command:?}"
    );
    db.close().await;
    let rebuild = Command::Rebuild {
        projections: vec![],
    };
    assert!(
        run_cli(&database, rebuild).await.is_err(),
        "`clientele rebuild` fails"
    );
}
