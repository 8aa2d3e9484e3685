//! Hostile input (issue 14 §1, §2, §4; issue 13 §5): a small document that would cost
//! seconds, control characters in arguments, errors without a code, and tokens that are
//! not yet valid, carry an unknown `crit` or name no tenant.

use std::time::{Duration, Instant};

use clientele_tests::ws::WsClient;
use clientele_tests::{on_both_backends, spawn_app, Backend, TestApp, ADD_USER};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

on_both_backends!(
    a_fragment_bomb_is_refused_at_once,
    a_trivial_query_is_answered_while_bombs_are_in_flight,
    a_selection_set_of_ninety_thousand_fields_is_refused,
    the_standard_introspection_query_still_passes,
    control_characters_are_refused_in_every_argument_and_nothing_is_written,
    every_error_has_a_code,
    tokens_not_yet_valid_with_an_unknown_crit_or_without_a_tenant_are_refused,
    one_email_is_one_user_of_a_customer_case_insensitively,
    a_resume_cursor_beyond_the_end_of_the_log_is_refused,
    no_byte_of_a_deleted_customers_personal_fields_is_left_in_the_database,
    a_malformed_uuid_id_is_refused_naming_its_argument_before_any_sql,
    a_request_id_that_is_too_long_or_not_printable_ascii_is_replaced_everywhere,
);

/// `query { ...F0 } fragment F0 on Query { ...F1 ...F1 } … fragment F{levels} { __typename }`:
/// a few hundred bytes whose expansion holds 2^levels fields.
fn bomb(levels: usize) -> String {
    let mut query = String::from("query { ...F0 } ");
    for level in 0..levels {
        let next = level + 1;
        query.push_str(&format!(
            "fragment F{level} on Query {{ ...F{next} ...F{next} }} "
        ));
    }
    query.push_str(&format!("fragment F{levels} on Query {{ __typename }}"));
    query
}

fn code(error: &Value) -> &str {
    error["extensions"]["code"].as_str().unwrap_or("none")
}

/// Posts `query` and returns its first error and how long the answer took.
async fn timed_error(app: &TestApp, query: &str) -> (Value, Duration) {
    let started = Instant::now();
    let error = app.error(query, json!({})).await;
    (error, started.elapsed())
}

async fn a_fragment_bomb_is_refused_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    for levels in [22, 30] {
        let query = bomb(levels);
        assert!(query.len() < 1500, "{} bytes", query.len());
        let (error, took) = timed_error(&app, &query).await;
        assert_eq!(code(&error), "LIMIT_EXCEEDED", "{error}");
        assert!(
            error["message"].as_str().unwrap().contains("selections"),
            "the message says what was too big: {error}"
        );
        assert!(
            took < Duration::from_secs(1),
            "{levels} levels took {took:?}"
        );
    }
    // A small fragment tree is still answered.
    assert_eq!(app.ok(&bomb(3), json!({})).await["__typename"], "Query");
}

async fn a_trivial_query_is_answered_while_bombs_are_in_flight(backend: Backend) {
    let app = std::sync::Arc::new(spawn_app(backend).await);
    let bombs: Vec<_> = (0..2)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let (error, _) = timed_error(&app, &bomb(24)).await;
                error
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(20)).await;
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(2), app.ok("{ __typename }", json!({})))
        .await
        .expect("the trivial query is answered within 2 s");
    assert_eq!(answer["__typename"], "Query");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    for bomb in bombs {
        let error = tokio::time::timeout(Duration::from_secs(2), bomb)
            .await
            .expect("the bomb is refused within 2 s")
            .unwrap();
        assert_eq!(code(&error), "LIMIT_EXCEEDED", "{error}");
    }
}

async fn a_selection_set_of_ninety_thousand_fields_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let query = format!("{{ {} }}", "__typename ".repeat(90_000));
    let (error, took) = timed_error(&app, &query).await;
    assert_eq!(code(&error), "LIMIT_EXCEEDED", "{error}");
    // Most of this is parsing a 1 MB body once, in a debug build on a shared machine.
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

/// graphql-js's `getIntrospectionQuery()` (v16, default options).
const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType {
    kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}";

async fn the_standard_introspection_query_still_passes(backend: Backend) {
    let app = spawn_app(backend).await;
    let data = app.ok(INTROSPECTION, json!({})).await;
    assert_eq!(data["__schema"]["queryType"]["name"], "Query");
    // A data query nested 13 levels is still refused, also behind fragments.
    let deep = format!(
        "query {{ ...A }} fragment A on Query {{ __schema {{ types {{ ...B }} }} }} \
         fragment B on __Type {{ fields {{ type {{ {}name{} }} }} }}",
        "ofType { ".repeat(12),
        " }".repeat(12)
    );
    let error = app.error(&deep, json!({})).await;
    assert_eq!(code(&error), "LIMIT_EXCEEDED", "{error}");
}

/// The first error's code, field and rule.
fn refusal(body: &Value) -> (String, String, String) {
    let extensions = &body["errors"][0]["extensions"];
    let text = |key: &str| extensions[key].as_str().unwrap_or("none").to_string();
    (text("code"), text("field"), text("rule"))
}

fn charset(field: &str) -> (String, String, String) {
    ("BAD_USER_INPUT".into(), field.into(), "CHARSET".into())
}

async fn control_characters_are_refused_in_every_argument_and_nothing_is_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let customer = app.create_customer(json!({ "name": "acme" })).await;
    let id = customer["id"].as_str().unwrap().to_string();
    let events = app.event_count().await;

    // A variable, as in the issue.
    let body = app
        .graphql(
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": "a\u{0}b" }),
        )
        .await;
    assert_eq!(refusal(&body), charset("id"), "{body}");
    // A literal in the document (the escape is a NUL once parsed).
    let body = app
        .graphql(r#"{ customer(id: "a\u0000b") { id } }"#, json!({}))
        .await;
    assert_eq!(refusal(&body), charset("id"), "{body}");
    // A field of an input object, as a variable and as a literal.
    let body = app
        .graphql(
            "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }",
            json!({ "f": { "text": "ac\u{1}me" } }),
        )
        .await;
    assert_eq!(refusal(&body), charset("filter.text"), "{body}");
    let body = app
        .graphql(
            r#"query($t: String) { customers(filter: { seller: "sam", text: $t }) { totalCount } }"#,
            json!({ "t": "tab\there" }),
        )
        .await;
    assert_eq!(refusal(&body), charset("filter.text"), "{body}");
    // Free text of a mutation: nothing is written.
    let body = app
        .graphql(
            "mutation($id: ID!, $r: String) { requestDeletion(customerId: $id, reason: $r) { id } }",
            json!({ "id": id, "r": "bye\u{7}" }),
        )
        .await;
    assert_eq!(refusal(&body), charset("reason"), "{body}");
    let body = app
        .graphql(
            "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id } }",
            json!({ "input": { "name": "beta", "givenName": "Ann\u{0}" } }),
        )
        .await;
    assert_eq!(refusal(&body), charset("input.givenName"), "{body}");
    assert!(body["data"].is_null(), "{body}");
    let body = app
        .graphql(
            "mutation { createCustomer(input: { name: \"gamma\\u007f\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(refusal(&body), charset("input.name"), "{body}");
    assert_eq!(app.event_count().await, events, "nothing was written");
    assert_eq!(app.customer(&id).await["version"], customer["version"]);
    // Printable unicode is fine.
    app.create_customer(json!({ "name": "Ærøskøbing ☕" }))
        .await;
}

async fn every_error_has_a_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let customer = app.create_customer(json!({ "name": "acme" })).await;
    let id = customer["id"].as_str().unwrap().to_string();
    let cases = [
        (
            "{ customers { totalCount ",
            json!({}),
            "GRAPHQL_PARSE_FAILED",
            None,
        ),
        ("{ nope }", json!({}), "GRAPHQL_VALIDATION_FAILED", None),
        (
            "{ customer { id } }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
            None,
        ),
        (
            "{ customers(filter: { type: NOPE }) { totalCount } }",
            json!({}),
            "BAD_USER_INPUT",
            Some("filter.type"),
        ),
        (
            "query($f: CustomerFilter) { customers(filter: $f) { totalCount } }",
            json!({ "f": { "type": "NOPE" } }),
            "BAD_USER_INPUT",
            Some("filter.type"),
        ),
        (
            "query($id: ID!) { customerAsOf(id: $id, at: \"2024-01-01\") { id } }",
            json!({ "id": id }),
            "BAD_USER_INPUT",
            Some("at"),
        ),
        (
            "query($id: ID!, $at: DateTime!) { customerAsOf(id: $id, at: $at) { id } }",
            json!({ "id": id, "at": "2024-01-01" }),
            "BAD_USER_INPUT",
            Some("at"),
        ),
        (
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({}),
            "BAD_USER_INPUT",
            Some("id"),
        ),
        (
            "query A { __typename } query B { __typename }",
            json!({}),
            "GRAPHQL_VALIDATION_FAILED",
            None,
        ),
    ];
    for (query, variables, expected, field) in cases {
        let body = app.graphql(query, variables).await;
        let error = &body["errors"][0];
        assert_eq!(code(error), expected, "{query}: {body}");
        if let Some(field) = field {
            assert_eq!(error["extensions"]["field"], field, "{query}: {body}");
        }
    }
    // Over a WebSocket alike.
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    for (query, expected) in [
        ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
        ("{ customers { ", "GRAPHQL_PARSE_FAILED"),
        (
            "{ customers(filter: { type: NOPE }) { totalCount } }",
            "BAD_USER_INPUT",
        ),
    ] {
        client.subscribe("q", query, json!({})).await;
        let message = client.recv().await;
        assert_eq!(message["type"], "error", "{message}");
        assert_eq!(code(&message["payload"][0]), expected, "{query}: {message}");
    }
    client.close().await;
    // Metrics count them under their code.
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.contains("code=\"GRAPHQL_PARSE_FAILED\""),
        "{metrics}"
    );
}

fn hs256(header: &Header, claims: &Value) -> String {
    encode(
        header,
        claims,
        &EncodingKey::from_secret(clientele_tests::TEST_SECRET.as_bytes()),
    )
    .unwrap()
}

fn claims(tenant: &str, nbf_offset: Option<i64>) -> Value {
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({ "sub": "alice", "tenant": tenant, "role": "TENANT_ADMIN",
        "iss": "clientele", "aud": "clientele", "iat": now, "exp": now + 3600 });
    if let Some(offset) = nbf_offset {
        claims["nbf"] = json!(now + offset);
    }
    claims
}

async fn tokens_not_yet_valid_with_an_unknown_crit_or_without_a_tenant_are_refused(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let plain = Header::new(Algorithm::HS256);
    let critical = Header {
        crit: Some(vec!["exp".into()]),
        ..Header::new(Algorithm::HS256)
    };
    let accepted = [
        hs256(&plain, &claims("default", None)),
        hs256(&plain, &claims("default", Some(-60))),
    ];
    for token in accepted {
        let body = app.graphql_as(&token, "{ __typename }", json!({})).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let refused = [
        (
            hs256(&plain, &claims("default", Some(86_400))),
            "valid from tomorrow",
        ),
        (
            hs256(&critical, &claims("default", None)),
            "an unknown crit",
        ),
        (hs256(&plain, &claims("", None)), "an empty tenant"),
        (hs256(&plain, &claims("  ", None)), "a blank tenant"),
    ];
    for (token, what) in refused {
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&token)
            .json(&json!({ "query": "{ __typename }" }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{what}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            code(&body["errors"][0]),
            "UNAUTHENTICATED",
            "{what}: {body}"
        );
    }
    assert_eq!(app.event_count().await, 0);
}

/// Issue 13 §5: the unique key only caught other customers' users; a customer's own users
/// could share an email in any case.
async fn one_email_is_one_user_of_a_customer_case_insensitively(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.new_customer("acme", None).await;
    let add = |email: &str| json!({ "c": acme, "input": { "email": email, "userType": "CUSTOMER_USER" } });
    app.ok(ADD_USER, add("dup@example.org")).await;
    let events = app.event_count().await;
    for email in ["dup@example.org", "DUP@example.org"] {
        let error = app.error(ADD_USER, add(email)).await;
        assert_eq!(code(&error), "CONFLICT", "{email}: {error}");
        assert_eq!(error["extensions"]["field"], "input.email");
        assert_eq!(error["extensions"]["rule"], "UNIQUE");
    }
    let other = app.ok(ADD_USER, add("other@example.org")).await;
    let other = other["addCustomerUser"]["user"]["id"].as_str().unwrap();
    let edit = "mutation($c: ID!, $u: ID!, $input: EditCustomerUserInput!) { editCustomerUser(customerId: $c, userId: $u, input: $input) { email } }";
    let events_before_edit = app.event_count().await;
    assert_eq!(
        events_before_edit,
        events + 2,
        "only the third user was written"
    );
    let error = app
        .error(
            edit,
            json!({ "c": acme, "u": other, "input": { "email": "Dup@Example.org" } }),
        )
        .await;
    assert_eq!(code(&error), "CONFLICT", "{error}");
    assert_eq!(error["extensions"]["field"], "input.email");
    assert_eq!(error["extensions"]["rule"], "UNIQUE");
    assert_eq!(app.event_count().await, events_before_edit);
    let users = app
        .ok(
            "query($c: ID!) { customer(id: $c) { users { nodes { email } } } }",
            json!({ "c": acme }),
        )
        .await;
    assert_eq!(
        users["customer"]["users"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// A cursor past the end of the log was never given out: a subscriber resuming from it
/// would silently miss every event up to it.
async fn a_resume_cursor_beyond_the_end_of_the_log_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    app.new_customer("acme", None).await;
    let events = "subscription($after: String) { customerEvents(after: $after) { cursor } }";
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client
        .subscribe("all", events, json!({ "after": "0-0" }))
        .await;
    let mut last = None;
    while let Ok(message) = tokio::time::timeout(Duration::from_millis(500), client.recv()).await {
        last = Some(message["payload"]["data"]["customerEvents"]["cursor"].clone());
    }
    let last = last.unwrap().as_str().unwrap().to_string();
    let (tx, position) = last.split_once('-').unwrap();
    let position: i64 = position.parse().unwrap();
    let beyond = [
        format!("{tx}-{}", position + 1000),
        format!("{}-{}", i64::MAX, i64::MAX),
    ];
    for after in beyond {
        let mut client = WsClient::signed_in(&app.address, &app.token).await;
        client
            .subscribe("s", events, json!({ "after": after }))
            .await;
        let message = client.recv().await;
        assert_eq!(message["type"], "error", "{after}: {message}");
        let error = &message["payload"][0];
        assert_eq!(code(error), "BAD_USER_INPUT", "{after}: {error}");
        assert_eq!(error["extensions"]["field"], "after", "{error}");
    }
    // The last cursor given out is still a valid place to resume from.
    let mut client = WsClient::signed_in(&app.address, &app.token).await;
    client
        .subscribe("resume", events, json!({ "after": last }))
        .await;
    client.assert_silent(Duration::from_millis(300)).await;
}

/// Every file of the SQLite data directory (`-wal` and `-shm` included) that holds `needle`.
fn files_holding(database_url: &str, needle: &[u8]) -> Vec<String> {
    let file = database_url.strip_prefix("sqlite://").unwrap();
    let dir = std::path::Path::new(file).parent().unwrap();
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        if bytes.windows(needle.len()).any(|w| w == needle) {
            found.push(path.display().to_string());
        }
    }
    found
}

/// Once deleteCustomer has answered, the personal fields are gone from the database: on
/// SQLite from the bytes of its files (WAL checkpointed and truncated, freed pages zeroed);
/// on PostgreSQL from every row of every table (dead tuples stay until VACUUM: README).
async fn no_byte_of_a_deleted_customers_personal_fields_is_left_in_the_database(backend: Backend) {
    let app = spawn_app(backend).await;
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let email = format!("erase-{tag}@example.org");
    let given = format!("Given{tag}");
    let user_email = format!("user-{tag}@example.org");
    let customer = app
        .create_customer(json!({ "name": "erased", "email": email, "givenName": given, "city": format!("City{tag}") }))
        .await;
    let id = customer["id"].as_str().unwrap();
    app.ok(
        ADD_USER,
        json!({ "c": id, "input": { "email": user_email, "userType": "CUSTOMER_USER" } }),
    )
    .await;
    let needles = [email, given, user_email, format!("City{tag}")];
    if backend == Backend::Sqlite {
        assert!(
            !files_holding(&app.database.url, needles[0].as_bytes()).is_empty(),
            "the probe finds the email before the delete"
        );
    }
    app.ok(
        "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"erased\") { id } }",
        json!({ "id": id }),
    )
    .await;
    for needle in &needles {
        match backend {
            Backend::Sqlite => {
                let found = files_holding(&app.database.url, needle.as_bytes());
                assert!(found.is_empty(), "{needle} is still in {found:?}");
            }
            Backend::Postgres => {
                let clientele_store::Db::Postgres(pool) = app.store.db() else {
                    unreachable!("a PostgreSQL app")
                };
                let tables: Vec<(String,)> = sqlx::query_as(
                    "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
                )
                .fetch_all(pool)
                .await
                .unwrap();
                for (table,) in tables {
                    let sql = format!(
                        "SELECT count(*) FROM \"{table}\" t WHERE t::text LIKE '%' || $1 || '%'"
                    );
                    let (n,): (i64,) = sqlx::query_as(&sql)
                        .bind(needle)
                        .fetch_one(pool)
                        .await
                        .unwrap();
                    assert_eq!(n, 0, "{needle} is still in {table}");
                }
            }
        }
    }
}

/// Issue 14 §2: customer and user ids are UUIDs, parsed before SQL. A malformed customer id
/// is answered like an unknown one (null, NOT_FOUND); the others are refused naming their
/// argument. Nothing is written.
async fn a_malformed_uuid_id_is_refused_naming_its_argument_before_any_sql(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.new_customer("acme", None).await;
    let user = app
        .ok(ADD_USER, json!({ "c": acme, "input": { "email": "u@example.org", "userType": "CUSTOMER_USER" } }))
        .await;
    let user = user["addCustomerUser"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let events = app.event_count().await;
    let edit_user = "mutation($c: ID!, $u: ID!) { editCustomerUser(customerId: $c, userId: $u, input: { givenName: \"X\" }) { id } }";
    for bad in [
        "nope",
        "' OR 1=1 --",
        "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz",
        &"9".repeat(5000),
    ] {
        let cases = [
            ("mutation($p: ID) { moveCustomer(id: \"0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b\", parentId: $p) { id } }", json!({ "p": bad }), "parentId", "UNKNOWN_CUSTOMER"),
            ("mutation($p: ID) { createCustomer(input: { name: \"orphan\", parentId: $p }) { id } }", json!({ "p": bad }), "input.parentId", "UNKNOWN_CUSTOMER"),
            ("subscription($c: ID) { customerEvents(filter: { customerId: $c }) { cursor } }", json!({ "c": bad }), "filter.customerId", "FORMAT"),
        ];
        for (query, variables, field, rule) in cases {
            let error = app.error(query, variables).await;
            assert_eq!(code(&error), "BAD_USER_INPUT", "{query}: {error}");
            assert_eq!(error["extensions"]["field"], field, "{query}: {error}");
            assert_eq!(error["extensions"]["rule"], rule, "{query}: {error}");
        }
        let none = app
            .ok(
                "query($c: ID!) { customer(id: $c) { id } }",
                json!({ "c": bad }),
            )
            .await;
        assert_eq!(none["customer"], Value::Null);
        let error = app
            .error(
                "mutation($c: ID!) { requestDeletion(customerId: $c) { id } }",
                json!({ "c": bad }),
            )
            .await;
        assert_eq!(code(&error), "NOT_FOUND", "{error}");
        let error = app.error(edit_user, json!({ "c": acme, "u": bad })).await;
        assert_eq!(code(&error), "NOT_FOUND", "{error}");
    }
    // A well-formed UUID that names nothing is still NOT_FOUND, or null for customer(id).
    let unknown = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    let none = app
        .ok(
            "query($c: ID!) { customer(id: $c) { id } }",
            json!({ "c": unknown }),
        )
        .await;
    assert_eq!(none["customer"], Value::Null);
    let error = app
        .error(edit_user, json!({ "c": acme, "u": unknown }))
        .await;
    assert_eq!(code(&error), "NOT_FOUND", "{error}");
    assert_eq!(app.event_count().await, events, "nothing was written");
    let _ = user;
}

/// Issue 14 §4: a 60 KB `x-request-id` was stored in every event; a non-UTF-8 one was
/// echoed but recorded as "". Such ids are replaced by a UUID, used everywhere.
async fn a_request_id_that_is_too_long_or_not_printable_ascii_is_replaced_everywhere(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let long = "r".repeat(60_000);
    let cases: [(&str, Vec<u8>); 4] = [
        ("60 KB", long.into_bytes()),
        ("129 bytes", vec![b'a'; 129]),
        ("not UTF-8", vec![b'i', b'd', 0xff, 0xfe]),
        ("a space", b"req 1".to_vec()),
    ];
    for (n, (what, id)) in cases.into_iter().enumerate() {
        let create = json!({ "query": format!("mutation {{ createCustomer(input: {{ name: \"rid{n}\" }}) {{ id }} }}") });
        let response = app
            .client
            .post(format!("{}/graphql", app.address))
            .bearer_auth(&app.token)
            .header(
                "x-request-id",
                reqwest::header::HeaderValue::from_bytes(&id).unwrap(),
            )
            .json(&create)
            .send()
            .await
            .unwrap();
        let echoed = response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(uuid::Uuid::try_parse(&echoed).is_ok(), "{what}: {echoed}");
        let body: Value = response.json().await.unwrap();
        let customer = body["data"]["createCustomer"]["id"].as_str().unwrap();
        assert_eq!(
            app.history(customer).await[0]["requestId"],
            echoed.as_str(),
            "{what}"
        );
    }
    // A bounded printable id is kept as the client sent it.
    let kept = "a".repeat(128);
    let create =
        json!({ "query": "mutation { createCustomer(input: { name: \"kept\" }) { id } }" });
    let response = app
        .post_json(Some(&app.token), &[("x-request-id", &kept)], &create)
        .await;
    assert_eq!(response.headers()["x-request-id"], kept.as_str());
    let body: Value = response.json().await.unwrap();
    let customer = body["data"]["createCustomer"]["id"].as_str().unwrap();
    assert_eq!(app.history(customer).await[0]["requestId"], kept.as_str());
}
