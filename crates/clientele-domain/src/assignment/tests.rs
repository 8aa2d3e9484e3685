//! Given/when/then tests for assignments.

use cqrs_es::test::TestFramework;

use super::*;
use crate::Rule;

type Devices = TestFramework<Owned<Device>>;
type Dashboards = TestFramework<DashboardAssignment>;

fn assign(customer: &str, target: CustomerState, owner_deleted: bool) -> OwnershipCommand {
    OwnershipCommand::Assign {
        tenant: "acme".into(),
        entity_id: "dev-1".into(),
        customer_id: customer.into(),
        target,
        owner_deleted,
    }
}

fn assigned(customer: &str, previous: Option<&str>) -> OwnershipEvent {
    OwnershipEvent::DeviceAssigned(Assigned {
        tenant: "acme".into(),
        entity_id: "dev-1".into(),
        customer_id: customer.into(),
        previous_customer_id: previous.map(Into::into),
    })
}

#[test]
fn a_device_belongs_to_one_customer_and_reassigning_names_both() {
    Devices::with(())
        .given_no_previous_events()
        .when(assign("c1", CustomerState::Live, false))
        .then_expect_events(vec![assigned("c1", None)]);
    Devices::with(())
        .given(vec![assigned("c1", None)])
        .when(assign("c2", CustomerState::Live, false))
        .then_expect_events(vec![assigned("c2", Some("c1"))]);
    Devices::with(())
        .given(vec![assigned("c1", None)])
        .when(assign("c1", CustomerState::Live, false))
        .then_expect_events(vec![]);
}

#[test]
fn a_device_cannot_go_to_a_deleted_or_unknown_customer() {
    Devices::with(())
        .given_no_previous_events()
        .when(assign("c1", CustomerState::Deleted, false))
        .then_expect_error(AssignmentError::CustomerDeleted);
    Devices::with(())
        .given_no_previous_events()
        .when(assign("c1", CustomerState::Missing, false))
        .then_expect_error(AssignmentError::CustomerNotFound);
}

#[test]
fn a_device_whose_owner_was_deleted_is_unassigned() {
    Devices::with(())
        .given(vec![assigned("gone", None)])
        .when(assign("c2", CustomerState::Live, true))
        .then_expect_events(vec![assigned("c2", None)]);
    Devices::with(())
        .given(vec![assigned("gone", None)])
        .when(OwnershipCommand::Unassign {
            owner_deleted: true,
        })
        .then_expect_events(vec![]);
    Devices::with(())
        .given(vec![assigned("c1", None)])
        .when(OwnershipCommand::Unassign {
            owner_deleted: false,
        })
        .then_expect_events(vec![OwnershipEvent::DeviceUnassigned(Unassigned {
            entity_id: "dev-1".into(),
            customer_id: "c1".into(),
        })]);
}

#[test]
fn entity_ids_are_short_and_plain() {
    for (id, rule) in [
        ("", Rule::Length),
        ("a b", Rule::Charset),
        ("a/b", Rule::Charset),
    ] {
        let result = Devices::with(())
            .given_no_previous_events()
            .when(OwnershipCommand::Assign {
                tenant: "acme".into(),
                entity_id: id.into(),
                customer_id: "c1".into(),
                target: CustomerState::Live,
                owner_deleted: false,
            })
            .inspect_result();
        match result {
            Err(AssignmentError::Invalid(v)) => {
                assert_eq!((v[0].field.as_str(), v[0].rule), ("deviceId", rule))
            }
            other => panic!("{id:?}: {other:?}"),
        }
    }
    let long = "x".repeat(MAX_ENTITY_ID + 1);
    assert!(check_entity_id(EntityKind::Device, &long).is_err());
}

fn link() -> DashboardLink {
    DashboardLink {
        tenant: "acme".into(),
        dashboard_id: "dash".into(),
        customer_id: "c1".into(),
    }
}

#[test]
fn a_dashboard_assignment_is_per_customer_and_the_home_dashboard_stays() {
    let assign = DashboardCommand::Assign {
        tenant: "acme".into(),
        dashboard_id: "dash".into(),
        customer_id: "c1".into(),
        target: CustomerState::Live,
    };
    Dashboards::with(())
        .given_no_previous_events()
        .when(assign.clone())
        .then_expect_events(vec![DashboardEvent::DashboardAssigned(link())]);
    Dashboards::with(())
        .given(vec![DashboardEvent::DashboardAssigned(link())])
        .when(assign)
        .then_expect_events(vec![]);
    Dashboards::with(())
        .given(vec![DashboardEvent::DashboardAssigned(link())])
        .when(DashboardCommand::Unassign {
            target: CustomerState::Live,
            is_home: true,
        })
        .then_expect_error(AssignmentError::HomeDashboard);
    Dashboards::with(())
        .given(vec![DashboardEvent::DashboardAssigned(link())])
        .when(DashboardCommand::Unassign {
            target: CustomerState::Live,
            is_home: false,
        })
        .then_expect_events(vec![DashboardEvent::DashboardUnassigned(link())]);
}

#[test]
fn the_stored_event_type_names_never_change() {
    assert_eq!(
        OwnershipEvent::TYPES,
        [
            "DeviceAssigned",
            "DeviceUnassigned",
            "AssetAssigned",
            "AssetUnassigned",
            "EdgeAssigned",
            "EdgeUnassigned",
        ]
    );
    assert_eq!(
        DashboardEvent::TYPES,
        ["DashboardAssigned", "DashboardUnassigned"]
    );
    let event = DashboardEvent::DashboardUnassigned(link());
    assert_eq!(
        cqrs_es::DomainEvent::event_type(&event),
        "DashboardUnassigned"
    );
}
