//! Given/when/then tests of webhook endpoints.

use super::*;
use crate::tenant::TenantCommand;
use crate::Rule;
use cqrs_es::test::TestFramework;

type Given = TestFramework<Tenant>;

fn register(url: &str, types: &[&str], allow: bool) -> TenantCommand {
    TenantCommand::Webhook(WebhookCommand::Register {
        endpoint_id: "e1".into(),
        url: url.into(),
        event_types: types.iter().map(|t| t.to_string()).collect(),
        description: " ops ".into(),
        allow_private_addresses: allow,
    })
}

fn registered() -> TenantEvent {
    TenantEvent::WebhookEndpointRegistered(WebhookEndpointRegistered {
        endpoint_id: "e1".into(),
        url: "https://hooks.example.com/in".into(),
        event_types: vec!["CustomerCreated".into()],
        description: "ops".into(),
    })
}

#[test]
fn registering_records_the_endpoint_checked_and_normalised() {
    Given::with(())
        .given_no_previous_events()
        .when(register(
            "https://hooks.example.com/in",
            &["CustomerCreated", "CustomerCreated"],
            false,
        ))
        .then_expect_events(vec![registered()]);
}

#[test]
fn unknown_event_types_private_addresses_and_plain_http_are_refused() {
    let rule = |command| match Given::with(())
        .given_no_previous_events()
        .when(command)
        .inspect_result()
    {
        Err(TenantError::Invalid(v)) => (v[0].field.clone(), v[0].rule),
        other => panic!("{other:?}"),
    };
    let types = rule(register("https://a.example", &["TenantNope"], false));
    assert_eq!(types, ("eventTypes".into(), Rule::AllowedValues));
    let local = rule(register("https://127.0.0.1:9/x", &[], false));
    assert_eq!(local, ("url".into(), Rule::Address));
    let private = rule(register("https://[fd00::1]/x", &[], false));
    assert_eq!(private.1, Rule::Address);
    let plain = rule(register("http://a.example/x", &[], false));
    assert_eq!(plain.1, Rule::Format);
    Given::with(())
        .given_no_previous_events()
        .when(register("http://127.0.0.1:9/x", &[], true))
        .inspect_result()
        .unwrap();
}

#[test]
fn disabling_twice_records_it_once_and_enabling_resumes() {
    let disable = || {
        TenantCommand::Webhook(WebhookCommand::Disable {
            endpoint_id: "e1".into(),
            reason: None,
        })
    };
    let disabled = TenantEvent::WebhookEndpointDisabled(WebhookEndpointDisabled {
        endpoint_id: "e1".into(),
        reason: None,
    });
    Given::with(())
        .given(vec![registered()])
        .when(disable())
        .then_expect_events(vec![disabled.clone()]);
    Given::with(())
        .given(vec![registered(), disabled.clone()])
        .when(disable())
        .then_expect_events(vec![]);
    Given::with(())
        .given(vec![registered(), disabled])
        .when(TenantCommand::Webhook(WebhookCommand::Enable {
            endpoint_id: "e1".into(),
        }))
        .then_expect_events(vec![TenantEvent::WebhookEndpointEnabled(
            WebhookEndpointEnabled {
                endpoint_id: "e1".into(),
            },
        )]);
}

#[test]
fn an_unknown_or_deleted_endpoint_is_refused() {
    let deleted = TenantEvent::WebhookEndpointDeleted(WebhookEndpointDeleted {
        endpoint_id: "e1".into(),
    });
    let result = Given::with(())
        .given(vec![registered(), deleted])
        .when(TenantCommand::Webhook(WebhookCommand::Enable {
            endpoint_id: "e1".into(),
        }))
        .inspect_result();
    assert!(matches!(result, Err(TenantError::Invalid(v)) if v[0].field == "id"));
}
