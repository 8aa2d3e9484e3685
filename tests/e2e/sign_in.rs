//! Customer users sign in for real (issue 17): a password chosen on the activation page,
//! `signIn`, rotating refresh tokens with reuse detection, `signOut`, disabling while
//! signed in, password reset by mail in the user's language, and the same time for an
//! unknown email as for a known one.

use std::time::{Duration, Instant};

use clientele_tests::ws::{Received, WsClient};
use clientele_tests::{
    code, fresh_database, on_both_backends, spawn_app, spawn_app_configured, Backend, TestApp,
    TestClock, ADD_USER,
};
use serde_json::{json, Value};

on_both_backends!(
    a_user_activated_through_the_page_signs_in_refreshes_and_signs_out,
    disabling_a_signed_in_user_stops_its_tokens_and_subscription_at_once,
    a_password_reset_mail_in_the_users_language_sets_a_new_password_and_ends_every_session,
    an_unknown_email_takes_about_as_long_as_a_known_one,
    too_many_attempts_lock_an_account_known_or_not_and_the_lockout_is_recorded,
    a_customer_created_with_an_admin_and_a_password_signs_in_at_once,
    a_customer_created_with_an_admin_and_no_password_mails_an_activation_link,
    a_first_admin_that_breaks_a_rule_writes_nothing,
);

const CREATE: &str =
    "mutation($input: CreateCustomerInput!) { createCustomer(input: $input) { id name version } }";

const SIGN_IN: &str = "mutation($t: String!, $e: String!, $p: String!) { signIn(tenant: $t, email: $e, password: $p) { accessToken accessTokenExpiresAt refreshToken user { id status } } }";
const REFRESH: &str =
    "mutation($r: String!) { refreshSession(refreshToken: $r) { accessToken refreshToken } }";
const SIGN_OUT: &str = "mutation($r: String!) { signOut(refreshToken: $r) }";
const PASSWORD: &str = "correct horse battery staple";

/// POSTs a GraphQL operation with no Authorization header.
async fn anonymous(app: &TestApp, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables });
    app.post_json(None, &[], &body).await.json().await.unwrap()
}

/// The HTTP status of a request made with `token`.
async fn status_with(app: &TestApp, token: &str) -> u16 {
    let body = json!({ "query": "{ requiredCustomerFields }" });
    app.post_json(Some(token), &[], &body)
        .await
        .status()
        .as_u16()
}

/// Adds a user whose activation link is shown, and answers (user id, link path).
async fn user_with_link(app: &TestApp, email: &str, language: &str) -> (String, String, String) {
    let customer = app
        .new_customer(
            &format!("c-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]),
            None,
        )
        .await;
    let input = json!({ "email": email, "userType": "CUSTOMER_ADMIN", "language": language, "activationMethod": "SHOW_LINK" });
    let added = app
        .ok(ADD_USER, json!({ "c": customer, "input": input }))
        .await;
    let link = added["addCustomerUser"]["activation"]["link"]
        .as_str()
        .unwrap()
        .to_string();
    let path = link
        .split_once("/activate")
        .map(|(_, rest)| format!("/activate{rest}"))
        .unwrap();
    (
        customer,
        added["addCustomerUser"]["user"]["id"]
            .as_str()
            .unwrap()
            .to_string(),
        path,
    )
}

/// Sets a password through the page, as a browser without JavaScript does.
async fn post_page(app: &TestApp, path: &str, password: &str) -> (u16, String) {
    let token = path.split("token=").nth(1).unwrap();
    let response = app
        .client
        .post(format!("{}/activate", app.address))
        .form(&[
            ("token", token),
            ("password", password),
            ("confirm", password),
        ])
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn signed_in(app: &TestApp, email: &str, password: &str) -> Value {
    let answer = anonymous(
        app,
        SIGN_IN,
        json!({ "t": "default", "e": email, "p": password }),
    )
    .await;
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["signIn"].clone()
}

async fn a_user_activated_through_the_page_signs_in_refreshes_and_signs_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let (customer, user, path) = user_with_link(&app, "ann@acme.example", "en").await;
    // The page: a form, no token needed but the link's.
    let page = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(
        html.contains("<form method=post") && html.contains("At least 8 characters"),
        "{html}"
    );
    // Each broken rule is shown, and nothing is written.
    let events = app.event_count().await;
    let (status, html) = post_page(&app, &path, "short").await;
    assert_eq!(status, 422);
    assert!(html.contains("8 to 128 characters"), "{html}");
    let (status, html) = post_page(&app, &path, "password1").await;
    assert_eq!(status, 422);
    assert!(html.contains("commonly used"), "{html}");
    let (status, html) = post_page(&app, &path, "ann@acme.example").await;
    assert_eq!(status, 422);
    assert!(html.contains("email"), "{html}");
    assert_eq!(app.event_count().await, events);
    let (status, html) = post_page(&app, &path, PASSWORD).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Your password is set"), "{html}");
    // A used link says so.
    let again = app
        .client
        .get(format!("{}{path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("already used"));
    let history = app.history_types(&customer).await;
    assert!(
        history.ends_with(&["CustomerUserActivated".into(), "PasswordSet".into()]),
        "{history:?}"
    );
    // The hash is sealed in the log, never in clear.
    let log = app
        .history(&customer)
        .await
        .iter()
        .map(Value::to_string)
        .collect::<String>();
    assert!(
        !log.contains("argon2id") && log.contains("[hidden]"),
        "{log}"
    );

    // Wrong password, unknown email: the same answer.
    let wrong = anonymous(
        &app,
        SIGN_IN,
        json!({ "t": "default", "e": "ann@acme.example", "p": "not the password" }),
    )
    .await;
    let unknown = anonymous(
        &app,
        SIGN_IN,
        json!({ "t": "default", "e": "bob@acme.example", "p": "not the password" }),
    )
    .await;
    assert_eq!(code(&wrong), "UNAUTHENTICATED");
    assert_eq!(
        wrong["errors"][0]["message"],
        unknown["errors"][0]["message"]
    );
    let other_tenant = anonymous(
        &app,
        SIGN_IN,
        json!({ "t": "beta", "e": "ann@acme.example", "p": PASSWORD }),
    )
    .await;
    assert_eq!(code(&other_tenant), "UNAUTHENTICATED");

    let first = signed_in(&app, "ANN@acme.example", PASSWORD).await;
    assert_eq!(first["user"]["id"], user.as_str());
    let access = first["accessToken"].as_str().unwrap();
    assert_eq!(status_with(&app, access).await, 200);
    let expires: chrono::DateTime<chrono::Utc> = first["accessTokenExpiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let ttl = expires - chrono::Utc::now();
    assert!(
        ttl <= chrono::Duration::minutes(15) && ttl > chrono::Duration::minutes(14),
        "{ttl}"
    );
    // Refresh rotates: a new pair; the old refresh token is used up.
    let old_refresh = first["refreshToken"].as_str().unwrap();
    let second = anonymous(&app, REFRESH, json!({ "r": old_refresh })).await;
    let second = &second["data"]["refreshSession"];
    let new_access = second["accessToken"].as_str().unwrap();
    let new_refresh = second["refreshToken"].as_str().unwrap();
    assert_ne!(new_refresh, old_refresh);
    assert_eq!(status_with(&app, new_access).await, 200);
    // Presenting the used one again ends the whole session: theft detection.
    let reused = anonymous(&app, REFRESH, json!({ "r": old_refresh })).await;
    assert_eq!(code(&reused), "UNAUTHENTICATED", "{reused}");
    assert_eq!(status_with(&app, new_access).await, 401);
    assert_eq!(status_with(&app, access).await, 401);
    let after = anonymous(&app, REFRESH, json!({ "r": new_refresh })).await;
    assert_eq!(code(&after), "UNAUTHENTICATED", "{after}");
    // Another session is not touched; signing out ends it.
    let third = signed_in(&app, "ann@acme.example", PASSWORD).await;
    let access = third["accessToken"].as_str().unwrap();
    assert_eq!(status_with(&app, access).await, 200);
    let out = anonymous(&app, SIGN_OUT, json!({ "r": third["refreshToken"] })).await;
    assert_eq!(out["data"]["signOut"], true, "{out}");
    assert_eq!(status_with(&app, access).await, 401);
    let refreshed = anonymous(&app, REFRESH, json!({ "r": third["refreshToken"] })).await;
    assert_eq!(code(&refreshed), "UNAUTHENTICATED");
    let history = app.history_types(&customer).await;
    assert_eq!(
        history.iter().filter(|t| *t == "SessionEnded").count(),
        2,
        "{history:?}"
    );
}

async fn disabling_a_signed_in_user_stops_its_tokens_and_subscription_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let (customer, user, path) = user_with_link(&app, "dan@acme.example", "en").await;
    assert_eq!(post_page(&app, &path, PASSWORD).await.0, 200);
    let session = signed_in(&app, "dan@acme.example", PASSWORD).await;
    let access = session["accessToken"].as_str().unwrap();
    let mut client = WsClient::signed_in(&app.address, access).await;
    client
        .subscribe(
            "s",
            "subscription { accountStatusChanged { to } }",
            json!({}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let disable =
        "mutation($c: ID!, $u: ID!) { disableCustomerUser(customerId: $c, userId: $u) { status } }";
    app.ok(disable, json!({ "c": customer, "u": user })).await;
    let since = Instant::now();
    assert_eq!(status_with(&app, access).await, 401);
    loop {
        match client.receive().await {
            Received::Closed(code, _) => {
                assert_eq!(code, Some(4403));
                break;
            }
            Received::Message(_) => continue,
        }
    }
    assert!(
        since.elapsed() <= Duration::from_secs(1),
        "{:?}",
        since.elapsed()
    );
    let refreshed = anonymous(&app, REFRESH, json!({ "r": session["refreshToken"] })).await;
    assert_eq!(code(&refreshed), "UNAUTHENTICATED");
    let again = anonymous(
        &app,
        SIGN_IN,
        json!({ "t": "default", "e": "dan@acme.example", "p": PASSWORD }),
    )
    .await;
    assert_eq!(code(&again), "UNAUTHENTICATED");
}

/// Undoes quoted-printable (soft line breaks and `=XX`), enough to read a link.
/// An app that sends its mail to a real SMTP server started here; the server lives as long
/// as the handle it answers.
async fn app_with_mail(
    backend: Backend,
) -> (
    TestApp,
    clientele_tests::smtp::SmtpServer,
    tokio::sync::mpsc::UnboundedReceiver<clientele_tests::smtp::Received>,
) {
    let (server, received) = clientele_tests::smtp::SmtpServer::start().await;
    let port = server.port();
    let app = spawn_app_configured(
        fresh_database(backend).await,
        TestClock::default(),
        move |s| {
            s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        },
    )
    .await;
    (app, server, received)
}

/// The path (`/activate?token=…`) of the page link in a mail's text.
fn page_path_in(text: &str) -> String {
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/activate?token="))
        .expect("a link");
    link.split_once("/activate")
        .map(|(_, rest)| format!("/activate{rest}"))
        .unwrap()
}

fn unquote(text: &str) -> String {
    let joined = text.replace("=\n", "");
    let mut out = Vec::new();
    let bytes = joined.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn a_password_reset_mail_in_the_users_language_sets_a_new_password_and_ends_every_session(
    backend: Backend,
) {
    let (app, _server, mut received) = app_with_mail(backend).await;
    let (customer, _, path) = user_with_link(&app, "eva@acme.example", "de").await;
    assert_eq!(post_page(&app, &path, PASSWORD).await.0, 200);
    let session = signed_in(&app, "eva@acme.example", PASSWORD).await;
    let access = session["accessToken"].as_str().unwrap();
    // The same answer for an unknown email, and no mail for it.
    let request =
        "mutation($t: String!, $e: String!) { requestPasswordReset(tenant: $t, email: $e) }";
    let unknown = anonymous(
        &app,
        request,
        json!({ "t": "default", "e": "nobody@acme.example" }),
    )
    .await;
    let known = anonymous(
        &app,
        request,
        json!({ "t": "default", "e": "eva@acme.example" }),
    )
    .await;
    assert_eq!(unknown, known);
    let mail = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a mail")
        .unwrap();
    assert_eq!(mail.to, vec!["eva@acme.example".to_string()]);
    let text = unquote(&String::from_utf8_lossy(&mail.data).replace("\r\n", "\n"));
    assert!(text.contains("Passwort"), "German: {text}");
    assert!(text.contains("default"), "the tenant's name: {text}");
    let reset_path = page_path_in(&text);
    let (status, html) = post_page(&app, &reset_path, "a brand new passphrase").await;
    assert_eq!(status, 200, "{html}");
    // Every earlier session ended; the new password works, the old one does not.
    assert_eq!(status_with(&app, access).await, 401);
    let refreshed = anonymous(&app, REFRESH, json!({ "r": session["refreshToken"] })).await;
    assert_eq!(code(&refreshed), "UNAUTHENTICATED");
    let old = anonymous(
        &app,
        SIGN_IN,
        json!({ "t": "default", "e": "eva@acme.example", "p": PASSWORD }),
    )
    .await;
    assert_eq!(code(&old), "UNAUTHENTICATED");
    let new = signed_in(&app, "eva@acme.example", "a brand new passphrase").await;
    assert_eq!(
        status_with(&app, new["accessToken"].as_str().unwrap()).await,
        200
    );
    let history = app.history_types(&customer).await;
    assert!(
        history.contains(&"PasswordResetIssued".to_string()),
        "{history:?}"
    );
    assert_eq!(
        history.iter().filter(|t| *t == "PasswordSet").count(),
        2,
        "{history:?}"
    );
    // The reset link works once.
    let again = app
        .client
        .get(format!("{}{reset_path}", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 410);
}

async fn an_unknown_email_takes_about_as_long_as_a_known_one(backend: Backend) {
    let app = spawn_app(backend).await;
    // Five known users, so that no account reaches its limit of attempts (10 at once).
    for user in 0..5 {
        let (_, _, path) = user_with_link(&app, &format!("tim{user}@acme.example"), "en").await;
        assert_eq!(post_page(&app, &path, PASSWORD).await.0, 200);
    }
    let timed = |email: String| {
        let app = &app;
        async move {
            let start = Instant::now();
            let answer = anonymous(
                app,
                SIGN_IN,
                json!({ "t": "default", "e": email, "p": "wrong password here" }),
            )
            .await;
            assert_eq!(code(&answer), "UNAUTHENTICATED");
            start.elapsed()
        }
    };
    timed("warm@acme.example".into()).await;
    // Known and unknown alternate, so a change of load on the machine hits both alike. Other
    // tests share the machine's two cores, so a round can be disturbed: the medians must be
    // within 20% in one of three rounds of 11 pairs (a real difference fails all three).
    let mut rounds = Vec::new();
    let mut attempt = 0;
    for _ in 0..3 {
        let (mut known, mut unknown) = (Vec::new(), Vec::new());
        for _ in 0..11 {
            attempt += 1;
            known.push(timed(format!("tim{}@acme.example", attempt % 5)).await);
            unknown.push(timed(format!("nobody{attempt}@acme.example")).await);
        }
        known.sort();
        unknown.sort();
        let (known, unknown) = (known[5], unknown[5]);
        let ratio = known.as_secs_f64() / unknown.as_secs_f64();
        rounds.push(format!("known {known:?}, unknown {unknown:?}"));
        if (0.8..=1.2).contains(&ratio) {
            return;
        }
    }
    panic!("the medians differ by more than 20% in every round: {rounds:?}");
}

async fn too_many_attempts_lock_an_account_known_or_not_and_the_lockout_is_recorded(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (customer, _, path) = user_with_link(&app, "lou@acme.example", "en").await;
    assert_eq!(post_page(&app, &path, PASSWORD).await.0, 200);
    for email in ["lou@acme.example", "ghost@acme.example"] {
        for attempt in 0..10 {
            let answer = anonymous(
                &app,
                SIGN_IN,
                json!({ "t": "default", "e": email, "p": "wrong password here" }),
            )
            .await;
            assert_eq!(
                code(&answer),
                "UNAUTHENTICATED",
                "{email} attempt {attempt}: {answer}"
            );
        }
        // Locked: even the right password is refused, the same way for both emails.
        let locked = anonymous(
            &app,
            SIGN_IN,
            json!({ "t": "default", "e": email, "p": PASSWORD }),
        )
        .await;
        assert_eq!(code(&locked), "LIMIT_EXCEEDED", "{email}: {locked}");
    }
    // Another account is not locked.
    let (_, _, other) = user_with_link(&app, "max@acme.example", "en").await;
    assert_eq!(post_page(&app, &other, PASSWORD).await.0, 200);
    signed_in(&app, "max@acme.example", PASSWORD).await;
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let history = app.history(&customer).await;
        if let Some(event) = history.iter().find(|e| e["type"] == "SignInLockedOut") {
            assert_eq!(event["actor"], "sign-in-limits", "{event}");
            assert_eq!(event["payload"]["address"], "127.0.0.1", "{event}");
            break;
        }
        assert!(Instant::now() < deadline, "no lockout event: {history:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn a_customer_created_with_an_admin_and_a_password_signs_in_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let input = json!({ "name": "with admin", "firstAdmin": {
        "email": "Ada@Acme.example", "givenName": "Ada", "language": "fr", "password": PASSWORD } });
    let created = app.ok(CREATE, json!({ "input": input })).await;
    let id = created["createCustomer"]["id"].as_str().unwrap();
    assert_eq!(created["createCustomer"]["name"], "with-admin");
    // One transaction: the customer, its user, the user's activation and its password.
    let types = app.history_types(id).await;
    for wanted in [
        "CustomerCreated",
        "CustomerUserAdded",
        "CustomerUserActivated",
        "PasswordSet",
    ] {
        assert!(types.iter().any(|t| t == wanted), "{wanted} in {types:?}");
    }
    assert_eq!(created["createCustomer"]["version"], types.len());
    let session = signed_in(&app, "ada@acme.example", PASSWORD).await;
    assert_eq!(session["user"]["status"], "ACTIVE", "{session}");
    let users = "query($id: ID!) { customer(id: $id) { users { nodes { email userType } } } }";
    assert_eq!(
        app.ok(users, json!({ "id": id })).await["customer"]["users"]["nodes"],
        json!([{ "email": "Ada@Acme.example", "userType": "CUSTOMER_ADMIN" }])
    );
}

async fn a_customer_created_with_an_admin_and_no_password_mails_an_activation_link(
    backend: Backend,
) {
    let (app, _server, mut received) = app_with_mail(backend).await;
    let input = json!({ "name": "mailed admin", "firstAdmin": {
        "email": "max@acme.example", "language": "de" } });
    app.ok(CREATE, json!({ "input": input })).await;
    let mail = tokio::time::timeout(Duration::from_secs(10), received.recv())
        .await
        .expect("a mail")
        .unwrap();
    assert_eq!(mail.to, vec!["max@acme.example".to_string()]);
    let text = unquote(&String::from_utf8_lossy(&mail.data).replace("\r\n", "\n"));
    let path = page_path_in(&text);
    // Until the page is used, the user cannot sign in; then it can.
    let refused = anonymous(
        &app,
        SIGN_IN,
        json!({ "t": "default", "e": "max@acme.example", "p": PASSWORD }),
    )
    .await;
    assert_eq!(code(&refused), "UNAUTHENTICATED", "{refused}");
    assert_eq!(post_page(&app, &path, PASSWORD).await.0, 200);
    signed_in(&app, "max@acme.example", PASSWORD).await;
}

async fn a_first_admin_that_breaks_a_rule_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = app.event_count().await;
    let common = json!({ "name": "weak admin", "firstAdmin": {
        "email": "weak@acme.example", "password": "password" } });
    let body = app.graphql(CREATE, json!({ "input": common })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"],
        "input.firstAdmin.password"
    );
    assert_eq!(body["errors"][0]["extensions"]["rule"], "COMMON_PASSWORD");
    let bad_email = json!({ "name": "bad admin", "firstAdmin": { "email": "not an email", "password": PASSWORD } });
    let body = app.graphql(CREATE, json!({ "input": bad_email })).await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["field"], "input.firstAdmin.email",
        "{body}"
    );
    // A taken email refuses the customer too.
    app.ok(CREATE, json!({ "input": { "name": "first", "firstAdmin": { "email": "same@acme.example", "password": PASSWORD } } }))
        .await;
    let before_taken = app.event_count().await;
    let taken = json!({ "name": "second", "firstAdmin": { "email": "SAME@acme.example", "password": PASSWORD } });
    let body = app.graphql(CREATE, json!({ "input": taken })).await;
    assert_eq!(code(&body), "CONFLICT", "{body}");
    assert_eq!(app.event_count().await, before_taken);
    let names = app
        .ok(
            "{ customers(first: 10) { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert!(!names.to_string().contains("\"second\""), "{names}");
    assert!(before < before_taken);
}
