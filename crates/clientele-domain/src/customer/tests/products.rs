//! Visibility, activation and product status moves, and the account status they cause.

use super::*;
use crate::{AccountStatus, ProductStatus};

const LISTED_HIDDEN: CatalogueEntry = CatalogueEntry::Listed {
    globally_visible: false,
};
const LISTED_VISIBLE: CatalogueEntry = CatalogueEntry::Listed {
    globally_visible: true,
};

fn activate(product: &str, catalogue: CatalogueEntry) -> CustomerCommand {
    CustomerCommand::ActivateProduct {
        product: product.into(),
        catalogue,
    }
}

fn set_status(product: &str, status: ProductStatus) -> CustomerCommand {
    CustomerCommand::SetProductStatus {
        product: product.into(),
        status,
    }
}

fn activated(product: &str) -> CustomerEvent {
    CustomerEvent::ProductActivated(ProductActivated {
        product: product.into(),
        previous: None,
        status: ProductStatus::New,
    })
}

fn changed(product: &str, from: ProductStatus, to: ProductStatus) -> CustomerEvent {
    CustomerEvent::ProductStatusChanged(ProductStatusChanged {
        product: product.into(),
        from,
        to,
    })
}

fn account(from: AccountStatus, to: AccountStatus) -> CustomerEvent {
    CustomerEvent::AccountStatusChanged(AccountStatusChanged {
        from,
        to,
        cause: "ProductStatusChanged".into(),
    })
}

fn rule_of(result: Result<Vec<CustomerEvent>, CustomerError>) -> Rule {
    match result {
        Err(CustomerError::Invalid(v)) => v[0].rule,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn a_hidden_product_cannot_be_activated() {
    let result = Given::with(())
        .given(vec![created(CustomerProfile::named("acme"))])
        .when(activate("CDN", LISTED_HIDDEN))
        .inspect_result();
    assert_eq!(rule_of(result), Rule::NotVisible);
}

#[test]
fn the_customers_own_visibility_overrides_the_global_setting() {
    let shown = CustomerEvent::ProductVisibilitySet(ProductVisibilitySet {
        product: "CDN".into(),
        visible: true,
        previous: None,
    });
    Given::with(())
        .given(vec![created(CustomerProfile::named("acme"))])
        .when(CustomerCommand::SetProductVisibility {
            product: "CDN".into(),
            visible: true,
            catalogue: LISTED_HIDDEN,
        })
        .then_expect_events(vec![shown.clone()]);
    Given::with(())
        .given(vec![created(CustomerProfile::named("acme")), shown])
        .when(activate("CDN", LISTED_HIDDEN))
        .then_expect_events(vec![activated("CDN")]);
    let hidden = CustomerEvent::ProductVisibilitySet(ProductVisibilitySet {
        product: "CDN".into(),
        visible: false,
        previous: None,
    });
    let result = Given::with(())
        .given(vec![created(CustomerProfile::named("acme")), hidden])
        .when(activate("CDN", LISTED_VISIBLE))
        .inspect_result();
    assert_eq!(
        rule_of(result),
        Rule::NotVisible,
        "a customer's own 'hidden' wins over a visible global"
    );
}

#[test]
fn activating_twice_or_an_unknown_product_is_refused() {
    let result = Given::with(())
        .given(vec![
            created(CustomerProfile::named("acme")),
            activated("CDN"),
        ])
        .when(activate("CDN", LISTED_VISIBLE))
        .inspect_result();
    assert_eq!(rule_of(result), Rule::AlreadyActivated);
    let result = Given::with(())
        .given(vec![created(CustomerProfile::named("acme"))])
        .when(activate("NOPE", CatalogueEntry::Unknown))
        .inspect_result();
    assert_eq!(rule_of(result), Rule::UnknownProduct);
}

#[test]
fn a_status_change_records_both_statuses_and_the_account_status_it_causes() {
    Given::with(())
        .given(vec![
            created(CustomerProfile::named("acme")),
            activated("CDN"),
        ])
        .when(set_status("CDN", ProductStatus::Trial))
        .then_expect_events(vec![
            changed("CDN", ProductStatus::New, ProductStatus::Trial),
            account(AccountStatus::Preparation, AccountStatus::Trial),
        ]);
}

#[test]
fn a_status_change_that_keeps_the_account_status_records_no_account_change() {
    Given::with(())
        .given(vec![
            created(CustomerProfile::named("acme")),
            activated("CDN"),
            activated("DNS"),
            changed("CDN", ProductStatus::New, ProductStatus::Active),
        ])
        .when(set_status("DNS", ProductStatus::Trial))
        .then_expect_events(vec![changed(
            "DNS",
            ProductStatus::New,
            ProductStatus::Trial,
        )]);
}

#[test]
fn senseless_transitions_are_refused() {
    let result = Given::with(())
        .given(vec![created(CustomerProfile::named("acme"))])
        .when(set_status("CDN", ProductStatus::Active))
        .inspect_result();
    assert_eq!(rule_of(result), Rule::NotActivated);
    let result = Given::with(())
        .given(vec![
            created(CustomerProfile::named("acme")),
            activated("CDN"),
            changed("CDN", ProductStatus::New, ProductStatus::Active),
        ])
        .when(set_status("CDN", ProductStatus::Trial))
        .inspect_result();
    assert_eq!(rule_of(result), Rule::Transition);
}

#[test]
fn a_trial_contract_has_no_active_product() {
    let trial = CustomerProfile {
        service_status: Some(ServiceStatus::TrialActive),
        ..CustomerProfile::named("acme")
    };
    let result = Given::with(())
        .given(vec![created(trial), activated("CDN")])
        .when(set_status("CDN", ProductStatus::Active))
        .inspect_result();
    assert_eq!(rule_of(result), Rule::ServiceStatus);
    let result = Given::with(())
        .given(vec![
            created(CustomerProfile::named("acme")),
            activated("CDN"),
            changed("CDN", ProductStatus::New, ProductStatus::Active),
        ])
        .when(edit(CustomerChanges {
            service_status: Change::Set(ServiceStatus::TrialActive),
            ..Default::default()
        }))
        .inspect_result();
    assert_eq!(rule_of(result), Rule::ServiceStatus);
}

#[test]
fn a_deleted_product_can_be_activated_again() {
    Given::with(())
        .given(vec![
            created(CustomerProfile::named("acme")),
            activated("CDN"),
            changed("CDN", ProductStatus::New, ProductStatus::Deleted),
        ])
        .when(activate("CDN", LISTED_VISIBLE))
        .then_expect_events(vec![
            CustomerEvent::ProductActivated(ProductActivated {
                product: "CDN".into(),
                previous: Some(ProductStatus::Deleted),
                status: ProductStatus::New,
            }),
            CustomerEvent::AccountStatusChanged(AccountStatusChanged {
                from: AccountStatus::TrialEnd,
                to: AccountStatus::Preparation,
                cause: "ProductActivated".into(),
            }),
        ]);
}

fn shown(product: &str, visible: bool, previous: Option<bool>) -> CustomerEvent {
    CustomerEvent::ProductVisibilitySet(ProductVisibilitySet {
        product: product.into(),
        visible,
        previous,
    })
}

fn toggle(product: &str, visible: bool, catalogue: CatalogueEntry) -> ProductToggle {
    ProductToggle {
        product: product.into(),
        visible,
        catalogue,
    }
}

fn create_with(products: Vec<ProductToggle>) -> CustomerCommand {
    CustomerCommand::CreateCustomer {
        tenant: "acme".into(),
        draft: CustomerDraft {
            name: "acme".into(),
            ..Default::default()
        },
        required: vec![],
        parent: None,
        requested_name: None,
        products,
    }
}

#[test]
fn the_creation_forms_toggles_are_overrides_written_with_the_creation() {
    Given::with(())
        .given_no_previous_events()
        .when(create_with(vec![
            toggle("CDN", true, LISTED_HIDDEN),
            toggle("DNS", false, LISTED_HIDDEN),
        ]))
        .then_expect_events(vec![
            acme_created(),
            shown("CDN", true, None),
            shown("DNS", false, None),
        ]);
}

#[test]
fn an_unknown_or_repeated_toggle_refuses_the_creation() {
    let refused = rules(Customer::default().decide(create_with(vec![
        toggle("CDN", true, LISTED_HIDDEN),
        toggle("NOPE", true, CatalogueEntry::Unknown),
        toggle("CDN", false, LISTED_HIDDEN),
    ])));
    assert_eq!(
        refused,
        [
            ("products".to_string(), Rule::UnknownProduct),
            ("products".to_string(), Rule::Unique)
        ]
    );
}

#[test]
fn a_reset_removes_the_override_and_only_when_there_is_one() {
    let reset = |product: &str, catalogue| CustomerCommand::ResetProductVisibility {
        product: product.into(),
        catalogue,
    };
    Given::with(())
        .given(vec![acme_created(), shown("CDN", false, None)])
        .when(reset("CDN", LISTED_VISIBLE))
        .then_expect_events(vec![CustomerEvent::ProductVisibilityReset(
            ProductVisibilityReset {
                product: "CDN".into(),
                previous: false,
            },
        )]);
    Given::with(())
        .given(vec![acme_created()])
        .when(reset("CDN", LISTED_VISIBLE))
        .then_expect_events(vec![]);
    let mut customer = Customer::default();
    for event in [acme_created(), shown("CDN", false, None)] {
        customer.apply(event);
    }
    let refused = rules(customer.decide(reset("NOPE", CatalogueEntry::Unknown)));
    assert_eq!(refused, [("product".to_string(), Rule::UnknownProduct)]);
    customer.apply(CustomerEvent::ProductVisibilityReset(
        ProductVisibilityReset {
            product: "CDN".into(),
            previous: false,
        },
    ));
    assert_eq!(
        customer.products.get("CDN"),
        None,
        "follows the global setting"
    );
}
