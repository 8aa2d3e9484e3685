//! Acting as a customer's admin and stopping.

use super::*;

fn start(expires_at: DateTime<Utc>) -> CustomerCommand {
    CustomerCommand::StartImpersonation {
        by: "user:ann".into(),
        role: "TENANT_ADMIN".into(),
        reason: "support ticket 42".into(),
        expires_at,
    }
}

#[test]
fn starting_and_ending_an_impersonation_are_recorded_with_who_and_why() {
    let expires_at = t0() + Duration::hours(1);
    Given::with(())
        .given(vec![acme_created()])
        .when(start(expires_at))
        .then_expect_events(vec![CustomerEvent::ImpersonationStarted(
            ImpersonationStarted {
                by: "user:ann".into(),
                role: "TENANT_ADMIN".into(),
                reason: "support ticket 42".into(),
                expires_at,
            },
        )]);
    Given::with(())
        .given(vec![acme_created()])
        .when(end("s1", expires_at))
        .then_expect_events(vec![ended(), session_ended("s1", expires_at)]);
}

fn end(session: &str, expires_at: DateTime<Utc>) -> CustomerCommand {
    CustomerCommand::EndImpersonation {
        by: "user:ann".into(),
        session: Some(session.into()),
        expires_at,
        now: t0(),
    }
}

fn ended() -> CustomerEvent {
    CustomerEvent::ImpersonationEnded(ImpersonationEnded {
        by: "user:ann".into(),
    })
}

fn session_ended(session: &str, expires_at: DateTime<Utc>) -> CustomerEvent {
    CustomerEvent::SessionEnded(SessionEnded {
        session: session.into(),
        expires_at,
        ended_at: t0(),
    })
}

#[test]
fn an_impersonation_that_already_ended_cannot_end_again() {
    let expires_at = t0() + Duration::hours(1);
    Given::with(())
        .given(vec![
            acme_created(),
            ended(),
            session_ended("s1", expires_at),
        ])
        .when(end("s1", expires_at))
        .then_expect_error(CustomerError::SessionAlreadyEnded);
    // Another impersonation of the same customer still ends.
    Given::with(())
        .given(vec![
            acme_created(),
            ended(),
            session_ended("s1", expires_at),
        ])
        .when(end("s2", expires_at))
        .then_expect_events(vec![ended(), session_ended("s2", expires_at)]);
}

#[test]
fn a_token_minted_before_sessions_existed_ends_with_the_record_alone() {
    Given::with(())
        .given(vec![acme_created()])
        .when(CustomerCommand::EndImpersonation {
            by: "user:ann".into(),
            session: None,
            expires_at: t0(),
            now: t0(),
        })
        .then_expect_events(vec![ended()]);
}

#[test]
fn ended_sessions_are_forgotten_once_their_tokens_have_expired() {
    let mut customer = Customer::default();
    for event in [
        acme_created(),
        session_ended("old", t0() - Duration::minutes(1)),
        session_ended("open", t0() + Duration::hours(1)),
    ] {
        cqrs_es::Aggregate::apply(&mut customer, event);
    }
    let kept: Vec<&String> = customer.ended_sessions.keys().collect();
    assert_eq!(kept, ["open"], "the expired one is gone, the live one kept");
}

#[test]
fn a_customer_that_does_not_exist_cannot_be_impersonated() {
    Given::with(())
        .given_no_previous_events()
        .when(start(t0()))
        .then_expect_error(CustomerError::NotFound);
}
