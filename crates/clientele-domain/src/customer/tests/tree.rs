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
        height: 0,
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

#[test]
fn a_tree_has_at_most_fifty_levels_counting_what_a_move_carries() {
    let ancestors: Vec<String> = (0..MAX_DEPTH).map(|i| format!("a{i}")).collect();
    let at_level = |level: usize| {
        let above: Vec<&str> = ancestors[..level - 1].iter().map(String::as_str).collect();
        parent("p", true, &above)
    };
    let under_p = vec![acme_created()];
    // Moving a customer without inner customers under a parent on level 49 puts it on 50.
    let move_to = |p: ParentFacts, height: usize| CustomerCommand::MoveCustomer {
        id: "me".into(),
        parent: Some(p),
        height,
    };
    Given::with(())
        .given(under_p.clone())
        .when(move_to(at_level(MAX_DEPTH - 1), 0))
        .then_expect_events(vec![moved(None, Some("p"))]);
    for (level, height) in [(MAX_DEPTH, 0), (MAX_DEPTH - 1, 1), (1, MAX_DEPTH - 1)] {
        let result = Given::with(())
            .given(under_p.clone())
            .when(move_to(at_level(level), height))
            .inspect_result();
        assert_eq!(rules(result), vec![("parentId".into(), Rule::Limit)]);
    }
}
