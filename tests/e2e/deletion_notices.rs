//! Mail to the reseller: the addresses a tenant names are told when a deletion request is
//! made, cancelled, carried out, and one day before it falls due, through a real SMTP
//! server; each notice once.

use std::time::Duration;

use chrono::Duration as Days;
use clientele_tests::smtp::SmtpServer;
use clientele_tests::{
    code, fresh_database, on_both_backends, spawn_app_configured, Backend, TestApp, TestClock,
};
use serde_json::json;
use tokio::sync::mpsc::UnboundedReceiver;

on_both_backends!(
    the_named_addresses_are_told_of_every_step_of_a_request_once,
    notice_settings_are_checked_and_written_only_when_valid,
);

const SET: &str = "mutation($r: [String!]!, $l: String!) { setDeletionNotices(recipients: $r, language: $l) { recipients language } }";

async fn app_with_mail(
    backend: Backend,
) -> (
    TestApp,
    SmtpServer,
    UnboundedReceiver<clientele_tests::smtp::Received>,
) {
    let (smtp, inbox) = SmtpServer::start().await;
    let port = smtp.port();
    let app = spawn_app_configured(fresh_database(backend).await, TestClock::default(), |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        s.smtp_from = "clientele@tenant.example".into();
    })
    .await;
    (app, smtp, inbox)
}

/// The next message, as text with `\n` line ends, and its recipients.
async fn next_mail(
    inbox: &mut UnboundedReceiver<clientele_tests::smtp::Received>,
) -> (Vec<String>, String) {
    let message = tokio::time::timeout(Duration::from_secs(10), inbox.recv())
        .await
        .expect("a mail within 10 s")
        .expect("the SMTP server runs");
    // The body is quoted-printable: undo soft line breaks and the escaped '='.
    let text = String::from_utf8_lossy(&message.data)
        .replace("\r\n", "\n")
        .replace("=\n", "")
        .replace("=3D", "=");
    (message.to, text)
}

/// One notice: a mail to each of the two addresses, with the same subject; its text.
async fn next_notice(inbox: &mut UnboundedReceiver<clientele_tests::smtp::Received>) -> String {
    let (mut to, text) = next_mail(inbox).await;
    let (other, again) = next_mail(inbox).await;
    assert_eq!(subject(&text), subject(&again));
    to.extend(other);
    to.sort();
    assert_eq!(to, ["boss@reseller.example", "ops@reseller.example"]);
    text
}

fn subject(text: &str) -> &str {
    text.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_else(|| panic!("no subject in {text}"))
}

async fn the_named_addresses_are_told_of_every_step_of_a_request_once(backend: Backend) {
    let (app, _smtp, mut inbox) = app_with_mail(backend).await;
    // A request made before anyone was named is not announced.
    let early = app.new_customer("early", None).await;
    app.ok(
        "mutation($id: ID!) { requestDeletion(customerId: $id) { id } }",
        json!({ "id": early }),
    )
    .await;
    let set = app
        .ok(
            SET,
            json!({ "r": ["Ops@Reseller.example", "boss@reseller.example"], "l": "en" }),
        )
        .await;
    assert_eq!(
        set["setDeletionNotices"]["recipients"],
        json!(["boss@reseller.example", "ops@reseller.example"])
    );
    app.ok("mutation { setDeletionGracePeriod(days: 2) }", json!({}))
        .await;

    let acme = app.new_customer("acme", None).await;
    app.ok(
        "mutation($id: ID!) { requestDeletion(customerId: $id, reason: \"too expensive\") { id } }",
        json!({ "id": acme }),
    )
    .await;
    let text = next_notice(&mut inbox).await;
    assert_eq!(subject(&text), "Deletion requested for acme");
    assert!(text.contains("too expensive"), "{text}");
    assert!(text.contains(&acme), "{text}");

    app.ok(
        "mutation($id: ID!) { cancelDeletionRequest(customerId: $id, note: \"discount\") { id } }",
        json!({ "id": acme }),
    )
    .await;
    let text = next_notice(&mut inbox).await;
    assert_eq!(subject(&text), "Deletion request cancelled for acme");
    assert!(text.contains("discount"), "{text}");

    // Again; one day before it falls due, then when it is carried out.
    app.ok(
        "mutation($id: ID!) { requestDeletion(customerId: $id) { id } }",
        json!({ "id": acme }),
    )
    .await;
    let text = next_notice(&mut inbox).await;
    assert_eq!(subject(&text), "Deletion requested for acme");
    app.clock.advance(Days::days(1) + Days::minutes(1));
    let text = next_notice(&mut inbox).await;
    assert!(
        subject(&text).starts_with("acme will be deleted in"),
        "{text}"
    );
    app.clock.advance(Days::days(1));
    let text = next_notice(&mut inbox).await;
    assert_eq!(subject(&text), "acme was deleted");
    assert!(text.contains("system:deletion-scheduler"), "{text}");

    // Each notice once: nothing more arrives, and the early request stays unannounced.
    let more = tokio::time::timeout(Duration::from_millis(700), inbox.recv()).await;
    assert!(more.is_err(), "an extra mail: {more:?}");
}

async fn notice_settings_are_checked_and_written_only_when_valid(backend: Backend) {
    let (app, _smtp, _inbox) = app_with_mail(backend).await;
    let events = app.event_count().await;
    let bad = app
        .graphql(SET, json!({ "r": ["not an address"], "l": "en" }))
        .await;
    assert_eq!(code(&bad), "BAD_USER_INPUT");
    assert_eq!(
        bad["errors"][0]["extensions"]["field"], "recipients",
        "{bad}"
    );
    assert_eq!(bad["errors"][0]["extensions"]["rule"], "FORMAT", "{bad}");
    let bad = app
        .graphql(SET, json!({ "r": ["a@b.example"], "l": "xx" }))
        .await;
    assert_eq!(bad["errors"][0]["extensions"]["field"], "language", "{bad}");
    assert_eq!(
        bad["errors"][0]["extensions"]["rule"], "ALLOWED_VALUES",
        "{bad}"
    );
    assert_eq!(
        app.event_count().await,
        events,
        "a refused setting writes nothing"
    );

    app.ok(SET, json!({ "r": ["ops@reseller.example"], "l": "de" }))
        .await;
    let read = app
        .ok("{ deletionNotices { recipients language } }", json!({}))
        .await;
    assert_eq!(
        read["deletionNotices"],
        json!({ "recipients": ["ops@reseller.example"], "language": "de" })
    );
    // An empty list tells nobody: the way to stop the mails.
    app.ok(SET, json!({ "r": [], "l": "de" })).await;
    let read = app
        .ok("{ deletionNotices { recipients } }", json!({}))
        .await;
    assert_eq!(read["deletionNotices"]["recipients"], json!([]));
}
