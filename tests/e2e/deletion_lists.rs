//! The 10 days: the tenant-wide list of deletion requests, soonest due first, and the
//! `deletionRequested` filter on `customers`.

use chrono::Duration as Days;
use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    open_requests_are_listed_tenant_wide_soonest_due_first,
    the_list_pages_by_cursor_and_filters_by_status_due_date_and_customer,
    a_seller_lists_only_its_own_customers_requests,
    customers_filter_by_an_open_deletion_request,
    the_grace_period_can_be_read_by_those_who_see_deletion_requests,
);

const LIST: &str = "query($f: DeletionRequestFilter, $first: Int, $after: String) { deletionRequests(filter: $f, first: $first, after: $after) { edges { cursor node { id customerId dueAt status } customer { name } } pageInfo { hasNextPage endCursor } } }";

async fn request(app: &TestApp, id: &str) {
    app.ok(
        "mutation($id: ID!) { requestDeletion(customerId: $id) { id } }",
        json!({ "id": id }),
    )
    .await;
}

async fn names(app: &TestApp, token: &str, filter: Value) -> Vec<String> {
    let body = app
        .graphql_as(token, LIST, json!({ "f": filter, "first": 100 }))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["deletionRequests"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["customer"]["name"].as_str().unwrap().to_string())
        .collect()
}

async fn open_requests_are_listed_tenant_wide_soonest_due_first(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app.new_customer("first", None).await;
    request(&app, &first).await;
    // A later request is due later: the grace period runs from the request.
    app.clock.advance(Days::days(2));
    let second = app.new_customer("second", None).await;
    request(&app, &second).await;
    app.new_customer("untouched", None).await;

    let token = app.token.clone();
    assert_eq!(
        names(&app, &token, json!({ "status": "OPEN" })).await,
        ["first", "second"]
    );
    let body = app.ok(LIST, json!({ "f": { "status": "OPEN" } })).await;
    let node = &body["deletionRequests"]["edges"][0]["node"];
    assert_eq!(node["customerId"], first);
    assert_eq!(node["status"], "OPEN");
    let due: chrono::DateTime<chrono::Utc> = node["dueAt"].as_str().unwrap().parse().unwrap();
    let expected = app.clock.now() - Days::days(2) + Days::days(10);
    assert!(
        (due - expected).num_seconds().abs() < 60,
        "{due} {expected}"
    );
}

async fn the_list_pages_by_cursor_and_filters_by_status_due_date_and_customer(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for (i, name) in ["a", "b", "c"].into_iter().enumerate() {
        if i > 0 {
            app.clock.advance(Days::days(1));
        }
        let id = app.new_customer(name, None).await;
        request(&app, &id).await;
        ids.push(id);
    }
    app.ok(
        "mutation($id: ID!) { cancelDeletionRequest(customerId: $id, note: \"stays\") { id } }",
        json!({ "id": ids[1] }),
    )
    .await;
    let token = app.token.clone();
    assert_eq!(names(&app, &token, json!({})).await, ["a", "b", "c"]);
    assert_eq!(
        names(&app, &token, json!({ "status": "OPEN" })).await,
        ["a", "c"]
    );
    assert_eq!(
        names(&app, &token, json!({ "status": "CANCELLED" })).await,
        ["b"]
    );
    // Due within nine and a half days of now: only the oldest request.
    let week = (app.clock.now() + Days::hours(9 * 24 - 12)).to_rfc3339();
    assert_eq!(
        names(&app, &token, json!({ "dueBefore": week })).await,
        ["a"]
    );
    assert_eq!(
        names(&app, &token, json!({ "customerId": ids[2] })).await,
        ["c"]
    );

    // Pages by cursor, none skipped, none repeated.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = app.ok(LIST, json!({ "first": 1, "after": after })).await;
        let list = &page["deletionRequests"];
        for edge in list["edges"].as_array().unwrap() {
            seen.push(edge["customer"]["name"].as_str().unwrap().to_string());
        }
        if list["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = list["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(seen, ["a", "b", "c"]);

    let bad = app.graphql(LIST, json!({ "after": "nope" })).await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "after");
    let bad = app
        .graphql(LIST, json!({ "f": { "customerId": "not-a-uuid" } }))
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
}

async fn a_seller_lists_only_its_own_customers_requests(backend: Backend) {
    let app = spawn_app(backend).await;
    let mine = app
        .create_customer(json!({ "name": "mine", "seller": "sam" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let other = app
        .create_customer(json!({ "name": "other", "seller": "olga" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    request(&app, &mine).await;
    request(&app, &other).await;
    let sam = mint("sam", "default", Role::Seller, None);
    assert_eq!(names(&app, &sam, json!({})).await, ["mine"]);
    let refused = app
        .graphql_as(&sam, LIST, json!({ "f": { "customerId": other } }))
        .await;
    assert_eq!(code(&refused), "NOT_FOUND");
    let user = mint("u", "default", Role::CustomerUser, Some(&mine));
    let refused = app.graphql_as(&user, LIST, json!({})).await;
    assert_eq!(code(&refused), "FORBIDDEN");
}

async fn customers_filter_by_an_open_deletion_request(backend: Backend) {
    let app = spawn_app(backend).await;
    let leaving = app.new_customer("leaving", None).await;
    let stayed = app.new_customer("stayed", None).await;
    app.new_customer("calm", None).await;
    request(&app, &leaving).await;
    request(&app, &stayed).await;
    app.ok(
        "mutation($id: ID!) { cancelDeletionRequest(customerId: $id, note: \"stays\") { id } }",
        json!({ "id": stayed }),
    )
    .await;
    let listed = |requested: bool| {
        let app = &app;
        async move {
            let body = app
                .ok(
                    "query($r: Boolean) { customers(filter: { deletionRequested: $r, ownCompany: false }, orderBy: { field: NAME }) { edges { node { name } } totalCount } }",
                    json!({ "r": requested }),
                )
                .await;
            body["customers"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(listed(true).await, ["leaving"]);
    assert_eq!(listed(false).await, ["calm", "stayed"]);
}

async fn the_grace_period_can_be_read_by_those_who_see_deletion_requests(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.new_customer("graceful", None).await;
    let readers = [
        mint("sam", "default", Role::Seller, None),
        mint("aud", "default", Role::Auditor, None),
        mint("ada", "default", Role::CustomerAdmin, Some(&id)),
    ];
    let read = |token: String| {
        let app = &app;
        async move {
            app.graphql_as(&token, "{ deletionGracePeriod }", json!({}))
                .await
        }
    };
    assert_eq!(
        app.ok("{ deletionGracePeriod }", json!({})).await["deletionGracePeriod"],
        10
    );
    app.ok("mutation { setDeletionGracePeriod(days: 3) }", json!({}))
        .await;
    for token in readers {
        let body = read(token).await;
        assert_eq!(body["data"]["deletionGracePeriod"], 3, "{body}");
    }
    let body = read(mint("cu", "default", Role::CustomerUser, Some(&id))).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    // The period read is the one a new request falls due by.
    request(&app, &id).await;
    let data = app
        .ok(
            "query($id: ID!) { deletionRequests(filter: { customerId: $id }) { edges { node { requestedAt dueAt } } } }",
            json!({ "id": id }),
        )
        .await;
    let node = &data["deletionRequests"]["edges"][0]["node"];
    let at = |field: &str| -> chrono::DateTime<chrono::Utc> {
        node[field].as_str().unwrap().parse().unwrap()
    };
    let off_by = (at("dueAt") - at("requestedAt") - Days::days(3)).abs();
    assert!(off_by < Days::seconds(1), "{node}");
}
