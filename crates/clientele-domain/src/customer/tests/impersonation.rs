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
        .when(CustomerCommand::EndImpersonation {
            by: "user:ann".into(),
        })
        .then_expect_events(vec![CustomerEvent::ImpersonationEnded(
            ImpersonationEnded {
                by: "user:ann".into(),
            },
        )]);
}

#[test]
fn a_customer_that_does_not_exist_cannot_be_impersonated() {
    Given::with(())
        .given_no_previous_events()
        .when(start(t0()))
        .then_expect_error(CustomerError::NotFound);
}
