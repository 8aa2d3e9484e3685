//! Access that was taken back stops at once (issue 13): after `endImpersonation`,
//! disabling or removing a user, deleting a customer and `revokeSessions`, the tokens of
//! those sessions are refused on HTTP and WebSocket, on every instance, and open
//! subscriptions made with them close with 4403 within a second.

use std::time::{Duration, Instant};

use clientele_graphql::Role;
use clientele_tests::ws::{Received, WsClient, TRANSPORT};
use clientele_tests::{
    code, mint, on_both_backends, spawn_app, spawn_app_on, Backend, TestApp, ADD_USER, TEST_SECRET,
};
use serde_json::{json, Value};

on_both_backends!(
    an_ended_impersonation_token_is_refused_on_http_and_websocket,
    a_repeated_end_of_an_impersonation_is_refused_and_writes_nothing,
    a_disabled_or_removed_users_token_stops_at_once,
    deleting_a_customer_ends_its_users_and_impersonations_tokens,
    revoking_a_subject_ends_its_older_tokens_but_not_newer_ones,
    an_open_subscription_of_an_ended_session_is_closed_within_a_second,
);

const WHO_AM_I: &str = "{ requiredCustomerFields }";
const EVENTS: &str = "subscription { customerEvents { type } }";
/// How soon an open subscription must be closed after its session ends.
const CLOSE_WITHIN: Duration = Duration::from_secs(1);

/// POSTs an operation with `token`: the HTTP status and the body, whatever they are.
async fn call(app: &TestApp, token: &str, query: &str, variables: Value) -> (u16, Value) {
    let body = json!({ "query": query, "variables": variables });
    let response = app.post_json(Some(token), &[], &body).await;
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

/// Asserts the token is refused as an invalid token is: 401, UNAUTHENTICATED.
async fn assert_refused(app: &TestApp, token: &str, what: &str) {
    let (status, body) = call(app, token, WHO_AM_I, json!({})).await;
    assert_eq!(status, 401, "{what}: {body}");
    assert_eq!(code(&body), "UNAUTHENTICATED", "{what}: {body}");
}

async fn assert_accepted(app: &TestApp, token: &str, what: &str) {
    let (status, body) = call(app, token, WHO_AM_I, json!({})).await;
    assert_eq!(status, 200, "{what}: {body}");
    assert!(body.get("errors").is_none(), "{what}: {body}");
}

/// A new WebSocket with this token is refused at connection_init (4403).
async fn assert_ws_refused(app: &TestApp, token: &str) {
    let mut client = WsClient::connect(&app.address, TRANSPORT).await;
    client
        .send(json!({"type": "connection_init", "payload": {"token": token}}))
        .await;
    assert_eq!(client.closed_with().await, Some(4403));
}

/// A customer with a shortname (its deletion confirmation).
async fn customer(app: &TestApp, shortname: &str) -> String {
    app.create_customer(json!({ "name": shortname, "shortname": shortname }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Logs in as the customer's admin with `token`; the impersonation token.
async fn login_as(app: &TestApp, token: &str, customer: &str) -> String {
    let login = "mutation($id: ID!) { loginAs(customerId: $id, reason: \"ticket 7\") { token } }";
    let (_, body) = call(app, token, login, json!({ "id": customer })).await;
    body["data"]["loginAs"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token: {body}"))
        .to_string()
}

/// Adds a CUSTOMER_ADMIN user and activates it; its id and the token activation gave it.
async fn activated_user(app: &TestApp, customer: &str, email: &str) -> (String, String) {
    let added = app
        .ok(ADD_USER, json!({ "c": customer, "input": { "email": email, "userType": "CUSTOMER_ADMIN", "activationMethod": "SHOW_LINK" } }))
        .await;
    let user = added["addCustomerUser"]["user"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let link = added["addCustomerUser"]["activation"]["link"]
        .as_str()
        .unwrap();
    let secret = link.split("token=").nth(1).unwrap();
    let activate = json!({
        "query": "mutation($t: String!) { activateCustomerUser(token: $t) { token } }",
        "variables": { "t": secret },
    });
    let done: Value = app
        .post_json(None, &[], &activate)
        .await
        .json()
        .await
        .unwrap();
    let token = done["data"]["activateCustomerUser"]["token"]
        .as_str()
        .unwrap_or_else(|| panic!("a token: {done}"))
        .to_string();
    (user, token)
}

/// Opens a subscription with `token` and waits until it is live.
async fn subscribed(app: &TestApp, token: &str) -> WsClient {
    let mut client = WsClient::signed_in(&app.address, token).await;
    client.subscribe("s", EVENTS, json!({})).await;
    // Nothing is sent until an event happens; give the operation a moment to start.
    // (Events committed just before may still arrive: the feed delivers what it had not
    // read yet when the subscription started.)
    tokio::time::sleep(Duration::from_millis(200)).await;
    client
}

/// Waits for the close and asserts its code and how soon it came.
async fn assert_closed_soon(client: &mut WsClient, since: Instant) {
    loop {
        match client.receive().await {
            Received::Closed(code, reason) => {
                assert_eq!(code, Some(4403), "{reason}");
                break;
            }
            // Events that happened meanwhile may still arrive before the close.
            Received::Message(_) => continue,
        }
    }
    let took = since.elapsed();
    assert!(took <= CLOSE_WITHIN, "closed after {took:?}");
}

async fn an_ended_impersonation_token_is_refused_on_http_and_websocket(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer(&app, "acme1").await;
    let token = login_as(&app, &app.token, &id).await;
    assert_accepted(&app, &token, "before the end").await;
    let (status, end) = call(&app, &token, "mutation { endImpersonation }", json!({})).await;
    assert_eq!(
        (status, &end["data"]["endImpersonation"]),
        (200, &json!(true)),
        "{end}"
    );
    assert_refused(&app, &token, "after endImpersonation").await;
    let edit = "mutation($id: ID!) { editCustomer(id: $id, input: { city: \"Lyon\" }) { city } }";
    let (status, body) = call(&app, &token, edit, json!({ "id": id })).await;
    assert_eq!((status, code(&body)), (401, "UNAUTHENTICATED"), "{body}");
    assert_ws_refused(&app, &token).await;
    let types = app.history_types(&id).await;
    assert_eq!(
        types,
        [
            "CustomerCreated",
            "ImpersonationStarted",
            "ImpersonationEnded",
            "SessionEnded"
        ],
        "nothing was written with the token after its end"
    );
    // Another impersonation of the same customer is a session of its own.
    let other = login_as(&app, &app.token, &id).await;
    assert_accepted(&app, &other, "another impersonation").await;
}

async fn a_repeated_end_of_an_impersonation_is_refused_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer(&app, "acme1").await;
    let token = login_as(&app, &app.token, &id).await;
    let end = "mutation { endImpersonation }";
    assert_eq!(call(&app, &token, end, json!({})).await.0, 200);
    let before = app.event_count().await;
    let (status, again) = call(&app, &token, end, json!({})).await;
    assert_eq!((status, code(&again)), (401, "UNAUTHENTICATED"), "{again}");
    assert!(again["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("ended"));
    assert_eq!(
        app.event_count().await,
        before,
        "the second end wrote nothing"
    );
}

async fn a_disabled_or_removed_users_token_stops_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer(&app, "acme1").await;
    let (disabled, disabled_token) = activated_user(&app, &id, "dee@acme.example").await;
    let (removed, removed_token) = activated_user(&app, &id, "rem@acme.example").await;
    assert_accepted(&app, &disabled_token, "an active user").await;
    let add_admin = json!({ "c": id, "input": { "email": "evil@acme.example", "userType": "CUSTOMER_ADMIN", "activationMethod": "SHOW_LINK" } });
    let (status, _) = call(&app, &removed_token, ADD_USER, add_admin.clone()).await;
    assert_eq!(
        status, 200,
        "a customer admin may add users while its session lasts"
    );
    app.ok(
        "mutation($c: ID!, $u: ID!) { disableCustomerUser(customerId: $c, userId: $u) { id } }",
        json!({ "c": id, "u": disabled }),
    )
    .await;
    app.ok(
        "mutation($c: ID!, $u: ID!) { removeCustomerUser(customerId: $c, userId: $u) }",
        json!({ "c": id, "u": removed }),
    )
    .await;
    for (token, what) in [(&disabled_token, "disabled"), (&removed_token, "removed")] {
        assert_refused(&app, token, what).await;
        let mut input = add_admin.clone();
        input["input"]["email"] = json!(format!("{what}-admin@acme.example"));
        let (status, body) = call(&app, token, ADD_USER, input).await;
        assert_eq!(
            (status, code(&body)),
            (401, "UNAUTHENTICATED"),
            "{what}: {body}"
        );
        assert_ws_refused(&app, token).await;
    }
    // Enabling the user again does not bring the old token back.
    app.ok(
        "mutation($c: ID!, $u: ID!) { enableCustomerUser(customerId: $c, userId: $u) { id } }",
        json!({ "c": id, "u": disabled }),
    )
    .await;
    assert_refused(&app, &disabled_token, "enabled again").await;
}

async fn deleting_a_customer_ends_its_users_and_impersonations_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer(&app, "doomed").await;
    let kept = customer(&app, "kept1").await;
    let (_, user_token) = activated_user(&app, &id, "u@doomed.example").await;
    let impersonation = login_as(&app, &app.token, &id).await;
    let (_, other_user) = activated_user(&app, &kept, "u@kept.example").await;
    app.ok(
        "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"doomed\") { id } }",
        json!({ "id": id }),
    )
    .await;
    assert_refused(&app, &user_token, "a user of the deleted customer").await;
    assert_refused(&app, &impersonation, "an impersonation of it").await;
    assert_accepted(&app, &other_user, "another customer's user").await;
    assert_accepted(&app, &app.token, "the admin who deleted it").await;
}

/// Waits until the next whole second: `iat` counts seconds.
async fn next_second() {
    let now = chrono::Utc::now();
    let left = 1_000_000 - i64::from(now.timestamp_subsec_micros()) + 50_000;
    tokio::time::sleep(Duration::from_micros(left as u64)).await;
}

/// A token as `clientele token` mints it.
fn cli_token(subject: &str, role: &str) -> String {
    let mut settings = clientele_server::Settings::defaults();
    settings.jwt_secret = Some(TEST_SECRET.to_string().into());
    clientele_server::cli::token(
        &settings,
        "default",
        role,
        None,
        Some(subject.into()),
        Duration::from_secs(3600),
    )
    .expect("a token")
}

async fn revoking_a_subject_ends_its_older_tokens_but_not_newer_ones(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer(&app, "acme1").await;
    let old = cli_token("rita", "RESELLER");
    let claims: Value = {
        use base64::Engine;
        let payload = old.split('.').nth(1).unwrap();
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    };
    assert!(
        claims["jti"].is_string() && claims["sid"].is_string(),
        "{claims}"
    );
    let impersonation = login_as(&app, &old, &id).await;
    let bystander = cli_token("bob", "RESELLER");
    assert_accepted(&app, &old, "before the revocation").await;
    let revoke = "mutation($s: String!) { revokeSessions(subject: $s) }";
    let seller = mint("sam", "default", Role::Seller, None);
    let (_, refused) = call(&app, &seller, revoke, json!({ "s": "rita" })).await;
    assert_eq!(
        code(&refused),
        "FORBIDDEN",
        "only tenant admins and resellers"
    );
    let (_, blank) = call(&app, &app.token, revoke, json!({ "s": " " })).await;
    assert_eq!(code(&blank), "BAD_USER_INPUT", "{blank}");
    let revoked = app.ok(revoke, json!({ "s": "rita" })).await;
    assert!(revoked["revokeSessions"].is_string(), "{revoked}");
    assert_refused(&app, &old, "an older token of the subject").await;
    assert_refused(&app, &impersonation, "an impersonation it started").await;
    assert_ws_refused(&app, &old).await;
    assert_accepted(&app, &bystander, "another subject").await;
    next_second().await;
    let newer = cli_token("rita", "RESELLER");
    assert_accepted(&app, &newer, "a token issued after the revocation").await;
}

async fn an_open_subscription_of_an_ended_session_is_closed_within_a_second(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = customer(&app, "acme1").await;
    let token = login_as(&app, &app.token, &id).await;
    let (_, user_token) = activated_user(&app, &id, "u@acme.example").await;
    let mut open = subscribed(&app, &token).await;
    let mut user = subscribed(&app, &user_token).await;
    let mut bystander = subscribed(&app, &app.token).await;
    let ended = Instant::now();
    let (status, _) = call(&app, &token, "mutation { endImpersonation }", json!({})).await;
    assert_eq!(status, 200);
    assert_closed_soon(&mut open, ended).await;
    let (_, body) = call(
        &app,
        &app.token,
        "mutation($s: String!) { revokeSessions(subject: $s) }",
        json!({ "s": clientele_domain::session::user_subject(&user_id_of(&app, &id).await) }),
    )
    .await;
    let revoked = Instant::now();
    assert!(body.get("errors").is_none(), "{body}");
    assert_closed_soon(&mut user, revoked).await;
    // The admin's subscription stays open: it receives the events meanwhile (the
    // revocation is a tenant event, which customerEvents does not stream).
    let mut seen = Vec::new();
    while !seen.contains(&json!("ImpersonationEnded")) {
        seen.push(bystander.next_data("s", "customerEvents").await["type"].clone());
        assert!(seen.len() < 10, "{seen:?}");
    }
}

/// The id of the customer's only user.
async fn user_id_of(app: &TestApp, customer: &str) -> String {
    let data = app
        .ok(
            "query($id: ID!) { customer(id: $id) { users { nodes { id } } } }",
            json!({ "id": customer }),
        )
        .await;
    data["customer"]["users"]["nodes"][0]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgres_refuse_a_session_ended_on_either() {
    let one = spawn_app(Backend::Postgres).await;
    let two = spawn_app_on(one.database.clone()).await;
    let id = customer(&one, "acme1").await;
    let token = login_as(&one, &one.token, &id).await;
    let (_, user_token) = activated_user(&one, &id, "u@acme.example").await;
    assert_accepted(&two, &token, "instance two, before the end").await;
    let mut open = subscribed(&two, &token).await;
    let mut user = subscribed(&two, &user_token).await;
    let ended = Instant::now();
    let (status, _) = call(&one, &token, "mutation { endImpersonation }", json!({})).await;
    assert_eq!(status, 200);
    assert_closed_soon(&mut open, ended).await;
    assert_refused(&two, &token, "instance two, after the end on one").await;
    assert_ws_refused(&two, &token).await;
    // A repeated end on the other instance is refused and writes nothing.
    let before = one.event_count().await;
    let (status, again) = call(&two, &token, "mutation { endImpersonation }", json!({})).await;
    assert_eq!((status, code(&again)), (401, "UNAUTHENTICATED"), "{again}");
    assert_eq!(one.event_count().await, before);
    // A user disabled on one is refused on two, and its subscription there closes.
    let disabled = Instant::now();
    one.ok(
        "mutation($c: ID!, $u: ID!) { disableCustomerUser(customerId: $c, userId: $u) { id } }",
        json!({ "c": id, "u": user_id_of(&one, &id).await }),
    )
    .await;
    assert_closed_soon(&mut user, disabled).await;
    assert_refused(&two, &user_token, "instance two, a user disabled on one").await;
    // An instance started after the ends learns them from the read model.
    let three = spawn_app_on(one.database.clone()).await;
    assert_refused(&three, &token, "a fresh instance").await;
    assert_refused(&three, &user_token, "a fresh instance, the user").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_sqlite_instance_still_refuses_an_ended_session() {
    let app = spawn_app(Backend::Sqlite).await;
    let id = customer(&app, "acme1").await;
    let token = login_as(&app, &app.token, &id).await;
    assert_eq!(
        call(&app, &token, "mutation { endImpersonation }", json!({}))
            .await
            .0,
        200
    );
    let database = app.stop().await;
    let again = spawn_app_on(database).await;
    assert_refused(&again, &token, "after a restart").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instance_without_subscribers_learns_a_revocation_within_a_second() {
    let one = spawn_app(Backend::Postgres).await;
    let two = spawn_app_on(one.database.clone()).await;
    let old = cli_token("rita", "RESELLER");
    assert_accepted(&two, &old, "instance two, before").await;
    // Nobody subscribes on instance two: its feed is idle and reads only the events that
    // end sessions.
    one.ok(
        "mutation($s: String!) { revokeSessions(subject: $s) }",
        json!({ "s": "rita" }),
    )
    .await;
    let revoked = Instant::now();
    loop {
        let (status, _) = call(&two, &old, WHO_AM_I, json!({})).await;
        if status == 401 {
            break;
        }
        assert!(revoked.elapsed() < CLOSE_WITHIN, "still accepted on two");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
