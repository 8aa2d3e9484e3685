//! The address fields `state`, `zip` and `address2` end to end (rules, create, edit, the
//! as-of view, search, history, CSV, erasure), and the name-conflict policy of
//! createCustomer (FAIL, or UNIQUIFY with a suffix that the answer reports), also under
//! concurrent creates.

use clientele_tests::{code, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    state_zip_and_address2_are_created_edited_cleared_and_shown_as_of,
    the_address_fields_obey_their_rules_and_refusals_write_nothing,
    the_text_filter_and_the_csv_carry_the_address_fields,
    deletion_erases_state_zip_and_address2,
    a_taken_name_fails_by_default_and_writes_nothing,
    uniquify_takes_the_first_free_suffix_and_says_so,
    concurrent_uniquify_creates_of_one_name_all_succeed_under_different_names,
);

const ADDRESS: &str = "id version state zip address2 address city";

async fn create(app: &TestApp, input: Value) -> Value {
    let query = format!("mutation($input: CreateCustomerInput!) {{ createCustomer(input: $input) {{ {ADDRESS} createdAt }} }}");
    app.ok(&query, json!({ "input": input })).await["createCustomer"].clone()
}

async fn state_zip_and_address2_are_created_edited_cleared_and_shown_as_of(backend: Backend) {
    let app = spawn_app(backend).await;
    let created = create(
        &app,
        json!({ "name": "acme", "address": "1 Main St", "address2": "  Suite 4  ",
            "state": "NY", "zip": "10001", "city": "New York" }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(
        (&created["state"], &created["zip"], &created["address2"]),
        (&json!("NY"), &json!("10001"), &json!("Suite 4")),
        "trimmed like every text field: {created}"
    );
    let query = format!("mutation($id: ID!, $input: EditCustomerInput!) {{ editCustomer(id: $id, expectedVersion: 1, input: $input) {{ {ADDRESS} }} }}");
    let edited = app
        .ok(
            &query,
            json!({ "id": id, "input": { "address2": "Floor 2", "zip": null } }),
        )
        .await["editCustomer"]
        .clone();
    assert_eq!(edited["address2"], "Floor 2");
    assert_eq!(edited["zip"], Value::Null, "null clears it");
    assert_eq!(edited["state"], "NY", "left out stays");
    let stored = app
        .ok(
            &format!("query($id: ID!) {{ customer(id: $id) {{ {ADDRESS} }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(stored["customer"]["address2"], "Floor 2");
    // The history carries them: the creation whole, the edit only what changed.
    let history = app.history(&id).await;
    let profile = &history[0]["payload"]["profile"];
    assert_eq!(
        (&profile["state"], &profile["zip"], &profile["address2"]),
        (&json!("NY"), &json!("10001"), &json!("Suite 4"))
    );
    assert_eq!(
        history[1]["payload"]["changes"],
        json!({ "address2": "Floor 2", "cleared": ["ZIP"] })
    );
    // As of the creation, the customer had the first values.
    let as_of = app
        .ok(
            "query($id: ID!, $at: DateTime!) { customerAsOf(id: $id, at: $at) { version state zip address2 } }",
            json!({ "id": id, "at": created["createdAt"] }),
        )
        .await;
    assert_eq!(
        as_of["customerAsOf"],
        json!({ "version": 1, "state": "NY", "zip": "10001", "address2": "Suite 4" })
    );
}

async fn the_address_fields_obey_their_rules_and_refusals_write_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let rules = app
        .ok(
            "{ customerFieldRules { field inputName format maxLength clearable customerEditable } }",
            json!({}),
        )
        .await;
    let all = rules["customerFieldRules"].as_array().unwrap();
    let rule = |name: &str| all.iter().find(|r| r["inputName"] == name).cloned();
    for (name, field, max) in [
        ("state", "STATE", 100),
        ("zip", "ZIP", 100),
        ("address2", "ADDRESS2", 500),
    ] {
        assert_eq!(
            rule(name).unwrap_or_default(),
            json!({ "field": field, "inputName": name, "format": "TEXT", "maxLength": max, "clearable": true, "customerEditable": true })
        );
    }
    let before = app.event_count().await;
    for (field, value, rule) in [
        ("state", "s".repeat(101), "LENGTH"),
        ("zip", "1".repeat(101), "LENGTH"),
        ("address2", "a".repeat(501), "LENGTH"),
        ("address2", "a\u{7}b".to_string(), "CHARSET"),
    ] {
        let body = app
            .create_customer_error(json!({ "name": "too-long", field: value }))
            .await;
        let ext = &body["extensions"];
        let (kind, at, broken) = (&ext["code"], &ext["field"], &ext["rule"]);
        assert_eq!(
            (kind, at, broken),
            (
                &json!("BAD_USER_INPUT"),
                &json!(format!("input.{field}")),
                &json!(rule)
            )
        );
    }
    let at_limit = create(
        &app,
        json!({ "name": "at-limit", "state": "s".repeat(100), "address2": "a".repeat(500) }),
    )
    .await;
    let id = at_limit["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.event_count().await,
        before + 1,
        "only the valid create wrote"
    );
    let body = app
        .edit_customer_raw(&id, None, json!({ "zip": "9".repeat(101) }))
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.zip");
    assert_eq!(app.event_count().await, before + 1, "nothing written");
}

async fn found(app: &TestApp, text: &str) -> Vec<String> {
    let data = app
        .ok(
            "query($t: String!) { customers(filter: { text: $t }) { edges { node { name } } } }",
            json!({ "t": text }),
        )
        .await;
    data["customers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn the_text_filter_and_the_csv_carry_the_address_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    create(
        &app,
        json!({ "name": "north", "state": "Baden-Württemberg", "zip": "70173", "address2": "Hinterhaus" }),
    )
    .await;
    create(&app, json!({ "name": "south", "state": "Bayern" })).await;
    assert_eq!(found(&app, "wurttemberg").await, ["north"]);
    assert_eq!(found(&app, "70173").await, ["north"]);
    assert_eq!(found(&app, "HINTERHAUS").await, ["north"]);
    assert_eq!(found(&app, "bayern").await, ["south"]);
    // The export has the columns (after the older ones), and imports back to the same.
    let csv = app.ok("{ exportCustomers }", json!({})).await["exportCustomers"]
        .as_str()
        .unwrap()
        .to_string();
    let header = csv.lines().next().unwrap();
    assert!(
        header.contains(",phone,state,zip,address2,parent,"),
        "{header}"
    );
    let fresh = spawn_app(backend).await;
    let result = fresh
        .import_as(&fresh.token, csv.as_bytes(), "", "created failed")
        .await;
    assert_eq!(
        result["data"]["importCustomers"],
        json!({ "created": 2, "failed": 0 }),
        "{result}"
    );
    assert_eq!(found(&fresh, "70173").await, ["north"]);
    let north = fresh
        .ok(
            "{ customers(filter: { text: \"north\" }) { edges { node { state zip address2 } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        north["customers"]["edges"][0]["node"],
        json!({ "state": "Baden-Württemberg", "zip": "70173", "address2": "Hinterhaus" })
    );
    // An import names them in any case, with spaces (e.g. "Address 2", "ZIP").
    let result = fresh
        .import_as(
            &fresh.token,
            b"Name,State,ZIP,Address 2\nwest,Oregon,97201,Unit 9\n",
            "",
            "created failed",
        )
        .await;
    assert_eq!(
        result["data"]["importCustomers"],
        json!({ "created": 1, "failed": 0 }),
        "{result}"
    );
    assert_eq!(found(&fresh, "unit 9").await, ["west"]);
}

async fn deletion_erases_state_zip_and_address2(backend: Backend) {
    const SECRETS: [&str; 3] = ["Zqstate4411", "ZQ-4411", "Zqline4411"];
    let app = spawn_app(backend).await;
    let created = create(
        &app,
        json!({ "name": "erasable", "state": SECRETS[0], "zip": SECRETS[1], "address2": SECRETS[2] }),
    )
    .await;
    let id = created["id"].as_str().unwrap().to_string();
    let payloads = || async {
        let sql = match backend {
            Backend::Postgres => "SELECT payload::text FROM events",
            Backend::Sqlite => "SELECT payload FROM events",
        };
        let rows: Vec<(String,)> = app.store.db().fetch_all(sql, &[]).await.unwrap();
        rows.into_iter().map(|(p,)| p).collect::<Vec<_>>()
    };
    for payload in payloads().await {
        for secret in SECRETS {
            assert!(!payload.contains(secret), "{secret} is sealed in the log");
        }
    }
    assert_eq!(found(&app, "zqline4411").await, ["erasable"]);
    app.ok(
        "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"erasable\") { id } }",
        json!({ "id": id }),
    )
    .await;
    let customer = app
        .ok(
            &format!("query($id: ID!) {{ customer(id: $id) {{ {ADDRESS} accountStatus }} }}"),
            json!({ "id": id }),
        )
        .await;
    assert_eq!(customer["customer"]["accountStatus"], "DELETED");
    for field in ["state", "zip", "address2"] {
        assert_eq!(customer["customer"][field], Value::Null, "{field} erased");
        assert_eq!(
            app.history(&id).await[0]["payload"]["profile"][field],
            Value::Null,
            "{field} unreadable in the history"
        );
    }
    let filter = json!({ "text": "zqline4411", "includeDeleted": true });
    let data = app
        .ok(
            "query($f: CustomerFilter) { customers(filter: $f) { edges { node { id } } } }",
            json!({ "f": filter }),
        )
        .await;
    assert_eq!(
        data["customers"]["edges"],
        json!([]),
        "and from the search text"
    );
}

const NAMED: &str = "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id name nameUniquified requestedName shortname createdAt } }";

async fn create_named(app: &TestApp, input: Value) -> Value {
    app.ok(NAMED, json!({ "input": input })).await["createCustomer"].clone()
}

async fn a_taken_name_fails_by_default_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = create_named(&app, json!({ "name": "Acme Corp" })).await;
    assert_eq!(
        (
            &first["name"],
            &first["nameUniquified"],
            &first["requestedName"]
        ),
        (&json!("acme-corp"), &json!(false), &Value::Null)
    );
    let before = app.event_count().await;
    for input in [
        json!({ "name": "ACME corp" }),
        json!({ "name": "acme-corp", "nameConflict": "FAIL" }),
    ] {
        let body = app.graphql(NAMED, json!({ "input": input })).await;
        assert_eq!(code(&body), "CONFLICT", "{body}");
        let extensions = &body["errors"][0]["extensions"];
        assert_eq!(
            (&extensions["field"], &extensions["rule"]),
            (&json!("input.name"), &json!("UNIQUE"))
        );
    }
    assert_eq!(app.event_count().await, before, "nothing written");
}

async fn uniquify_takes_the_first_free_suffix_and_says_so(backend: Backend) {
    let app = spawn_app(backend).await;
    let uniquify = |name: &str| json!({ "name": name, "nameConflict": "UNIQUIFY" });
    let free = create_named(&app, uniquify("Acme")).await;
    assert_eq!(
        (
            &free["name"],
            &free["nameUniquified"],
            &free["requestedName"]
        ),
        (&json!("acme"), &json!(false), &Value::Null),
        "a free name is kept as it is"
    );
    let second = create_named(&app, uniquify("ACME")).await;
    assert_eq!(
        (
            &second["name"],
            &second["nameUniquified"],
            &second["requestedName"]
        ),
        (&json!("acme-2"), &json!(true), &json!("acme"))
    );
    let third = create_named(&app, uniquify("acme")).await;
    assert_eq!(third["name"], "acme-3");
    // Deleting acme-2 frees its name: the first free suffix is 2 again.
    app.ok(
        "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"acme-2\") { id } }",
        json!({ "id": second["id"] }),
    )
    .await;
    assert_eq!(create_named(&app, uniquify("acme")).await["name"], "acme-2");
    // The suffix stays within the name's 100 characters.
    let long = "n".repeat(100);
    create_named(&app, json!({ "name": long })).await;
    let trimmed = create_named(&app, uniquify(&long)).await;
    assert_eq!(trimmed["name"], format!("{}-2", "n".repeat(98)));
    assert_eq!(trimmed["requestedName"], long);
    // The event says so, and so does the customer as of its creation and later reads.
    let id = third["id"].as_str().unwrap();
    assert_eq!(app.history(id).await[0]["payload"]["requestedName"], "acme");
    let as_of = app
        .ok(
            "query($id: ID!, $at: DateTime!) { customerAsOf(id: $id, at: $at) { name nameUniquified requestedName } customer(id: $id) { requestedName } }",
            json!({ "id": id, "at": third["createdAt"] }),
        )
        .await;
    assert_eq!(
        as_of,
        json!({ "customerAsOf": { "name": "acme-3", "nameUniquified": true, "requestedName": "acme" },
                "customer": { "requestedName": "acme" } })
    );
    // Only the name is made unique: a taken shortname is refused under UNIQUIFY too.
    create_named(&app, json!({ "name": "short", "shortname": "taken1" })).await;
    let before = app.event_count().await;
    let body = app
        .graphql(
            NAMED,
            json!({ "input": { "name": "short", "shortname": "TAKEN1", "nameConflict": "UNIQUIFY" } }),
        )
        .await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.shortname");
    assert_eq!(app.event_count().await, before, "nothing written");
}

async fn concurrent_uniquify_creates_of_one_name_all_succeed_under_different_names(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    create_named(&app, json!({ "name": "rush" })).await;
    let creates = (0..6).map(|_| {
        app.graphql(
            NAMED,
            json!({ "input": { "name": "Rush", "nameConflict": "UNIQUIFY" } }),
        )
    });
    let answers = futures::future::join_all(creates).await;
    let mut names: Vec<String> = answers
        .iter()
        .map(|body| {
            assert!(
                body.get("errors").is_none(),
                "every create succeeds: {body}"
            );
            let created = &body["data"]["createCustomer"];
            assert_eq!(created["requestedName"], "rush");
            created["name"].as_str().unwrap().to_string()
        })
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["rush-2", "rush-3", "rush-4", "rush-5", "rush-6", "rush-7"],
        "each got its own suffix, the first free ones"
    );
}
