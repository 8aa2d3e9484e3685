//! Parents that a file names but no row creates, rows that are their own ancestors,
//! parents by id, and the visibility columns' values and products.

use clientele_graphql::Role;
use clientele_tests::{mint, on_both_backends, spawn_app, Backend};
use serde_json::{json, Value};

use super::tree::{tree_of, upload_as, RESULT};

on_both_backends!(
    a_parent_no_row_creates_fails_its_row_and_all_or_nothing_writes_nothing,
    parent_ids_visibility_values_and_unknown_products_are_checked,
    an_update_sets_visibility_but_moves_nothing_and_a_seller_names_only_its_own_parents,
);

async fn a_parent_no_row_creates_fails_its_row_and_all_or_nothing_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    app.new_customer("exists", None).await;
    let file = "Name,Parent\n\
                fine,exists\n\
                orphan,nowhere\n\
                grandchild,orphan\n\
                loop-a,loop-b\n\
                loop-b,loop-a\n\
                itself,itself\n\
                bad-parent,bad-row\n\
                bad-row,\n\
                bad-row,\n";
    let failures = |report: &Value| -> Vec<(i64, String, String)> {
        let mut all: Vec<(i64, String, String)> = report["failures"]
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
        all.sort();
        all.dedup();
        all
    };
    let expected: Vec<(i64, String, String)> = [
        (3, "Parent", "UNKNOWN_CUSTOMER"),
        (4, "Parent", "UNKNOWN_CUSTOMER"),
        (5, "Parent", "CYCLE"),
        (6, "Parent", "CYCLE"),
        (7, "Parent", "CYCLE"),
        (8, "Parent", "UNKNOWN_CUSTOMER"),
        (9, "Name", "UNIQUE"),
        (10, "Name", "UNIQUE"),
    ]
    .iter()
    .map(|(l, c, r)| (*l, c.to_string(), r.to_string()))
    .collect();
    let before = app.event_count().await;
    let strict = upload_as(&app, &app.token, file, "ALL_OR_NOTHING").await;
    assert_eq!(
        (
            &strict["failed"],
            &strict["created"],
            &strict["nothingWritten"]
        ),
        (&json!(8), &json!(1), &json!(true)),
        "{strict:#}"
    );
    assert_eq!(failures(&strict), expected, "{strict:#}");
    assert!(
        strict["failures"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("nowhere")),
        "{strict:#}"
    );
    assert_eq!(app.event_count().await, before, "nothing written");
    // A partial import writes the row whose parent exists and fails the same rows: the
    // second bad-row is skipped as the first one's repeat rather than failed, so
    // bad-parent goes under it.
    let partial = upload_as(&app, &app.token, file, "PARTIAL").await;
    let names: Vec<i64> = failures(&partial).iter().map(|f| f.0).collect();
    assert_eq!(names, [3, 4, 5, 6, 7], "{partial:#}");
    assert_eq!(
        (&partial["created"], &partial["skipped"], &partial["failed"]),
        (&json!(3), &json!(1), &json!(5)),
        "{partial:#}"
    );
}

async fn parent_ids_visibility_values_and_unknown_products_are_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let top = app.new_customer("top", None).await;
    let unknown = uuid::Uuid::now_v7();
    let file = format!(
        "Name,Parent ID,visible:cdn\n\
         by-id,{top},yes\n\
         no-such-id,{unknown},\n\
         not-an-id,42,\n\
         bad-value,,maybe\n"
    );
    let report = upload_as(&app, &app.token, &file, "PARTIAL").await;
    assert_eq!(
        (&report["created"], &report["failed"]),
        (&json!(1), &json!(3)),
        "{report:#}"
    );
    let failed: Vec<(i64, &str, &str)> = report["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["line"].as_i64().unwrap(),
                f["column"].as_str().unwrap(),
                f["rule"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        failed,
        [
            (3, "Parent ID", "UNKNOWN_CUSTOMER"),
            (4, "Parent ID", "UNKNOWN_CUSTOMER"),
            (5, "visible:cdn", "FORMAT")
        ]
    );
    let tree = tree_of(&app, &app.token).await;
    assert_eq!(tree[0]["node"]["name"], "by-id");
    assert_eq!(tree[0]["node"]["parent"]["name"], "top");
    let both = upload_as(
        &app,
        &app.token,
        &format!("Name,Parent,Parent ID\nx,top,{top}\n"),
        "PARTIAL",
    )
    .await;
    assert_eq!(both["failures"][0]["rule"], "FORMAT", "{both:#}");
    let before = app.event_count().await;
    let body = app
        .import_as(
            &app.token,
            b"Name,visible:CDN,Product Teleport Visible,visible:WARP\nx,true,,\n",
            "",
            RESULT,
        )
        .await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{body:#}");
    assert_eq!(error["extensions"]["field"], "file", "{body:#}");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("Product Teleport Visible"),
        "{body:#}"
    );
    let body = app
        .import_as(
            &app.token,
            b"Name,visible:CDN,visible:WARP\nx,true,\n",
            "",
            RESULT,
        )
        .await;
    let message = body["errors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("visible:WARP") && message.contains("products"),
        "{body:#}"
    );
    assert_eq!(
        app.event_count().await,
        before,
        "a refused file writes nothing"
    );
}

async fn an_update_sets_visibility_but_moves_nothing_and_a_seller_names_only_its_own_parents(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    app.new_customer("top", None).await;
    app.new_customer("acme", None).await;
    let file = "Name,Parent,visible:CDN,visible:DNS\nacme,top,true,false\n";
    let body = app
        .import_as(
            &app.token,
            file.as_bytes(),
            ", mode: ALL_OR_NOTHING, onExisting: UPDATE",
            RESULT,
        )
        .await;
    let report = &body["data"]["importCustomers"];
    assert_eq!(
        (&report["updated"], &report["failed"]),
        (&json!(1), &json!(0)),
        "{body:#}"
    );
    let tree = tree_of(&app, &app.token).await;
    let acme = &tree[0]["node"];
    assert_eq!(acme["name"], "acme");
    assert_eq!(acme["parent"], Value::Null, "an update moves no customer");
    let visible = |key: &str| {
        acme["products"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["key"] == key)
            .unwrap()["visible"]
            .clone()
    };
    assert_eq!(
        (visible("CDN"), visible("DNS")),
        (json!(true), json!(false)),
        "{acme:#}"
    );

    app.create_customer(json!({ "name": "bobs", "seller": "bob" }))
        .await;
    app.create_customer(json!({ "name": "sams", "seller": "sam" }))
        .await;
    let sam = mint("sam", "default", Role::Seller, None);
    let file = "Name,Parent\nmine,bobs\nmine-too,sams\n";
    let report = upload_as(&app, &sam, file, "PARTIAL").await;
    assert_eq!(
        (&report["created"], &report["failed"]),
        (&json!(1), &json!(1)),
        "{report:#}"
    );
    assert_eq!(report["failures"][0]["line"], 2, "{report:#}");
    assert_eq!(report["failures"][0]["column"], "Parent", "{report:#}");
    assert_eq!(
        report["failures"][0]["rule"], "UNKNOWN_CUSTOMER",
        "{report:#}"
    );
}
