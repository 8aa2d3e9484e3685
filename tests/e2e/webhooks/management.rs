//! Managing endpoints: rotating the secret (both signatures during the overlap),
//! disabling, enabling, deleting, redelivering from a cursor; an endpoint that keeps
//! failing is disabled and the tenant mailed; the address and type rules at registration.

use std::time::Duration;

use clientele_graphql::Role;
use clientele_tests::smtp::SmtpServer;
use clientele_tests::webhooks::Receiver;
use clientele_tests::{code, fresh_database, mint, on_both_backends, spawn_app, Backend};
use serde_json::{json, Value};

use super::{app, app_on, created, deliveries, kinds, register, ENDPOINT, REGISTER};

on_both_backends!(
    rotation_disabling_deletion_and_redelivery,
    an_endpoint_that_keeps_failing_is_disabled_and_the_tenant_mailed,
    private_addresses_and_unknown_types_are_refused_at_registration,
);

async fn rotation_disabling_deletion_and_redelivery(backend: Backend) {
    let app = app(backend, 50).await;
    let receiver = Receiver::start().await;
    let (id, old) = register(&app, &receiver, &["CustomerCreated"]).await;
    let rotated = app
        .ok(
            "mutation($id: ID!) { rotateWebhookSecret(id: $id, keepOldForHours: 1) { secret endpoint { id } } }",
            json!({ "id": id }),
        )
        .await;
    let new = rotated["rotateWebhookSecret"]["secret"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new, old);
    receiver.trust(&new);
    let a = app.new_customer("alpha", None).await;
    let hit = receiver.wait_for(1).await.remove(0);
    assert_eq!(hit.signatures, 2, "both secrets sign during the overlap");
    assert_eq!(hit.signed_by, [0, 1]);

    app.ok("mutation($id: ID!) { disableWebhookEndpoint(id: $id, reason: \"maintenance\") { enabled } }", json!({ "id": id })).await;
    let b = app.new_customer("beta", None).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.delivered().len(), 1, "nothing while disabled");
    let state = deliveries(&app, &id).await;
    assert_eq!(
        (state["enabled"].clone(), state["disabledBy"].clone()),
        (json!(false), json!("admin"))
    );
    app.ok(
        "mutation($id: ID!) { enableWebhookEndpoint(id: $id) { enabled } }",
        json!({ "id": id }),
    )
    .await;
    let c = app.new_customer("gamma", None).await;
    let delivered = receiver.wait_for(3).await;
    assert_eq!(
        kinds(&delivered),
        created(&[&a, &b, &c]),
        "resumed where it stopped"
    );

    // Replays everything after alpha's place in the log, in order.
    let after = delivered[0].body["data"]["position"].clone();
    app.ok(
        "mutation($id: ID!, $after: String) { redeliverWebhooks(endpointId: $id, after: $after) { id } }",
        json!({ "id": id, "after": after }),
    )
    .await;
    let delivered = receiver.wait_for(5).await;
    assert_eq!(kinds(&delivered[3..]), created(&[&b, &c]));
    assert_eq!(
        delivered[3].webhook_id, delivered[1].webhook_id,
        "the same webhook-id again"
    );

    app.ok(
        "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }",
        json!({ "id": id }),
    )
    .await;
    app.new_customer("delta", None).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(receiver.delivered().len(), 5, "nothing once deleted");
    assert_eq!(
        app.ok(ENDPOINT, json!({ "id": id })).await["webhookEndpoint"],
        Value::Null
    );
}

async fn an_endpoint_that_keeps_failing_is_disabled_and_the_tenant_mailed(backend: Backend) {
    let (smtp, mut inbox) = SmtpServer::start().await;
    let app = app_on(fresh_database(backend).await, 0, Some(smtp.port())).await;
    app.ok("mutation { setDeletionNotices(recipients: [\"ops@reseller.example\"], language: \"de\") { recipients } }", json!({})).await;
    let receiver = Receiver::start().await;
    receiver.set(|b| b.fail_next = usize::MAX);
    let (id, _) = register(&app, &receiver, &[]).await;
    app.new_customer("alpha", None).await;
    let mail = tokio::time::timeout(Duration::from_secs(15), inbox.recv())
        .await
        .expect("a mail within 15 s")
        .expect("the SMTP server runs");
    assert_eq!(mail.to, ["ops@reseller.example"]);
    let text = String::from_utf8_lossy(&mail.data).replace("=\r\n", "");
    assert!(text.contains("Webhook-Endpunkt"), "{text}");
    let state = deliveries(&app, &id).await;
    assert_eq!(state["enabled"], false);
    assert_eq!(state["disabledBy"], "system");
    let attempts = state["deliveries"]["edges"].as_array().unwrap();
    assert_eq!(
        attempts.len(),
        8,
        "the first attempt and seven retries: {state}"
    );
    assert!(attempts.iter().all(|e| e["node"]["status"] == "FAILED"));
    assert_eq!(attempts[0]["node"]["nextAttemptAt"], Value::Null);
}

async fn private_addresses_and_unknown_types_are_refused_at_registration(backend: Backend) {
    let app = spawn_app(backend).await;
    let events = app.event_count().await;
    let refused = |url: &'static str, types: Vec<&'static str>| {
        let app = &app;
        async move {
            let body = app
                .graphql(REGISTER, json!({ "url": url, "types": types }))
                .await;
            assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
            let ext = body["errors"][0]["extensions"].clone();
            (
                ext["field"].as_str().unwrap_or_default().to_string(),
                ext["rule"].as_str().unwrap_or_default().to_string(),
            )
        }
    };
    for url in [
        "https://127.0.0.1:9/hook",
        "https://[::1]/x",
        "https://10.1.2.3/x",
        "https://169.254.169.254/latest",
        "https://localhost/x",
        "https://100.64.0.1/x",
    ] {
        assert_eq!(
            refused(url, vec![]).await,
            ("input.url".into(), "ADDRESS".into()),
            "{url}"
        );
    }
    assert_eq!(
        refused("http://hooks.example.com/x", vec![]).await,
        ("input.url".into(), "FORMAT".into())
    );
    assert_eq!(
        refused("ftp://hooks.example.com/x", vec![]).await.1,
        "FORMAT"
    );
    assert_eq!(
        refused("https://hooks.example.com/x", vec!["NoSuchEvent"]).await,
        ("input.eventTypes".into(), "ALLOWED_VALUES".into())
    );
    let reseller = mint("res", "default", Role::Reseller, None);
    let body = app
        .graphql_as(
            &reseller,
            REGISTER,
            json!({ "url": "https://hooks.example.com/x" }),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN", "tenant admins only: {body}");
    assert_eq!(
        app.event_count().await,
        events,
        "a refused registration writes nothing"
    );
    let ok = app
        .ok(REGISTER, json!({ "url": "https://hooks.example.com/x" }))
        .await;
    assert_eq!(ok["registerWebhookEndpoint"]["endpoint"]["enabled"], true);
}
