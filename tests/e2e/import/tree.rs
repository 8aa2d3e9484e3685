//! The tree and product visibility in CSV: `parent` (a name) or `parentId`, and one
//! `visible:KEY` column per catalogue product.

use clientele_graphql::Role;
use clientele_tests::{mint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    an_export_of_a_tree_with_visibility_imports_into_an_empty_tenant_as_the_same_tree,
    a_child_before_its_parent_in_the_file_still_imports_in_every_mode,
);

pub(super) const RESULT: &str = "rows created updated skipped failed nothingWritten columns failures { line column rule message }";

pub(super) async fn upload_as(app: &TestApp, token: &str, csv: &str, mode: &str) -> Value {
    let arguments = format!(", mode: {mode}, onExisting: SKIP");
    let body = app
        .import_as(token, csv.as_bytes(), &arguments, RESULT)
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["importCustomers"].clone()
}

async fn export_as(app: &TestApp, token: &str) -> String {
    let body = app
        .graphql_as(token, "{ exportCustomers }", json!({}))
        .await;
    body["data"]["exportCustomers"]
        .as_str()
        .unwrap_or_else(|| panic!("{body:#}"))
        .to_string()
}

/// The rows of an export by name: each row's cells by header.
fn rows(csv: &str) -> Vec<Vec<(String, String)>> {
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    reader
        .records()
        .map(|r| {
            let record = r.unwrap();
            headers
                .iter()
                .cloned()
                .zip(record.iter().map(String::from))
                .collect()
        })
        .collect()
}

fn cell<'a>(row: &'a [(String, String)], header: &str) -> &'a str {
    &row.iter()
        .find(|(h, _)| h == header)
        .unwrap_or_else(|| panic!("no {header}"))
        .1
}

/// Every parent named in an export is written before the row that names it.
fn assert_parents_first(csv: &str) {
    let mut seen = Vec::new();
    for row in rows(csv) {
        let parent = cell(&row, "parent");
        assert!(
            parent.is_empty() || seen.iter().any(|n| n == parent),
            "{parent} after its child: {csv}"
        );
        seen.push(cell(&row, "name").to_string());
    }
}

pub(super) async fn tree_of(app: &TestApp, token: &str) -> Value {
    let query = "{ customers(first: 50, filter: { ownCompany: false }, orderBy: { field: NAME }) { edges { node { name parent { name } products { key visible visibilitySource } } } } }";
    let body = app.graphql_as(token, query, json!({})).await;
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"]["customers"]["edges"].clone()
}

async fn set_visibility(app: &TestApp, id: &str, product: &str, visible: bool) {
    app.ok(
        "mutation($id: ID!, $p: String!, $v: Boolean!) { setProductVisibility(customerId: $id, product: $p, visible: $v) { version } }",
        json!({ "id": id, "p": product, "v": visible }),
    )
    .await;
}

async fn an_export_of_a_tree_with_visibility_imports_into_an_empty_tenant_as_the_same_tree(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let root = app.new_customer("acme", None).await;
    let middle = app.new_customer("acme-eu", Some(&root)).await;
    let leaf = app.new_customer("acme-eu-paris", Some(&middle)).await;
    set_visibility(&app, &root, "CDN", true).await;
    set_visibility(&app, &root, "DNS", false).await;
    set_visibility(&app, &middle, "CLOUD", true).await;
    set_visibility(&app, &leaf, "CDN", false).await;
    // A customer created before the parent it was moved under: the export holds it back.
    let moved = app.new_customer("zeta", None).await;
    let holding = app.new_customer("holding", None).await;
    app.ok(
        "mutation($id: ID!, $p: ID) { moveCustomer(id: $id, parentId: $p) { id } }",
        json!({ "id": moved, "p": holding }),
    )
    .await;
    let a = export_as(&app, &app.token).await;
    let header = a.lines().next().unwrap();
    assert!(header.ends_with(",parent,visible:CDN,visible:CLOUD,visible:DDOS,visible:DNS,visible:STORAGE,visible:STREAMING"), "{header}");
    assert_parents_first(&a);
    let exported = rows(&a);
    let paris = exported
        .iter()
        .find(|r| cell(r, "name") == "acme-eu-paris")
        .unwrap();
    assert_eq!(
        (
            cell(paris, "parent"),
            cell(paris, "visible:CDN"),
            cell(paris, "visible:DNS")
        ),
        ("acme-eu", "false", "")
    );

    let other = mint("admin-b", "beta", Role::TenantAdmin, None);
    let report = upload_as(&app, &other, &a, "PARTIAL").await;
    assert_eq!(
        (&report["created"], &report["failed"]),
        (&json!(5), &json!(0)),
        "{report:#}"
    );
    let b = export_as(&app, &other).await;
    assert_parents_first(&b);
    let sorted = |csv: &str| {
        let mut rows = rows(csv);
        rows.sort();
        rows
    };
    assert_eq!(
        sorted(&b),
        sorted(&a),
        "the same rows, parents and visibility:\n{a}\n{b}"
    );
    assert_eq!(tree_of(&app, &other).await, tree_of(&app, &app.token).await);
    let again = upload_as(&app, &other, &a, "PARTIAL").await;
    assert_eq!(
        (&again["skipped"], &again["created"]),
        (&json!(5), &json!(0)),
        "{again:#}"
    );
}

async fn a_child_before_its_parent_in_the_file_still_imports_in_every_mode(backend: Backend) {
    let app = spawn_app(backend).await;
    let file = "Name,Parent,Product CDN Visible\n\
                leaf,middle,true\n\
                middle,top,\n\
                top,,false\n\
                other,,\n";
    for mode in ["DRY_RUN", "ALL_OR_NOTHING"] {
        let before = app.event_count().await;
        let report = upload_as(&app, &app.token, file, mode).await;
        if mode == "DRY_RUN" {
            assert_eq!(
                (
                    &report["created"],
                    &report["failed"],
                    &report["nothingWritten"]
                ),
                (&json!(4), &json!(0), &json!(true)),
                "{report:#}"
            );
            assert_eq!(app.event_count().await, before);
        } else {
            assert_eq!(
                (
                    &report["created"],
                    &report["failed"],
                    &report["nothingWritten"]
                ),
                (&json!(4), &json!(0), &json!(false)),
                "{report:#}"
            );
        }
    }
    let tree = tree_of(&app, &app.token).await;
    let parent_of = |name: &str| {
        tree.as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["name"] == name)
            .unwrap()["node"]["parent"]["name"]
            .clone()
    };
    assert_eq!(
        (parent_of("leaf"), parent_of("middle"), parent_of("top")),
        (json!("middle"), json!("top"), Value::Null)
    );
    let cdn = |name: &str| {
        let node = &tree
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["node"]["name"] == name)
            .unwrap()["node"];
        node["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == "CDN")
            .unwrap()
            .clone()
    };
    assert_eq!(cdn("leaf")["visible"], true);
    assert_eq!(cdn("top")["visible"], false);
    assert_eq!(
        cdn("top")["visibilitySource"],
        cdn("leaf")["visibilitySource"]
    );
    assert_ne!(
        cdn("middle")["visibilitySource"],
        cdn("leaf")["visibilitySource"],
        "an empty cell sets no override"
    );
    // A partial import in an empty tenant, with 280 rows (more than a batch) ahead of
    // their parents, and those ahead of theirs.
    let other = mint("admin-b", "beta", Role::TenantAdmin, None);
    let mut file = String::from("Name,Parent\n");
    for i in 0..280 {
        file.push_str(&format!("leaf-{i},mid-{}\n", i % 10));
    }
    for j in 0..10 {
        file.push_str(&format!("mid-{j},top\n"));
    }
    file.push_str("top,\n");
    let report = upload_as(&app, &other, &file, "PARTIAL").await;
    assert_eq!(
        (&report["created"], &report["failed"]),
        (&json!(291), &json!(0)),
        "{report:#}"
    );
    let leaf = app
        .graphql_as(
            &other,
            "{ customers(filter: { text: \"leaf-279\" }) { edges { node { ancestors { name } } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        leaf["data"]["customers"]["edges"][0]["node"]["ancestors"],
        json!([{ "name": "top" }, { "name": "mid-9" }]),
        "{leaf:#}"
    );
}
