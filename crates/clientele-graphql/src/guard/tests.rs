//! The access table's own checks.

use super::*;

#[test]
fn every_operation_has_one_row() {
    for (i, a) in OPERATIONS.iter().enumerate() {
        let twice = OPERATIONS[i + 1..]
            .iter()
            .any(|b| a.root == b.root && a.name == b.name);
        assert!(!twice, "{:?} {} has two rows", a.root, a.name);
    }
}

#[test]
fn a_role_may_run_what_its_abilities_allow() {
    assert!(may(Role::Seller, Root::Mutation, "createCustomer"));
    assert!(!may(Role::Seller, Root::Mutation, "deleteCustomer"));
    assert!(!may(Role::CustomerUser, Root::Customer, "users"));
    assert!(may(
        Role::Auditor,
        Root::Subscription,
        "customerCountsByStatus"
    ));
    assert!(!may(Role::TenantAdmin, Root::Mutation, "endImpersonation"));
    assert!(may(Role::TenantAdmin, Root::Mutation, "revokeSessions"));
    assert!(may(Role::Reseller, Root::Mutation, "revokeSessions"));
    assert!(!may(Role::Seller, Root::Mutation, "revokeSessions"));
    assert!(!may(Role::CustomerAdmin, Root::Mutation, "revokeSessions"));
    assert!(!may(Role::TenantAdmin, Root::Query, "noSuchOperation"));
    assert_eq!(needs!(Query, "customerAsOf"), Ability::Audit);
}

#[test]
fn a_bulk_mutation_needs_what_its_single_mutation_needs() {
    for (bulk, single) in [
        ("bulkEditCustomers", "editCustomer"),
        ("bulkSetProductVisibility", "setProductVisibility"),
        ("bulkRequestDeletion", "requestDeletion"),
    ] {
        let ability = lookup(Root::Mutation, bulk);
        assert_eq!(ability, lookup(Root::Mutation, single), "{bulk}");
    }
}
