//! Test support: `spawn_app()` starts the real application on a random port over a fresh
//! PostgreSQL database or SQLite file, and `TestApp` speaks HTTP to it.

mod database;
pub mod smtp;
pub mod webhooks;
pub mod ws;

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use clientele_graphql::{Authenticator, Clock, Grant, Role};
use clientele_server::{Application, Settings, ShutdownHandle};
use clientele_store::Store;
use serde_json::{json, Value};

pub use database::{fresh_database, TestDatabase};

/// Which store a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// A clock tests move forward; several apps may share one.
#[derive(Clone, Default)]
pub struct TestClock(Arc<AtomicI64>);

impl TestClock {
    /// Moves time forward for every app using this clock.
    pub fn advance(&self, by: chrono::Duration) {
        self.0.fetch_add(
            by.num_microseconds().expect("a sane duration"),
            Ordering::SeqCst,
        );
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + chrono::Duration::microseconds(self.0.load(Ordering::SeqCst))
    }

    fn clock(&self) -> Clock {
        let offset = self.0.clone();
        Clock::new(move || {
            chrono::Utc::now() + chrono::Duration::microseconds(offset.load(Ordering::SeqCst))
        })
    }
}

/// The running application and an HTTP client for it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub store: Store,
    pub database: TestDatabase,
    pub clock: TestClock,
    /// A TENANT_ADMIN token of tenant "default", sent by the helpers.
    pub token: String,
    shutdown: ShutdownHandle,
    server: tokio::task::JoinHandle<()>,
}

/// Starts the app over a fresh database of `backend`.
pub async fn spawn_app(backend: Backend) -> TestApp {
    let database = fresh_database(backend).await;
    spawn_app_on(database).await
}

/// Starts the app over an existing test database (e.g. to restart it).
pub async fn spawn_app_on(database: TestDatabase) -> TestApp {
    spawn_app_with(database, TestClock::default()).await
}

/// Starts the app over an existing test database with a given clock.
pub async fn spawn_app_with(database: TestDatabase, clock: TestClock) -> TestApp {
    spawn_app_configured(database, clock, |_| {}).await
}

/// Starts the app with settings adjusted by `configure` (after the test defaults).
pub async fn spawn_app_configured(
    database: TestDatabase,
    clock: TestClock,
    configure: impl FnOnce(&mut Settings),
) -> TestApp {
    let mut settings = Settings::defaults();
    settings.listen = "127.0.0.1:0".parse().expect("address");
    settings.database_url = Some(database.url.clone().into());
    settings.db_max_connections = 16;
    settings.projection_poll_ms = 50;
    settings.shutdown_grace_secs = 5;
    settings.deletion_poll_ms = 50;
    settings.jwt_secret = Some(TEST_SECRET.to_string().into());
    configure(&mut settings);
    let app = Application::build_with_clock(settings, clock.clock())
        .await
        .expect("the application builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    let store = app.store().clone();
    let shutdown = app.shutdown_handle();
    let token = mint("admin", "default", Role::TenantAdmin, None);
    let server = tokio::spawn(async move {
        app.run_until_stopped().await.expect("the application runs");
    });
    TestApp {
        address,
        client: reqwest::Client::new(),
        store,
        database,
        clock,
        token,
        shutdown,
        server,
    }
}

/// Runs a `clientele` subcommand against a test database, as a user would on the command line.
pub async fn run_cli(
    database: &TestDatabase,
    command: clientele_server::Command,
) -> anyhow::Result<()> {
    let mut settings = Settings::defaults();
    settings.database_url = Some(database.url.clone().into());
    clientele_server::cli::run(command, settings).await
}

/// The HS256 secret test apps use.
pub const TEST_SECRET: &str = "test-secret-that-is-long-enough-for-hs256";

/// Mints a one-hour token for the test apps.
pub fn mint(subject: &str, tenant: &str, role: Role, customer: Option<&str>) -> String {
    let auth = Authenticator::new(
        Some(TEST_SECRET.as_bytes().to_vec()),
        None,
        "clientele",
        "clientele",
    );
    let grant = Grant {
        customer: customer.map(str::to_string),
        ..Grant::new(subject, tenant, role)
    };
    let (token, _) = auth
        .mint(grant, chrono::Utc::now(), chrono::Duration::hours(1))
        .expect("mint");
    token
}

impl TestApp {
    /// Stops the app gracefully and returns its database for a restart.
    pub async fn stop(self) -> TestDatabase {
        self.shutdown.shutdown();
        tokio::time::timeout(Duration::from_secs(10), self.server)
            .await
            .expect("the app stops within 10 s")
            .expect("the app task ends cleanly");
        self.database
    }

    /// POSTs a GraphQL operation as the tenant admin and returns the whole response body.
    pub async fn graphql(&self, query: &str, variables: Value) -> Value {
        self.graphql_as(&self.token, query, variables).await
    }

    /// POSTs a GraphQL operation with `token` and returns the whole response body.
    pub async fn graphql_as(&self, token: &str, query: &str, variables: Value) -> Value {
        let body = json!({ "query": query, "variables": variables });
        let response = self.post_json(Some(token), &[], &body).await;
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.json().await.expect("a JSON answer")
    }

    /// Runs an operation that must succeed and returns its `data`.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        ok(&self.graphql(query, variables).await).clone()
    }

    /// POSTs `body` as JSON to /graphql with `token` as the bearer (no Authorization header
    /// without one) and the extra `headers`; the response as it came, whatever its status.
    pub async fn post_json(
        &self,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}/graphql", self.address))
            .json(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("the request is sent")
    }

    /// Runs an operation that must fail and returns its first error.
    pub async fn error(&self, query: &str, variables: Value) -> Value {
        let body = self.graphql(query, variables).await;
        body["errors"][0].clone()
    }

    /// Creates a customer from `input` and returns it with every field.
    pub async fn create_customer(&self, input: Value) -> Value {
        let query = format!("mutation($input: CreateCustomerInput!) {{ createCustomer(input: $input) {{ {CUSTOMER_FIELDS} }} }}");
        self.ok(&query, json!({ "input": input })).await["createCustomer"].clone()
    }

    /// Creates a customer named `name` (an inner customer of `parent`, if given) and returns
    /// its id.
    pub async fn new_customer(&self, name: &str, parent: Option<&str>) -> String {
        let mut input = json!({ "name": name });
        if let Some(parent) = parent {
            input["parentId"] = json!(parent);
        }
        self.create_customer(input).await["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Creates a customer from `input` and returns the error it got.
    pub async fn create_customer_error(&self, input: Value) -> Value {
        let query =
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }";
        self.error(query, json!({ "input": input })).await
    }

    pub async fn edit_customer(
        &self,
        id: &str,
        expected_version: Option<i64>,
        input: Value,
    ) -> Value {
        let body = self.edit_customer_raw(id, expected_version, input).await;
        ok(&body)["editCustomer"].clone()
    }

    pub async fn edit_customer_raw(
        &self,
        id: &str,
        expected_version: Option<i64>,
        input: Value,
    ) -> Value {
        let query = format!(
            "mutation($id: ID!, $v: Int, $input: EditCustomerInput!) {{ editCustomer(id: $id, expectedVersion: $v, input: $input) {{ {CUSTOMER_FIELDS} }} }}"
        );
        self.graphql(
            &query,
            json!({ "id": id, "v": expected_version, "input": input }),
        )
        .await
    }

    pub async fn customer(&self, id: &str) -> Value {
        let query = format!("query($id: ID!) {{ customer(id: $id) {{ {CUSTOMER_FIELDS} }} }}");
        self.ok(&query, json!({ "id": id })).await["customer"].clone()
    }

    /// The types of the customer's events, in order.
    pub async fn history_types(&self, id: &str) -> Vec<String> {
        let history = self.history(id).await;
        history
            .iter()
            .map(|e| e["type"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The customer's history as (type, version) pairs plus the raw nodes.
    pub async fn history(&self, id: &str) -> Vec<Value> {
        let query = "query($id: ID!, $after: String) { customerHistory(id: $id, first: 100, after: $after) {
            edges { cursor node { type version eventVersion occurredAt actor role onBehalfOf requestId payload } }
            pageInfo { hasNextPage endCursor } } }";
        let mut nodes = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = self.ok(query, json!({ "id": id, "after": after })).await;
            let page = &data["customerHistory"];
            nodes.extend(
                page["edges"]
                    .as_array()
                    .expect("edges")
                    .iter()
                    .map(|e| e["node"].clone()),
            );
            if page["pageInfo"]["hasNextPage"] != json!(true) {
                return nodes;
            }
            after = page["pageInfo"]["endCursor"].clone();
        }
    }

    /// How many events the store holds, all aggregates together, leaving out the one that
    /// registers the tenant's own company on its first request.
    pub async fn event_count(&self) -> i64 {
        let own = clientele_server::auth::own_company_id("default");
        self.store
            .db()
            .fetch_scalar(
                "SELECT count(*) FROM events WHERE aggregate_id <> $1",
                &[own.as_str().into()],
            )
            .await
            .expect("count")
            .unwrap_or(0)
    }

    /// Uploads `csv` to `importCustomers` (a GraphQL multipart request) with `token`.
    pub async fn import_as(
        &self,
        token: &str,
        csv: &[u8],
        arguments: &str,
        selection: &str,
    ) -> Value {
        let operations = json!({
            "query": format!("mutation($file: Upload!) {{ importCustomers(file: $file{arguments}) {{ {selection} }} }}"),
            "variables": { "file": null }
        });
        let part = reqwest::multipart::Part::bytes(csv.to_vec())
            .file_name("customers.csv")
            .mime_str("text/csv")
            .expect("a MIME type");
        let form = reqwest::multipart::Form::new()
            .text("operations", operations.to_string())
            .text("map", json!({ "0": ["variables.file"] }).to_string())
            .part("0", part);
        let response = self
            .client
            .post(format!("{}/graphql", self.address))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await
            .expect("the request is sent");
        assert!(response.status().is_success(), "HTTP {}", response.status());
        response.json().await.expect("a JSON answer")
    }

    /// Sends raw bytes to POST /graphql.
    pub async fn post_raw(
        &self,
        content_type: &str,
        body: impl Into<reqwest::Body>,
    ) -> reqwest::Response {
        self.client
            .post(format!("{}/graphql", self.address))
            .bearer_auth(&self.token)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("the request is sent")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.address))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("the request is sent")
    }
}

/// The `data` of an answer that must have succeeded.
pub fn ok(body: &Value) -> &Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
    &body["data"]
}

/// The `extensions.code` of an answer's first error ("none" without one).
pub fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("none")
}

/// `addCustomerUser` with every field of its answer; `$c` is the customer, `$input` the user.
pub const ADD_USER: &str = "mutation($c: ID!, $input: AddCustomerUserInput!) { addCustomerUser(customerId: $c, input: $input) {
    user { id customerId email givenName familyName language userType status activationExpiresAt }
    activation { method emailSent link expiresAt } } }";

/// Every field of Customer, for selections.
pub const CUSTOMER_FIELDS: &str =
    "id version name email givenName familyName organization shortname type \
    serviceStatus contractualFlowsPerSecond multiAccount internal testAccount dataRetentionDays \
    rollupRetentionDays language seller customId title country city address phone accountStatus \
    createdAt updatedAt";

/// Generates a `postgres` and a `sqlite` test for each scenario `async fn name(Backend)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Postgres).await
                }
            )*
        }
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::Backend::Sqlite).await
                }
            )*
        }
    };
}
