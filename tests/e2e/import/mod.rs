//! Bulk import and export of customers as CSV.

use clientele_server::{Command, ImportModeArg, OnExistingArg};
use clientele_tests::{on_both_backends, run_cli, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

mod parents;
mod tree;
mod unreadable;

on_both_backends!(
    the_documented_example_file_imports_as_is_and_twice_creates_nothing_new,
    any_column_either_delimiter_and_quoted_fields_are_read,
    each_failing_row_names_its_line_column_and_rule,
    all_or_nothing_and_dry_run_write_nothing,
    a_file_that_cannot_be_read_is_refused_whole,
    update_mode_changes_the_matched_customers,
    an_export_imports_back_to_the_same_customers,
    the_command_line_imports_a_file,
    all_or_nothing_refuses_two_rows_of_one_file_sharing_a_name_or_shortname,
    formula_cells_are_neutralised_on_export_and_restored_on_import,
    a_partial_import_written_in_runs_still_decides_and_reports_each_row,
);

const RESULT: &str = "rows created updated skipped failed nothingWritten columns failures { line column rule message }";

async fn upload(app: &TestApp, csv: &[u8], mode: &str, on_existing: &str) -> Value {
    let arguments = format!(", mode: {mode}, onExisting: {on_existing}");
    app.import_as(&app.token, csv, &arguments, RESULT).await
}

async fn import(app: &TestApp, csv: &[u8]) -> Value {
    let body = upload(app, csv, "PARTIAL", "SKIP").await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["importCustomers"].clone()
}

async fn names(app: &TestApp) -> Vec<String> {
    let data = app
        .ok("{ customers(first: 100, filter: { ownCompany: false }, orderBy: { field: NAME }) { edges { node { name } } } }", json!({}))
        .await;
    data["customers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn the_documented_example_file_imports_as_is_and_twice_creates_nothing_new(backend: Backend) {
    let app = spawn_app(backend).await;
    let file = b"Name\ntestcustomer\ntest-customer\ntest-the-customer\n";
    let first = import(&app, file).await;
    assert_eq!(
        (first["created"].clone(), first["failed"].clone()),
        (json!(3), json!(0))
    );
    assert_eq!(
        names(&app).await,
        ["test-customer", "test-the-customer", "testcustomer"]
    );
    let mut with_bom = vec![0xEF, 0xBB, 0xBF];
    with_bom.extend_from_slice(b"Name\r\nTEST CUSTOMER\r\nnew one\r\n");
    let again = import(&app, &with_bom).await;
    assert_eq!(
        again["skipped"], 1,
        "\"TEST CUSTOMER\" is test-customer: {again}"
    );
    assert_eq!(again["created"], 1);
    assert_eq!(names(&app).await.len(), 4);
    let twice = import(&app, b"Name\nsame\nsame\nSAME\n").await;
    assert_eq!(
        (twice["created"].clone(), twice["skipped"].clone()),
        (json!(1), json!(2)),
        "duplicates within a file: {twice}"
    );
}

async fn any_column_either_delimiter_and_quoted_fields_are_read(backend: Backend) {
    let app = spawn_app(backend).await;
    let file = "Name;E-mail;Given Name;short_name;TYPE;Test Account;Address;dataRetentionDays\n\
                Acme;ops@acme.example;Ann;acme1;mssp;yes;\"1 Main St; Floor 2\";45\n";
    let result = import(&app, file.as_bytes()).await;
    assert_eq!(result["created"], 1, "{result}");
    assert_eq!(
        result["columns"],
        json!([
            "name",
            "email",
            "givenName",
            "shortname",
            "type",
            "testAccount",
            "address",
            "dataRetentionDays"
        ])
    );
    let data = app
        .ok("{ customers(filter: { testAccount: true }) { edges { node { name email givenName shortname type testAccount address dataRetentionDays } } } }", json!({}))
        .await;
    assert_eq!(
        data["customers"]["edges"][0]["node"],
        json!({ "name": "acme", "email": "ops@acme.example", "givenName": "Ann", "shortname": "acme1", "type": "MSSP",
                "testAccount": true, "address": "1 Main St; Floor 2", "dataRetentionDays": 45 })
    );
}

async fn each_failing_row_names_its_line_column_and_rule(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(json!({ "name": "existing", "shortname": "taken" }))
        .await;
    let file = "Name,Email,Type,Shortname,Data Retention Days\n\
                good,ok@x.example,SLG,,\n\
                bad-email,nope,,,\n\
                bad-type,,GIANT,,\n\
                ,,,,\n\
                \" \",a@x.example,,,\n\
                dupe,,,TAKEN,\n\
                retention,,,,30\n";
    let result = import(&app, file.as_bytes()).await;
    assert_eq!(result["created"], 1);
    assert_eq!(result["failed"], 5);
    let failures: Vec<(i64, String, String)> = result["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_i64().unwrap(),
                f["column"].as_str().unwrap_or("").to_string(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected = [
        (3, "Email", "FORMAT"),
        (4, "Type", "FORMAT"),
        (6, "Name", "REQUIRED"),
        (7, "Shortname", "UNIQUE"),
        (8, "Data Retention Days", "ALLOWED_VALUES"),
    ];
    let expected: Vec<(i64, String, String)> = expected
        .iter()
        .map(|(l, c, r)| (*l, c.to_string(), r.to_string()))
        .collect();
    assert_eq!(failures, expected, "{result:#}");
    assert!(result["failures"][0]["message"]
        .as_str()
        .unwrap()
        .contains("email"));
}

async fn all_or_nothing_and_dry_run_write_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let file = b"Name,Email\nfirst,a@x.example\nsecond,broken\n";
    let before = app.event_count().await;
    let strict =
        upload(&app, file, "ALL_OR_NOTHING", "SKIP").await["data"]["importCustomers"].clone();
    assert_eq!(
        (strict["failed"].clone(), strict["nothingWritten"].clone()),
        (json!(1), json!(true))
    );
    assert_eq!(app.event_count().await, before);
    let dry = upload(&app, b"Name\nalpha\nbeta\n", "DRY_RUN", "SKIP").await["data"]
        ["importCustomers"]
        .clone();
    assert_eq!(
        (dry["created"].clone(), dry["nothingWritten"].clone()),
        (json!(2), json!(true)),
        "a dry run says what it would do"
    );
    assert_eq!(app.event_count().await, before);
    let clean = upload(&app, b"Name\nalpha\nbeta\n", "ALL_OR_NOTHING", "SKIP").await["data"]
        ["importCustomers"]
        .clone();
    assert_eq!(
        (clean["created"].clone(), clean["nothingWritten"].clone()),
        (json!(2), json!(false))
    );
}

async fn a_file_that_cannot_be_read_is_refused_whole(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases: [(&[u8], &str); 3] = [
        (b"Name,Colour\nacme,red\n", "Colour"),
        (b"Email\na@x.example\n", "Name column"),
        (b"Name\ncaf\xe9\n", "UTF-8"),
    ];
    for (file, says) in cases {
        let body = upload(&app, file, "PARTIAL", "SKIP").await;
        let error = &body["errors"][0];
        assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body}");
        assert_eq!(error["extensions"]["field"], "file");
        assert!(
            error["message"].as_str().unwrap().contains(says),
            "{says}: {body}"
        );
    }
    assert_eq!(app.event_count().await, 0);
}

async fn update_mode_changes_the_matched_customers(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, b"Name,City,Custom ID\nacme,Oslo,\nglobex,Rome,G-1\n").await;
    let body = upload(
        &app,
        b"Name,City,Custom ID\nacme,Bergen,\nglobex-renamed,Milan,G-1\n",
        "PARTIAL",
        "UPDATE",
    )
    .await;
    let result = &body["data"]["importCustomers"];
    assert_eq!(result["updated"], 2, "{body}");
    let data = app
        .ok("{ customers(filter: { ownCompany: false }, orderBy: { field: NAME }) { edges { node { name city customId } } } }", json!({}))
        .await;
    assert_eq!(
        data["customers"]["edges"],
        json!([
            { "node": { "name": "acme", "city": "Bergen", "customId": null } },
            { "node": { "name": "globex-renamed", "city": "Milan", "customId": "G-1" } }
        ]),
        "matched by name, or by customId (which renames)"
    );
}

async fn an_export_imports_back_to_the_same_customers(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(json!({ "name": "a", "email": "a@x.example", "shortname": "aaaaa", "type": "SLG", "serviceStatus": "TRIAL_ACTIVE",
        "contractualFlowsPerSecond": 10, "multiAccount": true, "dataRetentionDays": 90, "rollupRetentionDays": 365, "language": "fr",
        "seller": "bob", "customId": "A-1", "title": "A", "country": "FR", "city": "Paris", "address": "1, rue \"X\"", "phone": "+33 1" }))
        .await;
    app.create_customer(json!({ "name": "b", "testAccount": true }))
        .await;
    let csv = app.ok("{ exportCustomers }", json!({})).await["exportCustomers"]
        .as_str()
        .unwrap()
        .to_string();
    let fields = "name email givenName familyName organization shortname type serviceStatus contractualFlowsPerSecond multiAccount internal testAccount dataRetentionDays rollupRetentionDays language seller customId title country city address phone";
    let all = format!("{{ customers(filter: {{ ownCompany: false, testAccount: false }}) {{ edges {{ node {{ {fields} }} }} }} tests: customers(filter: {{ testAccount: true }}) {{ edges {{ node {{ {fields} }} }} }} }}");
    let original = app.ok(&all, json!({})).await;
    let fresh = spawn_app(backend).await;
    let result = import(&fresh, csv.as_bytes()).await;
    assert_eq!(
        (result["created"].clone(), result["failed"].clone()),
        (json!(2), json!(0)),
        "{result}"
    );
    assert_eq!(fresh.ok(&all, json!({})).await, original);
    let again = import(&app, csv.as_bytes()).await;
    assert_eq!(
        again["skipped"], 2,
        "re-importing an export changes nothing"
    );
}

async fn the_command_line_imports_a_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = std::env::temp_dir().join(format!("clientele-import-{}.csv", uuid::Uuid::new_v4()));
    let rows: String = (0..300)
        .map(|i| format!("customer {i},c{i}@x.example\n"))
        .collect();
    std::fs::write(&path, format!("Name,Email\n{rows}")).unwrap();
    let command = Command::Import {
        file: path.clone(),
        tenant: "default".into(),
        dry_run: false,
        mode: ImportModeArg::AllOrNothing,
        on_existing: OnExistingArg::Skip,
    };
    run_cli(&app.database, command)
        .await
        .expect("the import succeeds");
    assert_eq!(
        app.ok(
            "{ customers(filter: { ownCompany: false }) { totalCount } }",
            json!({})
        )
        .await["customers"]["totalCount"],
        300
    );
    std::fs::remove_file(path).unwrap();
}

async fn all_or_nothing_refuses_two_rows_of_one_file_sharing_a_name_or_shortname(backend: Backend) {
    let app = spawn_app(backend).await;
    for file in [
        &b"Name,shortname\nacme,acme-one\nglobex,globex-one\nACME,acme-two\n"[..],
        &b"Name,shortname\nacme,acme-one\nglobex,globex-one\ninitech,ACME-One\n"[..],
    ] {
        let body = upload(&app, file, "ALL_OR_NOTHING", "SKIP").await;
        let result = &body["data"]["importCustomers"];
        assert_eq!(result["nothingWritten"], true, "{body}");
        assert_eq!(result["failed"], 2, "{body}");
        assert_eq!(result["created"], 1, "{body}");
        let mut lines: Vec<(u64, String)> = result["failures"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["line"].as_u64().unwrap(),
                    f["rule"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        lines.sort();
        assert_eq!(
            lines,
            [(2, "UNIQUE".to_string()), (4, "UNIQUE".to_string())],
            "{body}"
        );
    }
    assert_eq!(app.event_count().await, 0);
}

async fn formula_cells_are_neutralised_on_export_and_restored_on_import(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_customer(json!({ "name": "formula", "organization": "=1+1", "city": "@home" }))
        .await;
    let csv = app.ok("{ exportCustomers }", json!({})).await["exportCustomers"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(csv.contains(",'=1+1,"), "{csv}");
    assert!(csv.contains(",'@home,"), "{csv}");
    assert!(!csv.contains(",=1+1,"), "{csv}");
    let fresh = spawn_app(backend).await;
    let report = import(&fresh, csv.as_bytes()).await;
    assert_eq!(report["created"], 1, "{report}");
    let back = fresh
        .ok("{ customers(first: 5, filter: { ownCompany: false }) { edges { node { organization city } } } }", json!({}))
        .await;
    assert_eq!(
        back["customers"]["edges"][0]["node"],
        json!({ "organization": "=1+1", "city": "@home" })
    );
}

/// New customers are written a run per transaction; a run that meets a row it cannot take
/// (a name an earlier row of the same run took, a shortname another customer holds) is
/// written row by row, so each row still comes out as it would alone, in the file's order.
async fn a_partial_import_written_in_runs_still_decides_and_reports_each_row(backend: Backend) {
    let app = spawn_app(backend).await;
    import(&app, b"Name,Shortname\nheld,HELDX\n").await;
    let body = upload(
        &app,
        b"Name,City,Shortname\nalpha,Oslo,\nbeta,Rome,\nalpha,Bergen,\ngamma,Paris,heldx\ndelta,Lima,\n",
        "PARTIAL",
        "UPDATE",
    )
    .await;
    let result = &body["data"]["importCustomers"];
    assert_eq!(
        (&result["created"], &result["updated"], &result["failed"]),
        (&json!(3), &json!(1), &json!(1)),
        "{body:#}"
    );
    assert_eq!(result["failures"][0]["line"], 5, "{body:#}");
    assert_eq!(result["failures"][0]["rule"], "UNIQUE", "{body:#}");
    assert_eq!(names(&app).await, ["alpha", "beta", "delta", "held"]);
    let data = app
        .ok(
            "{ customers(filter: { text: \"alpha\" }) { edges { node { city version } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["customers"]["edges"][0]["node"],
        json!({ "city": "Bergen", "version": 2 }),
        "the third row updated the customer the first row created"
    );
    // Every row is its own command: a new customer has its one CustomerCreated event.
    for name in ["beta", "delta"] {
        let query = format!(
            "{{ customers(filter: {{ text: \"{name}\" }}) {{ edges {{ node {{ version }} }} }} }}"
        );
        let data = app.ok(&query, json!({})).await;
        assert_eq!(
            data["customers"]["edges"][0]["node"]["version"], 1,
            "{name}"
        );
    }
}
