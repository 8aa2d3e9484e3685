//! Customer users: adding, editing, disabling and removing them (emails unique in the
//! tenant, sealed in the log), and activation by a one-time link, shown or emailed.

use clientele_graphql::Role;
use clientele_tests::{
    code, fresh_database, mint, on_both_backends, spawn_app, spawn_app_configured, Backend,
    TestApp, TestClock, ADD_USER,
};
use serde_json::{json, Value};

on_both_backends!(
    users_are_added_edited_disabled_and_removed_and_emails_are_unique_in_the_tenant,
    an_activation_link_works_once_before_it_expires_and_reissuing_voids_the_old_one,
    the_activation_email_goes_through_a_real_smtp_server,
);

const ACTIVATE: &str =
    "mutation($t: String!) { activateCustomerUser(token: $t) { user { id status } token } }";

fn token_of(link: &Value) -> String {
    link.as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_string()
}

/// POSTs a GraphQL operation with no Authorization header.
async fn anonymous(app: &TestApp, query: &str, variables: Value) -> Value {
    let body = json!({ "query": query, "variables": variables });
    app.post_json(None, &[], &body).await.json().await.unwrap()
}

async fn users_are_added_edited_disabled_and_removed_and_emails_are_unique_in_the_tenant(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let acme = app.new_customer("acme", None).await;
    let other = app.new_customer("other", None).await;
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
            "query($c: ID!) { customer(id: $c) { users { nodes { id } } } }",
            json!({ "c": acme }),
        )
        .await;
    assert_eq!(users["customer"]["users"]["nodes"], json!([]));
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
    let acme = app.new_customer("acme", None).await;
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
    let acme = app.new_customer("acme", None).await;
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
