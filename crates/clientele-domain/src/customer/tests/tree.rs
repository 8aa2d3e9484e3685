//! Inner customers: creating under a parent, and moving.

use super::*;

fn parent(id: &str, exists: bool, ancestors: &[&str]) -> ParentFacts {
    ParentFacts {
        id: id.into(),
        exists,
        ancestors: ancestors.iter().map(|a| a.to_string()).collect(),
    }
}

fn moved(from: Option<&str>, to: Option<&str>) -> CustomerEvent {
    CustomerEvent::CustomerMoved(CustomerMoved {
        from: from.map(Into::into),
        to: to.map(Into::into),
    })
}

#[test]
fn an_inner_customer_is_created_under_a_live_parent() {
    let create = |parent| CustomerCommand::CreateCustomer {
        tenant: "acme".into(),
        draft: CustomerDraft {
            name: "acme".into(),
            ..Default::default()
        },
        required: vec![],
        parent: Some(parent),
        requested_name: None,
        products: vec![],
    };
    Given::with(())
        .given_no_previous_events()
        .when(create(parent("p", true, &[])))
        .then_expect_events(vec![acme_created(), moved(None, Some("p"))]);
    let result = Given::with(())
        .given_no_previous_events()
        .when(create(parent("gone", false, &[])))
        .inspect_result();
    assert_eq!(
        rules(result),
        vec![("parentId".into(), Rule::UnknownCustomer)]
    );
}

#[test]
fn moving_refuses_cycles_and_records_both_parents() {
    let move_to = |p: Option<ParentFacts>| CustomerCommand::MoveCustomer {
        id: "me".into(),
        parent: p,
    };
    let under_p = vec![acme_created(), moved(None, Some("p"))];
    Given::with(())
        .given(under_p.clone())
        .when(move_to(Some(parent("q", true, &["r"]))))
        .then_expect_events(vec![moved(Some("p"), Some("q"))]);
    Given::with(())
        .given(under_p.clone())
        .when(move_to(None))
        .then_expect_events(vec![moved(Some("p"), None)]);
    Given::with(())
        .given(under_p.clone())
        .when(move_to(Some(parent("p", true, &[]))))
        .then_expect_events(vec![]);
    for facts in [
        parent("me", true, &[]),
        parent("grandchild", true, &["me", "child"]),
    ] {
        let result = Given::with(())
            .given(under_p.clone())
            .when(move_to(Some(facts)))
            .inspect_result();
        assert_eq!(rules(result), vec![("parentId".into(), Rule::Cycle)]);
    }
}
