//! Customer users and activation, inner customers, and assignments (seeds 001, 003, 004).

use clientele_graphql::Role;
use clientele_tests::{
    fresh_database, mint, on_both_backends, spawn_app, spawn_app_configured, Backend, TestApp,
    TestClock,
};
use serde_json::{json, Value};

on_both_backends!(
    users_are_added_edited_disabled_and_removed_and_emails_are_unique_in_the_tenant,
    an_activation_link_works_once_before_it_expires_and_reissuing_voids_the_old_one,
    the_activation_email_goes_through_a_real_smtp_server,
    inner_customers_form_a_tree_without_cycles,
    a_customer_admin_sees_its_subtree_and_nothing_above_or_beside,
    deleting_a_parent_needs_the_subtree_flag_and_releases_users_and_assignments,
    devices_have_one_customer_and_dashboards_many_with_lists_and_counts,
);

const ADD_USER: &str = "mutation($c: ID!, $input: AddCustomerUserInput!) { addCustomerUser(customerId: $c, input: $input) {
    user { id customerId email givenName familyName language userType status activationExpiresAt }
    activation { method emailSent link expiresAt } } }";
const ACTIVATE: &str =
    "mutation($t: String!) { activateCustomerUser(token: $t) { user { id status } token } }";

async fn customer(app: &TestApp, name: &str, parent: Option<&str>) -> String {
    let mut input = json!({ "name": name });
    if let Some(parent) = parent {
        input["parentId"] = json!(parent);
    }
    app.create_customer(input).await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn token_of(link: &Value) -> String {
    link.as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string()
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

/// POSTs a GraphQL operation with no Authorization header.
async fn anonymous(app: &TestApp, query: &str, variables: Value) -> Value {
    let response = app
        .client
        .post(format!("{}/graphql", app.address))
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap();
    response.json().await.unwrap()
}

async fn users_are_added_edited_disabled_and_removed_and_emails_are_unique_in_the_tenant(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let acme = customer(&app, "acme", None).await;
    let other = customer(&app, "other", None).await;
    let input =
        json!({ "email": " Ann@Acme.example ", "givenName": "Ann", "userType": "CUSTOMER_ADMIN" });
    let added = app.ok(ADD_USER, json!({ "c": acme, "input": input })).await;
    let user = &added["addCustomerUser"]["user"];
    assert_eq!(user["email"], "Ann@Acme.example");
    assert_eq!(user["status"], "PENDING_ACTIVATION");
    assert_eq!(user["language"], "en");
    let id = user["id"].as_str().unwrap().to_string();
    // The email is unique in the tenant, case-insensitively, across customers.
    let dup = app
        .graphql(ADD_USER, json!({ "c": other, "input": { "email": "ann@acme.EXAMPLE", "userType": "CUSTOMER_USER" } }))
        .await;
    assert_eq!(code(&dup), "CONFLICT");
    assert_eq!(dup["errors"][0]["extensions"]["field"], "input.email");
    assert_eq!(dup["errors"][0]["extensions"]["rule"], "UNIQUE");
    let bad = app
        .graphql(ADD_USER, json!({ "c": acme, "input": { "email": "nope", "userType": "CUSTOMER_USER", "language": "!!" } }))
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    assert_eq!(bad["errors"][0]["extensions"]["field"], "input.email");
    assert_eq!(
        bad["errors"][0]["extensions"]["violations"][1]["field"],
        "input.language"
    );
    let edit = "mutation($c: ID!, $u: ID!, $input: EditCustomerUserInput!) { editCustomerUser(customerId: $c, userId: $u, input: $input) { email givenName familyName userType } }";
    let edited = app
        .ok(edit, json!({ "c": acme, "u": id, "input": { "givenName": null, "familyName": "Lee", "userType": "CUSTOMER_USER" } }))
        .await;
    assert_eq!(
        edited["editCustomerUser"],
        json!({ "email": "Ann@Acme.example", "givenName": null, "familyName": "Lee", "userType": "CUSTOMER_USER" })
    );
    let wrong_customer = app
        .graphql(
            edit,
            json!({ "c": other, "u": id, "input": { "familyName": "X" } }),
        )
        .await;
    assert_eq!(code(&wrong_customer), "NOT_FOUND");
    let status = |m: &str| {
        format!("mutation($c: ID!, $u: ID!) {{ {m}(customerId: $c, userId: $u) {{ status }} }}")
    };
    let disabled = app
        .ok(
            &status("disableCustomerUser"),
            json!({ "c": acme, "u": id }),
        )
        .await;
    assert_eq!(disabled["disableCustomerUser"]["status"], "DISABLED");
    let enabled = app
        .ok(&status("enableCustomerUser"), json!({ "c": acme, "u": id }))
        .await;
    assert_eq!(
        enabled["enableCustomerUser"]["status"],
        "PENDING_ACTIVATION"
    );
    // A customer's own admin manages its users; its plain users may not.
    let plain = mint("una", "default", Role::CustomerUser, Some(&acme));
    let refused = app.graphql_as(&plain, ADD_USER, json!({ "c": acme, "input": { "email": "x@acme.example", "userType": "CUSTOMER_USER" } })).await;
    assert_eq!(code(&refused), "FORBIDDEN");
    let types = app.history_types(&acme).await;
    for t in [
        "CustomerUserAdded",
        "ActivationIssued",
        "CustomerUserEdited",
        "CustomerUserDisabled",
        "CustomerUserEnabled",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
    let removed = app
        .ok(
            "mutation($c: ID!, $u: ID!) { removeCustomerUser(customerId: $c, userId: $u) }",
            json!({ "c": acme, "u": id }),
        )
        .await;
    assert_eq!(removed["removeCustomerUser"], true);
    let users = app
        .ok(
            "query($c: ID!) { customer(id: $c) { users { id } } }",
            json!({ "c": acme }),
        )
        .await;
    assert_eq!(users["customer"]["users"], json!([]));
    // The email is free again.
    app.ok(ADD_USER, json!({ "c": other, "input": { "email": "ann@acme.example", "userType": "CUSTOMER_USER" } }))
        .await;
    // The log holds the email only sealed.
    let sealed = app
        .store
        .db()
        .fetch_scalar(
            "SELECT count(*) FROM events WHERE payload LIKE '%acme.example%'",
            &[],
        )
        .await;
    let sealed = match sealed {
        Ok(n) => n.unwrap_or(0),
        Err(_) => app
            .store
            .db()
            .fetch_scalar(
                "SELECT count(*) FROM events WHERE payload::text LIKE '%acme.example%'",
                &[],
            )
            .await
            .unwrap()
            .unwrap_or(0),
    };
    assert_eq!(sealed, 0, "user emails are sealed in the log");
}

async fn an_activation_link_works_once_before_it_expires_and_reissuing_voids_the_old_one(
    backend: Backend,
) {
    let clock = TestClock::default();
    let app = clientele_tests::spawn_app_with(fresh_database(backend).await, clock.clone()).await;
    let acme = customer(&app, "acme", None).await;
    let added = app
        .ok(ADD_USER, json!({ "c": acme, "input": { "email": "bo@acme.example", "userType": "CUSTOMER_ADMIN", "activationMethod": "SEND_EMAIL" } }))
        .await;
    let activation = &added["addCustomerUser"]["activation"];
    // No SMTP configured: the link comes back.
    assert_eq!(activation["emailSent"], false);
    let first = token_of(&activation["link"]);
    let user = added["addCustomerUser"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reissue = "mutation($c: ID!, $u: ID!) { reissueActivation(customerId: $c, userId: $u, method: SHOW_LINK) { activation { link expiresAt } } }";
    let again = app.ok(reissue, json!({ "c": acme, "u": user })).await;
    let second = token_of(&again["reissueActivation"]["activation"]["link"]);
    assert_ne!(first, second);
    let old = anonymous(&app, ACTIVATE, json!({ "t": first })).await;
    assert_eq!(
        code(&old),
        "NOT_FOUND",
        "a reissued token voids the old one: {old}"
    );
    // Expired after 24 hours.
    clock.advance(chrono::Duration::hours(25));
    let late = anonymous(&app, ACTIVATE, json!({ "t": second })).await;
    assert_eq!(code(&late), "BAD_USER_INPUT");
    assert_eq!(late["errors"][0]["extensions"]["rule"], "EXPIRED");
    let fresh = app.ok(reissue, json!({ "c": acme, "u": user })).await;
    let third = token_of(&fresh["reissueActivation"]["activation"]["link"]);
    // Anything but activateCustomerUser still needs a bearer token.
    let sneaky = anonymous(&app, "mutation($t: String!) { activateCustomerUser(token: $t) { token } createCustomer(input: { name: \"x\" }) { id } }", json!({ "t": third })).await;
    assert_eq!(code(&sneaky), "UNAUTHENTICATED");
    let done = anonymous(&app, ACTIVATE, json!({ "t": third })).await;
    assert_eq!(
        done["data"]["activateCustomerUser"]["user"]["status"], "ACTIVE",
        "{done}"
    );
    let token = done["data"]["activateCustomerUser"]["token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = app
        .graphql_as(
            &token,
            "query($c: ID!) { customer(id: $c) { id } }",
            json!({ "c": acme }),
        )
        .await;
    assert_eq!(
        me["data"]["customer"]["id"],
        acme.as_str(),
        "the minted token acts as the user"
    );
    let twice = anonymous(&app, ACTIVATE, json!({ "t": third })).await;
    assert_eq!(code(&twice), "NOT_FOUND", "a token works once");
    let active = app.graphql(reissue, json!({ "c": acme, "u": user })).await;
    assert_eq!(code(&active), "CONFLICT");
    let types = app.history_types(&acme).await;
    assert_eq!(types.iter().filter(|t| *t == "ActivationIssued").count(), 3);
    assert!(types.iter().any(|t| t == "CustomerUserActivated"));
    // Only a hash of the token is stored.
    let plain = app
        .store
        .db()
        .fetch_scalar(
            "SELECT count(*) FROM customer_users WHERE activation_token_hash = $1",
            &[third.as_str().into()],
        )
        .await
        .unwrap();
    assert_eq!(plain, Some(0));
}

/// A real SMTP server (tests/support/smtp.rs: an RFC 5321 conversation over TCP, inside
/// this process) on a random local port. Each message it accepts comes out of the receiver
/// as text, with its lines ended by `\n`. The server stops when the returned guard drops.
async fn smtp_server() -> (
    u16,
    clientele_tests::smtp::SmtpServer,
    tokio::sync::mpsc::Receiver<String>,
) {
    let (server, mut received) = clientele_tests::smtp::SmtpServer::start().await;
    let (sender, receiver) = tokio::sync::mpsc::channel(8);
    tokio::spawn(async move {
        while let Some(message) = received.recv().await {
            let text = String::from_utf8_lossy(&message.data).replace("\r\n", "\n");
            let _ = sender.send(text).await;
        }
    });
    (server.port(), server, receiver)
}

async fn the_activation_email_goes_through_a_real_smtp_server(backend: Backend) {
    let (port, _smtp, mut inbox) = smtp_server().await;
    let app = spawn_app_configured(fresh_database(backend).await, TestClock::default(), |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        s.smtp_from = "portal@tenant.example".into();
        s.public_url = Some("https://portal.tenant.example".into());
    })
    .await;
    let acme = customer(&app, "acme", None).await;
    let added = app
        .ok(ADD_USER, json!({ "c": acme, "input": { "email": "cy@acme.example", "userType": "CUSTOMER_USER", "activationMethod": "SEND_EMAIL" } }))
        .await;
    let activation = &added["addCustomerUser"]["activation"];
    assert_eq!(activation["emailSent"], true, "{added}");
    assert_eq!(
        activation["link"],
        Value::Null,
        "an emailed link is not shown"
    );
    let message = tokio::time::timeout(std::time::Duration::from_secs(10), inbox.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(message.contains("To: cy@acme.example"), "{message}");
    // The body is quoted-printable: undo soft line breaks and the escaped '='.
    let message = message.replace("=\n", "").replace("=3D", "=");
    let link = message
        .lines()
        .find(|l| l.starts_with("https://portal.tenant.example/activate?token="))
        .unwrap_or_else(|| panic!("no link in {message}"));
    let done = anonymous(
        &app,
        ACTIVATE,
        json!({ "t": token_of(&json!(link.trim())) }),
    )
    .await;
    assert_eq!(
        done["data"]["activateCustomerUser"]["user"]["status"], "ACTIVE",
        "{done}"
    );
    // SHOW_LINK never emails.
    let shown = app
        .ok(ADD_USER, json!({ "c": acme, "input": { "email": "di@acme.example", "userType": "CUSTOMER_USER", "activationMethod": "SHOW_LINK" } }))
        .await;
    assert_eq!(shown["addCustomerUser"]["activation"]["emailSent"], false);
    assert!(shown["addCustomerUser"]["activation"]["link"].is_string());
}

const TREE: &str = "query($id: ID!) { customer(id: $id) { id parentId parent { id } children { id } ancestors { id } descendants(first: 100) { nodes { id } } } }";

fn ids(value: &Value) -> Vec<String> {
    let mut ids: Vec<String> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<&String>) -> Vec<String> {
    v.sort();
    v.into_iter().cloned().collect()
}

async fn inner_customers_form_a_tree_without_cycles(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = customer(&app, "root", None).await;
    let a = customer(&app, "a", Some(&root)).await;
    let b = customer(&app, "b", Some(&a)).await;
    let c = customer(&app, "c", Some(&b)).await;
    let other = customer(&app, "other", None).await;
    let tree = app.ok(TREE, json!({ "id": b })).await["customer"].clone();
    assert_eq!(tree["parentId"], a.as_str());
    assert_eq!(ids(&tree["children"]), vec![c.clone()]);
    assert_eq!(
        tree["ancestors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        vec![root.as_str(), a.as_str()],
        "root first"
    );
    let all = app.ok(TREE, json!({ "id": root })).await["customer"].clone();
    assert_eq!(ids(&all["descendants"]["nodes"]), sorted(vec![&a, &b, &c]));
    let mv = "mutation($id: ID!, $p: ID) { moveCustomer(id: $id, parentId: $p) { id parentId } }";
    for (id, parent) in [(&a, &c), (&a, &a)] {
        let cycle = app.graphql(mv, json!({ "id": id, "p": parent })).await;
        assert_eq!(code(&cycle), "BAD_USER_INPUT", "{cycle}");
        assert_eq!(cycle["errors"][0]["extensions"]["field"], "parentId");
        assert_eq!(cycle["errors"][0]["extensions"]["rule"], "CYCLE");
    }
    let unknown = app
        .graphql(mv, json!({ "id": a, "p": "no-such-customer" }))
        .await;
    assert_eq!(
        unknown["errors"][0]["extensions"]["rule"],
        "UNKNOWN_CUSTOMER"
    );
    let bad_create = app
        .create_customer_error(json!({ "name": "orphan", "parentId": "no-such" }))
        .await;
    assert_eq!(bad_create["extensions"]["rule"], "UNKNOWN_CUSTOMER");
    // Moving b (with c) under other moves the whole subtree.
    app.ok(mv, json!({ "id": b, "p": other })).await;
    let moved = app.ok(TREE, json!({ "id": c })).await["customer"].clone();
    assert_eq!(ids(&moved["ancestors"]), sorted(vec![&other, &b]));
    let root_now = app.ok(TREE, json!({ "id": root })).await["customer"].clone();
    assert_eq!(ids(&root_now["descendants"]["nodes"]), vec![a.clone()]);
    // null makes it top-level.
    let top = app.ok(mv, json!({ "id": b, "p": null })).await;
    assert_eq!(top["moveCustomer"]["parentId"], Value::Null);
    let c_now = app.ok(TREE, json!({ "id": c })).await["customer"].clone();
    assert_eq!(ids(&c_now["ancestors"]), vec![b.clone()]);
    let history = app.history(&b).await;
    let moves: Vec<&Value> = history
        .iter()
        .filter(|e| e["type"] == "CustomerMoved")
        .map(|e| &e["payload"])
        .collect();
    assert_eq!(
        moves.len(),
        3,
        "created under a, moved under other, made top-level"
    );
    assert_eq!(*moves[2], json!({ "from": other, "to": null }));
}

async fn a_customer_admin_sees_its_subtree_and_nothing_above_or_beside(backend: Backend) {
    let app = spawn_app(backend).await;
    let root = customer(&app, "root", None).await;
    let mine = customer(&app, "mine", Some(&root)).await;
    let below = customer(&app, "below", Some(&mine)).await;
    let deeper = customer(&app, "deeper", Some(&below)).await;
    let beside = customer(&app, "beside", Some(&root)).await;
    let admin = mint("ada", "default", Role::CustomerAdmin, Some(&mine));
    let listed = app
        .graphql_as(
            &admin,
            "{ customers(first: 100) { totalCount edges { node { id } } } }",
            json!({}),
        )
        .await;
    let nodes: Vec<Value> = listed["data"]["customers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect();
    assert_eq!(ids(&json!(nodes)), sorted(vec![&mine, &below, &deeper]));
    assert_eq!(listed["data"]["customers"]["totalCount"], 3);
    for hidden in [&root, &beside] {
        let seen = app
            .graphql_as(
                &admin,
                "query($id: ID!) { customer(id: $id) { id } }",
                json!({ "id": hidden }),
            )
            .await;
        assert_eq!(seen["data"]["customer"], Value::Null, "{seen}");
    }
    let tree =
        app.graphql_as(&admin, TREE, json!({ "id": deeper })).await["data"]["customer"].clone();
    assert_eq!(
        ids(&tree["ancestors"]),
        sorted(vec![&mine, &below]),
        "nothing above its own customer"
    );
    let own = app.graphql_as(&admin, TREE, json!({ "id": mine })).await["data"]["customer"].clone();
    assert_eq!(own["parent"], Value::Null, "its parent is hidden");
    assert_eq!(own["parentId"], root.as_str());
    // It edits and manages users below; not beside.
    let edit = "mutation($id: ID!) { editCustomer(id: $id, input: { city: \"Oslo\" }) { city } }";
    let ok = app.graphql_as(&admin, edit, json!({ "id": deeper })).await;
    assert_eq!(ok["data"]["editCustomer"]["city"], "Oslo", "{ok}");
    let no = app.graphql_as(&admin, edit, json!({ "id": beside })).await;
    assert_eq!(code(&no), "NOT_FOUND");
    let user = app
        .graphql_as(&admin, ADD_USER, json!({ "c": beside, "input": { "email": "z@z.example", "userType": "CUSTOMER_USER" } }))
        .await;
    assert_eq!(code(&user), "NOT_FOUND");
    // It may not restructure the tree.
    let mv = app
        .graphql_as(
            &admin,
            "mutation($id: ID!) { moveCustomer(id: $id, parentId: null) { id } }",
            json!({ "id": below }),
        )
        .await;
    assert_eq!(code(&mv), "FORBIDDEN");
}

async fn deleting_a_parent_needs_the_subtree_flag_and_releases_users_and_assignments(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let parent = customer(&app, "parent", None).await;
    let child = customer(&app, "child", Some(&parent)).await;
    let grandchild = customer(&app, "grandchild", Some(&child)).await;
    let other = customer(&app, "other", None).await;
    app.ok(ADD_USER, json!({ "c": child, "input": { "email": "kid@acme.example", "userType": "CUSTOMER_USER" } })).await;
    let assign = "mutation($c: ID!, $d: ID!) { assignDevice(customerId: $c, deviceId: $d) { changed } assignDashboard(customerId: $c, dashboardId: \"dash\") { changed } }";
    app.ok(assign, json!({ "c": child, "d": "dev-1" })).await;
    app.ok(assign, json!({ "c": grandchild, "d": "dev-2" }))
        .await;
    let delete = "mutation($id: ID!, $sub: Boolean) { deleteCustomer(id: $id, confirm: \"parent\", deleteInnerCustomers: $sub) { accountStatus } }";
    let refused = app
        .graphql(delete, json!({ "id": parent, "sub": false }))
        .await;
    assert_eq!(code(&refused), "CONFLICT");
    assert_eq!(
        refused["errors"][0]["extensions"]["field"],
        "deleteInnerCustomers"
    );
    assert_eq!(
        refused["errors"][0]["extensions"]["innerCustomers"],
        json!([child])
    );
    assert_eq!(
        app.customer(&child).await["accountStatus"],
        "PREPARATION",
        "nothing was deleted"
    );
    let done = app.ok(delete, json!({ "id": parent, "sub": true })).await;
    assert_eq!(done["deleteCustomer"]["accountStatus"], "DELETED");
    for id in [&child, &grandchild] {
        assert_eq!(app.customer(id).await["accountStatus"], "DELETED");
        let counts = app.ok("query($id: ID!) { customer(id: $id) { users { id } assignmentCounts { devices dashboards } devices { edges { cursor } } } }", json!({ "id": id })).await;
        assert_eq!(
            counts["customer"],
            json!({ "users": [], "assignmentCounts": { "devices": 0, "dashboards": 0 }, "devices": { "edges": [] } })
        );
    }
    let types = app.history_types(&child).await;
    for t in [
        "CustomerUserRemoved",
        "AssignmentsReleased",
        "CustomerDeleted",
    ] {
        assert!(types.iter().any(|x| x == t), "{t} in {types:?}");
    }
    // The user's email is free, and a released device can go to another customer,
    // whose event names no previous owner.
    app.ok(ADD_USER, json!({ "c": other, "input": { "email": "kid@acme.example", "userType": "CUSTOMER_USER" } })).await;
    let moved = app.ok("mutation($c: ID!) { assignDevice(customerId: $c, deviceId: \"dev-1\") { changed customerId } }", json!({ "c": other })).await;
    assert_eq!(moved["assignDevice"]["changed"], true);
    let to_deleted = app
        .graphql(
            "mutation($c: ID!) { assignDevice(customerId: $c, deviceId: \"dev-9\") { changed } }",
            json!({ "c": child }),
        )
        .await;
    assert_eq!(code(&to_deleted), "CUSTOMER_DELETED");
    let payload: Vec<String> = app
        .store
        .db()
        .fetch_all::<(String,)>(
            "SELECT payload FROM events WHERE aggregate_type = 'Device' ORDER BY aggregate_id, sequence",
            &[],
        )
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(p,)| p)
        .collect();
    if backend == Backend::Sqlite {
        assert!(
            payload
                .last()
                .is_some_and(|p| p.contains("\"previousCustomerId\":null")),
            "{payload:?}"
        );
    }
}

async fn devices_have_one_customer_and_dashboards_many_with_lists_and_counts(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = customer(&app, "a", None).await;
    let b = customer(&app, "b", None).await;
    let assign = |kind: &str| {
        format!("mutation($c: ID!, $e: ID!) {{ assign{kind}(customerId: $c, {}Id: $e) {{ kind entityId customerId changed }} }}", kind.to_lowercase())
    };
    for i in 0..5 {
        app.ok(
            &assign("Device"),
            json!({ "c": a, "e": format!("dev-{i}") }),
        )
        .await;
    }
    app.ok(&assign("Asset"), json!({ "c": a, "e": "asset-1" }))
        .await;
    app.ok(&assign("Edge"), json!({ "c": a, "e": "edge-1" }))
        .await;
    for c in [&a, &b] {
        app.ok(&assign("Dashboard"), json!({ "c": c, "e": "shared-dash" }))
            .await;
    }
    let again = app
        .ok(&assign("Device"), json!({ "c": a, "e": "dev-0" }))
        .await;
    assert_eq!(
        again["assignDevice"]["changed"], false,
        "already so: nothing written"
    );
    // Re-assigning names both customers.
    let re = app
        .ok(&assign("Device"), json!({ "c": b, "e": "dev-0" }))
        .await;
    assert_eq!(re["assignDevice"]["customerId"], b.as_str());
    let events: Vec<(String,)> = app
        .store
        .db()
        .fetch_all(
            "SELECT event_type FROM events WHERE aggregate_type = 'Device' ORDER BY event_type",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(events.len(), 6);
    let counts = "query($c: ID!) { customer(id: $c) { assignmentCounts { devices assets edges dashboards } } }";
    assert_eq!(
        app.ok(counts, json!({ "c": a })).await["customer"]["assignmentCounts"],
        json!({ "devices": 4, "assets": 1, "edges": 1, "dashboards": 1 })
    );
    assert_eq!(
        app.ok(counts, json!({ "c": b })).await["customer"]["assignmentCounts"],
        json!({ "devices": 1, "assets": 0, "edges": 0, "dashboards": 1 })
    );
    // Paged by id.
    let page = "query($c: ID!, $after: String) { customer(id: $c) { devices(first: 3, after: $after) { edges { cursor node { id assignedAt } } pageInfo { hasNextPage endCursor } } } }";
    let first = app.ok(page, json!({ "c": a })).await["customer"]["devices"].clone();
    let got: Vec<&str> = first["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, ["dev-1", "dev-2", "dev-3"]);
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let second = app
        .ok(
            page,
            json!({ "c": a, "after": first["pageInfo"]["endCursor"] }),
        )
        .await["customer"]["devices"]
        .clone();
    assert_eq!(second["edges"][0]["node"]["id"], "dev-4");
    assert_eq!(second["pageInfo"]["hasNextPage"], false);
    // Unassigning.
    let un = app
        .ok(
            "mutation { unassignDevice(deviceId: \"dev-4\") { changed customerId } }",
            json!({}),
        )
        .await;
    assert_eq!(
        un["unassignDevice"],
        json!({ "changed": true, "customerId": null })
    );
    assert_eq!(
        app.ok(counts, json!({ "c": a })).await["customer"]["assignmentCounts"]["devices"],
        3
    );
    // Bad ids and unknown customers are refused, and write nothing.
    let before = app.event_count().await;
    let bad = app
        .graphql(&assign("Device"), json!({ "c": a, "e": "has space" }))
        .await;
    assert_eq!(
        (
            code(&bad),
            &bad["errors"][0]["extensions"]["field"],
            &bad["errors"][0]["extensions"]["rule"]
        ),
        ("BAD_USER_INPUT", &json!("deviceId"), &json!("CHARSET"))
    );
    let nobody = app
        .graphql(&assign("Device"), json!({ "c": "nobody", "e": "dev-x" }))
        .await;
    assert_eq!(code(&nobody), "NOT_FOUND");
    assert_eq!(app.event_count().await, before);
    // Home dashboard: one of the customer's dashboards; it cannot then be unassigned.
    let home = "mutation($c: ID!, $d: ID) { setHomeDashboard(customerId: $c, dashboardId: $d, hideToolbar: true) { homeDashboardId hideHomeDashboardToolbar } }";
    let not_assigned = app
        .graphql(home, json!({ "c": a, "d": "other-dash" }))
        .await;
    assert_eq!(
        not_assigned["errors"][0]["extensions"]["rule"],
        "NOT_ASSIGNED"
    );
    let set = app.ok(home, json!({ "c": a, "d": "shared-dash" })).await;
    assert_eq!(
        set["setHomeDashboard"],
        json!({ "homeDashboardId": "shared-dash", "hideHomeDashboardToolbar": true })
    );
    let unassign_home = "mutation($c: ID!) { unassignDashboard(customerId: $c, dashboardId: \"shared-dash\") { changed } }";
    let kept = app.graphql(unassign_home, json!({ "c": a })).await;
    assert_eq!(code(&kept), "CONFLICT");
    let gone = app.ok(unassign_home, json!({ "c": b })).await;
    assert_eq!(gone["unassignDashboard"]["changed"], true);
    // Only tenant admins assign; a customer's users see its entities.
    let user = mint("una", "default", Role::CustomerUser, Some(&a));
    let refused = app
        .graphql_as(&user, &assign("Device"), json!({ "c": a, "e": "dev-9" }))
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    let seen = app.graphql_as(&user, counts, json!({ "c": a })).await;
    assert_eq!(seen["data"]["customer"]["assignmentCounts"]["devices"], 3);
}
