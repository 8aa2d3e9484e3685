//! Relay conventions: `node(id:)` and `nodes(ids:)` fetch each kind of object by its id as
//! far as the caller may see it; a customer's users, inner customers and descendants are
//! connections (edges with cursors, nodes, pageInfo) that page to the end and search.

use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend, TestApp, ADD_USER};
use serde_json::{json, Value};

on_both_backends!(
    node_and_nodes_fetch_each_kind_and_nothing_out_of_reach,
    users_page_by_email_and_search_by_email_and_name,
    inner_customers_and_descendants_page_with_edges,
);

const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id
    ... on Customer { name } ... on CustomerUser { email } ... on WebhookEndpoint { url } } }";
const NODES: &str = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }";
const REGISTER: &str = "mutation { registerWebhookEndpoint(input: { url: \"https://hooks.example.com/x\" }) { endpoint { id } } }";
const USERS: &str = "query($id: ID!, $first: Int, $after: String, $text: String) {
    customer(id: $id) { users(first: $first, after: $after, text: $text) {
        edges { cursor node { id email } } nodes { email }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }";

async fn node_as(app: &TestApp, token: &str, id: &str) -> Value {
    let body = app.graphql_as(token, NODE, json!({ "id": id })).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["node"].clone()
}

async fn add_user(app: &TestApp, customer: &str, email: &str, given: &str, family: &str) -> String {
    let input = json!({ "email": email, "givenName": given, "familyName": family, "userType": "CUSTOMER_USER" });
    let added = app
        .ok(ADD_USER, json!({ "c": customer, "input": input }))
        .await;
    added["addCustomerUser"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn node_and_nodes_fetch_each_kind_and_nothing_out_of_reach(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.new_customer("acme", None).await;
    let other = app.new_customer("other", None).await;
    let user = add_user(&app, &acme, "ann@acme.example", "Ann", "Lee").await;
    let endpoint = app.ok(REGISTER, json!({})).await["registerWebhookEndpoint"]["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let admin = mint("root", "default", Role::TenantAdmin, None);

    let customer = node_as(&app, &admin, &acme).await;
    assert_eq!(
        customer,
        json!({ "__typename": "Customer", "id": acme, "name": "acme" })
    );
    let found = node_as(&app, &admin, &user).await;
    assert_eq!(
        found,
        json!({ "__typename": "CustomerUser", "id": user, "email": "ann@acme.example" })
    );
    let found = node_as(&app, &admin, &endpoint).await;
    assert_eq!(found["__typename"], "WebhookEndpoint");
    assert_eq!(found["url"], "https://hooks.example.com/x");
    let unknown = "7b0c5d8e-9f4a-4d2b-8c1e-3a5f6b7c8d9e";
    assert_eq!(node_as(&app, &admin, unknown).await, Value::Null);
    assert_eq!(node_as(&app, &admin, "not-an-id").await, Value::Null);

    // nodes answers in the order asked, null where there is nothing.
    let many = app
        .ok(
            NODES,
            json!({ "ids": [endpoint, unknown, user, acme, "x"] }),
        )
        .await;
    let kinds: Vec<Value> = many["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["__typename"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![
            json!("WebhookEndpoint"),
            Value::Null,
            json!("CustomerUser"),
            json!("Customer"),
            Value::Null
        ]
    );
    let ids: Vec<String> = (0..101).map(|_| acme.clone()).collect();
    let too_many = app.graphql(NODES, json!({ "ids": ids })).await;
    assert_eq!(code(&too_many), "BAD_USER_INPUT", "{too_many}");
    assert_eq!(too_many["errors"][0]["extensions"]["field"], "ids");
    assert_eq!(too_many["errors"][0]["extensions"]["rule"], "RANGE");

    // A customer's admin reaches its own customer, not another's, nor its users, nor the
    // tenant's endpoints.
    let theirs = mint("nina", "default", Role::CustomerAdmin, Some(&other));
    assert_eq!(node_as(&app, &theirs, &other).await["id"], json!(other));
    for id in [&acme, &user, &endpoint] {
        assert_eq!(node_as(&app, &theirs, id).await, Value::Null, "{id}");
    }
    // A customer's plain user sees its customer but not the users (its role may not read them).
    let plain = mint("ann", "default", Role::CustomerUser, Some(&acme));
    assert_eq!(node_as(&app, &plain, &acme).await["id"], json!(acme));
    assert_eq!(node_as(&app, &plain, &user).await, Value::Null);
    // Another tenant's admin reaches none of it.
    let intruder = mint("mallory", "beta", Role::TenantAdmin, None);
    for id in [&acme, &user, &endpoint] {
        assert_eq!(node_as(&app, &intruder, id).await, Value::Null, "{id}");
    }
}

async fn users_page(app: &TestApp, id: &str, first: i64, after: Value, text: Value) -> Value {
    let vars = json!({ "id": id, "first": first, "after": after, "text": text });
    app.ok(USERS, vars).await["customer"]["users"].clone()
}

fn emails(connection: &Value) -> Vec<String> {
    connection["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["email"].as_str().unwrap().to_string())
        .collect()
}

async fn users_page_by_email_and_search_by_email_and_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let acme = app.new_customer("acme", None).await;
    for (email, given, family) in [
        ("eve@acme.example", "Eve", "Stone"),
        ("ann@acme.example", "Ann", "Lee"),
        ("dan@acme.example", "Dan", "Müller"),
        ("bob@acme.example", "Bob", "Lee"),
        ("cid@acme.example", "Cid", "Ross"),
    ] {
        add_user(&app, &acme, email, given, family).await;
    }
    // Page by two through all five, by email.
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let page = users_page(&app, &acme, 2, after.clone(), Value::Null).await;
        let edges = page["edges"].as_array().unwrap();
        assert_eq!(
            page["nodes"].as_array().unwrap().len(),
            edges.len(),
            "nodes are the edges' nodes"
        );
        assert_eq!(page["pageInfo"]["hasPreviousPage"], !after.is_null());
        assert_eq!(page["pageInfo"]["startCursor"], edges[0]["cursor"]);
        assert_eq!(
            page["pageInfo"]["endCursor"],
            edges.last().unwrap()["cursor"]
        );
        seen.extend(emails(&page));
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        seen,
        ["ann", "bob", "cid", "dan", "eve"].map(|n| format!("{n}@acme.example"))
    );
    // Search by email, given name, family name (case- insensitively) and full name.
    let find = |text: &'static str| {
        let app = &app;
        let acme = &acme;
        async move { emails(&users_page(app, acme, 20, Value::Null, json!(text)).await) }
    };
    assert_eq!(find("BOB@").await, vec!["bob@acme.example"]);
    assert_eq!(
        find("lee").await,
        vec!["ann@acme.example", "bob@acme.example"]
    );
    assert_eq!(find("ann lee").await, vec!["ann@acme.example"]);
    assert_eq!(find("Müller").await, vec!["dan@acme.example"]);
    assert_eq!(
        find("%").await,
        Vec::<String>::new(),
        "wildcards are literal"
    );
    assert_eq!(find("  ").await.len(), 5, "a blank text filters nothing");
    // Paging within a search.
    let first = users_page(&app, &acme, 1, Value::Null, json!("lee")).await;
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let next = users_page(
        &app,
        &acme,
        1,
        first["pageInfo"]["endCursor"].clone(),
        json!("lee"),
    )
    .await;
    assert_eq!(emails(&next), vec!["bob@acme.example"]);
    assert_eq!(next["pageInfo"]["hasNextPage"], false);

    // Bad arguments are refused with the field and the rule.
    let long = "a".repeat(255);
    for (vars, field, rule) in [
        (json!({ "id": acme, "text": long }), "text", "LENGTH"),
        (
            json!({ "id": acme, "after": "not-a-cursor" }),
            "after",
            "FORMAT",
        ),
        (json!({ "id": acme, "first": 101 }), "first", "RANGE"),
    ] {
        let body = app.graphql(USERS, vars).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["field"], field);
        assert_eq!(body["errors"][0]["extensions"]["rule"], rule);
    }

    // The customer as of now pages and searches its users the same way.
    let at = chrono::Utc::now().to_rfc3339();
    let as_of = app
        .ok(
            "query($id: ID!, $at: DateTime!) { customerAsOf(id: $id, at: $at) {
                a: users(first: 2) { nodes { email } pageInfo { hasNextPage endCursor } }
                b: users(text: \"lee\") { nodes { email } } } }",
            json!({ "id": acme, "at": at }),
        )
        .await;
    let then = &as_of["customerAsOf"];
    assert_eq!(
        emails(&then["a"]),
        vec!["ann@acme.example", "bob@acme.example"]
    );
    assert_eq!(then["a"]["pageInfo"]["hasNextPage"], true);
    let live = users_page(&app, &acme, 2, Value::Null, Value::Null).await;
    assert_eq!(
        then["a"]["pageInfo"]["endCursor"], live["pageInfo"]["endCursor"],
        "the same cursor as the live list"
    );
    assert_eq!(
        emails(&then["b"]),
        vec!["ann@acme.example", "bob@acme.example"]
    );
}

const TREE: &str = "query($id: ID!, $after: String, $dafter: String) { customer(id: $id) {
    children(first: 2, after: $after) { edges { cursor node { name } } nodes { name }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor } }
    descendants(first: 3, after: $dafter) { edges { cursor node { id } } nodes { id }
        pageInfo { hasNextPage startCursor endCursor } } } }";

async fn inner_customers_and_descendants_page_with_edges(backend: Backend) {
    let app = spawn_app(backend).await;
    let top = app.new_customer("top", None).await;
    let mut all = Vec::new();
    for name in ["e-one", "a-one", "d-one", "b-one", "c-one"] {
        all.push(app.new_customer(name, Some(&top)).await);
    }
    let grandchild = app.new_customer("deep", Some(&all[0])).await;
    all.push(grandchild);

    // Children: one level down, by name, two a page.
    let mut names = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.ok(TREE, json!({ "id": top, "after": after })).await;
        let children = &data["customer"]["children"];
        let edges = children["edges"].as_array().unwrap();
        let from_edges: Vec<Value> = edges.iter().map(|e| e["node"].clone()).collect();
        assert_eq!(children["nodes"], json!(from_edges));
        assert_eq!(children["pageInfo"]["hasPreviousPage"], !after.is_null());
        assert_eq!(children["pageInfo"]["startCursor"], edges[0]["cursor"]);
        names.extend(
            edges
                .iter()
                .map(|e| e["node"]["name"].as_str().unwrap().to_string()),
        );
        if children["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = children["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(names, ["a-one", "b-one", "c-one", "d-one", "e-one"]);
    let bad = app
        .graphql(TREE, json!({ "id": top, "after": "%%%" }))
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT", "{bad}");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "after");

    // Descendants: any depth, by id, each edge's cursor its id.
    let mut ids = Vec::new();
    let mut after = Value::Null;
    loop {
        let data = app.ok(TREE, json!({ "id": top, "dafter": after })).await;
        let page = &data["customer"]["descendants"];
        for edge in page["edges"].as_array().unwrap() {
            assert_eq!(edge["cursor"], edge["node"]["id"]);
            ids.push(edge["cursor"].as_str().unwrap().to_string());
        }
        assert_eq!(page["pageInfo"]["startCursor"], page["edges"][0]["cursor"]);
        if page["pageInfo"]["hasNextPage"] == false {
            break;
        }
        after = page["pageInfo"]["endCursor"].clone();
    }
    all.sort();
    assert_eq!(ids, all, "every descendant once, by id, the grandchild too");
}
