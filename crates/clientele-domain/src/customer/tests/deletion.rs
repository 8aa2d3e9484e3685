//! Deletion requests, cancelling them, and deletion (with a subtree, too).

use super::*;
use crate::{AccountStatus, ProductStatus};
use chrono::{DateTime, Duration, Utc};

fn at(day: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::days(day)
}

fn active_customer() -> Vec<CustomerEvent> {
    vec![
        created(CustomerProfile {
            shortname: Some("acme1".into()),
            email: Some("a@acme.example".into()),
            ..CustomerProfile::named("acme")
        }),
        CustomerEvent::ProductActivated(ProductActivated {
            product: "CDN".into(),
            previous: None,
            status: ProductStatus::New,
        }),
        CustomerEvent::ProductStatusChanged(ProductStatusChanged {
            product: "CDN".into(),
            from: ProductStatus::New,
            to: ProductStatus::Active,
        }),
    ]
}

/// The active customer after its deletion was requested (its product paused).
fn with_open_request() -> Vec<CustomerEvent> {
    let mut given = active_customer();
    given.extend([requested(), paused()]);
    given
}

fn request() -> CustomerCommand {
    CustomerCommand::RequestDeletion {
        request_id: "r1".into(),
        reason: Some("moving on".into()),
        requested_by: "user:ann".into(),
        due_at: at(10),
        delete_inner_customers: false,
        inner_customers: vec![],
    }
}

fn requested() -> CustomerEvent {
    CustomerEvent::DeletionRequested(DeletionRequested {
        request_id: "r1".into(),
        reason: Some("moving on".into()),
        requested_by: "user:ann".into(),
        due_at: at(10),
        stopped: vec![StoppedProduct {
            product: "CDN".into(),
            previous: ProductStatus::Active,
        }],
        delete_inner_customers: false,
    })
}

fn paused() -> CustomerEvent {
    CustomerEvent::ProductStatusChanged(ProductStatusChanged {
        product: "CDN".into(),
        from: ProductStatus::Active,
        to: ProductStatus::Paused,
    })
}

fn delete(confirmation: Confirmation) -> CustomerCommand {
    CustomerCommand::DeleteCustomer {
        confirmation,
        deleted_by: "user:bob".into(),
        inner_customers: vec![],
        released: Default::default(),
    }
}

#[test]
fn a_deletion_request_stops_every_product_in_use() {
    Given::with(())
        .given(active_customer())
        .when(request())
        .then_expect_events(vec![
            requested(),
            paused(),
            CustomerEvent::AccountStatusChanged(AccountStatusChanged {
                from: AccountStatus::Active,
                to: AccountStatus::TrialEnd,
                cause: "DeletionRequested".into(),
            }),
        ]);
}

#[test]
fn a_second_request_while_one_is_open_is_refused() {
    let given = with_open_request();
    Given::with(())
        .given(given)
        .when(request())
        .then_expect_error(CustomerError::RequestAlreadyOpen);
}

#[test]
fn cancelling_returns_stopped_products_to_their_statuses() {
    let given = with_open_request();
    let cancel = CustomerCommand::CancelDeletionRequest {
        note: "stays with us".into(),
        cancelled_by: "user:bob".into(),
    };
    let events = Given::with(())
        .given(given)
        .when(cancel)
        .inspect_result()
        .unwrap();
    assert!(
        matches!(&events[0], CustomerEvent::DeletionCancelled(c) if c.note == "stays with us" && c.restored.len() == 1)
    );
    assert!(
        matches!(&events[1], CustomerEvent::ProductStatusChanged(c) if c.to == ProductStatus::Active)
    );
    assert!(
        matches!(&events[2], CustomerEvent::AccountStatusChanged(c) if c.to == AccountStatus::Active)
    );
}

#[test]
fn cancelling_without_an_open_request_is_refused() {
    Given::with(())
        .given(active_customer())
        .when(CustomerCommand::CancelDeletionRequest {
            note: "x".into(),
            cancelled_by: "y".into(),
        })
        .then_expect_error(CustomerError::NoOpenRequest);
}

#[test]
fn deleting_needs_the_shortname_typed() {
    let result = Given::with(())
        .given(active_customer())
        .when(delete(Confirmation::Typed("acme".into())))
        .inspect_result();
    assert!(matches!(result, Err(CustomerError::Invalid(v)) if v[0].rule == Rule::Confirmation));
}

#[test]
fn deleting_ends_products_erases_personal_data_and_is_final() {
    let events = Given::with(())
        .given(active_customer())
        .when(delete(Confirmation::Typed("acme1".into())))
        .inspect_result()
        .unwrap();
    let types: Vec<String> = events
        .iter()
        .map(cqrs_es::DomainEvent::event_type)
        .collect();
    assert_eq!(
        types,
        [
            "ProductStatusChanged",
            "AssignmentsReleased",
            "CustomerDeleted",
            "AccountStatusChanged"
        ]
    );
    let mut customer = Customer::default();
    for event in active_customer().into_iter().chain(events) {
        customer.apply(event);
    }
    assert_eq!(customer.account_status(), AccountStatus::Deleted);
    assert_eq!(customer.profile.as_ref().unwrap().email, None);
    let mut given = active_customer();
    given.push(CustomerEvent::CustomerDeleted(CustomerDeleted {
        request_id: None,
        deleted_by: "user:bob".into(),
        automatic: false,
        deleted_with: None,
    }));
    Given::with(())
        .given(given)
        .when(edit(CustomerChanges::default()))
        .then_expect_error(CustomerError::Deleted);
}

#[test]
fn the_service_deletes_only_a_due_open_request() {
    let given = with_open_request();
    let early = Confirmation::DueRequest {
        request_id: "r1".into(),
        now: at(9),
    };
    Given::with(())
        .given(given.clone())
        .when(delete(early))
        .then_expect_error(CustomerError::NotDue);
    let due = Confirmation::DueRequest {
        request_id: "r1".into(),
        now: at(10),
    };
    let events = Given::with(())
        .given(given)
        .when(delete(due))
        .inspect_result()
        .unwrap();
    assert!(events
        .iter()
        .any(|e| matches!(e, CustomerEvent::CustomerDeleted(d)
        if d.automatic && d.request_id.as_deref() == Some("r1"))));
}

#[test]
fn a_customer_with_inner_customers_is_deleted_only_with_its_subtree() {
    let delete = |inner: Vec<String>, confirmation| CustomerCommand::DeleteCustomer {
        confirmation,
        deleted_by: "bob".into(),
        inner_customers: inner,
        released: Default::default(),
    };
    Given::with(())
        .given(with_user())
        .when(delete(
            vec!["child".into()],
            Confirmation::Typed("acme".into()),
        ))
        .then_expect_error(CustomerError::HasInnerCustomers(vec!["child".into()]));
    let events = Given::with(())
        .given(with_user())
        .when(delete(
            vec![],
            Confirmation::Subtree {
                root: "parent".into(),
                due_request: None,
            },
        ))
        .inspect_result()
        .unwrap();
    let types: Vec<String> = events
        .iter()
        .map(cqrs_es::DomainEvent::event_type)
        .collect();
    assert_eq!(
        types,
        [
            "CustomerUserRemoved",
            "AssignmentsReleased",
            "CustomerDeleted",
            "AccountStatusChanged"
        ]
    );
    let mut customer = Customer::default();
    for event in with_user().into_iter().chain(events) {
        customer.apply(event);
    }
    assert!(customer.users.is_empty(), "users go with the customer");
}

#[test]
fn a_request_on_a_customer_with_inner_customers_needs_them_to_go_with_it() {
    let with_children = |delete_inner_customers| CustomerCommand::RequestDeletion {
        request_id: "r1".into(),
        reason: None,
        requested_by: "user:ann".into(),
        due_at: at(10),
        delete_inner_customers,
        inner_customers: vec!["child".into()],
    };
    Given::with(())
        .given(active_customer())
        .when(with_children(false))
        .then_expect_error(CustomerError::HasInnerCustomers(vec!["child".into()]));
    let events = Given::with(())
        .given(active_customer())
        .when(with_children(true))
        .inspect_result()
        .unwrap();
    assert!(matches!(
        &events[0],
        CustomerEvent::DeletionRequested(r) if r.delete_inner_customers
    ));
}

#[test]
fn an_inner_customer_deleted_with_its_ancestors_due_request_carries_the_cause() {
    let events = Given::with(())
        .given(active_customer())
        .when(delete(Confirmation::Subtree {
            root: "parent".into(),
            due_request: Some("r-parent".into()),
        }))
        .inspect_result()
        .unwrap();
    let deleted = events
        .iter()
        .find_map(|e| match e {
            CustomerEvent::CustomerDeleted(d) => Some(d.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(deleted.request_id.as_deref(), Some("r-parent"));
    assert!(deleted.automatic);
    assert_eq!(deleted.deleted_with.as_deref(), Some("parent"));
}

#[test]
fn the_release_names_every_id_in_chunks_of_a_thousand() {
    let devices: Vec<String> = (0..1500).map(|i| format!("d{i}")).collect();
    let events = Given::with(())
        .given(active_customer())
        .when(CustomerCommand::DeleteCustomer {
            confirmation: Confirmation::Typed("acme1".into()),
            deleted_by: "user:bob".into(),
            inner_customers: vec![],
            released: [
                devices.clone(),
                vec![],
                vec!["e1".into()],
                vec!["dash".into()],
            ],
        })
        .inspect_result()
        .unwrap();
    let released: Vec<&AssignmentsReleased> = events
        .iter()
        .filter_map(|e| match e {
            CustomerEvent::AssignmentsReleased(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(released.len(), 2);
    assert_eq!(released[0].devices.len(), 1000);
    assert_eq!(released[1].devices.len(), 500);
    assert_eq!(released[1].edges, ["e1"]);
    assert_eq!(released[1].dashboards, ["dash"]);
}
