//! `viewer`: who the caller is, and what the access table lets it do, for several roles
//! and under impersonation; what it says may be run is what runs.

use clientele_graphql::guard::{self, Root};
use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    the_viewer_of_each_role_names_what_the_access_table_allows,
    a_customer_admin_sees_its_customer_and_its_editable_fields,
    an_impersonation_names_who_acts_as_whom_until_when,
);

const VIEWER: &str = "{ viewer { subject role tenant customerId customer { id name } impersonation { actor actorRole customerId expiresAt } expiresAt queries mutations subscriptions editableCustomerFields } }";

async fn viewer(app: &TestApp, token: &str) -> Value {
    let body = app.graphql_as(token, VIEWER, json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"]["viewer"].clone()
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

async fn the_viewer_of_each_role_names_what_the_access_table_allows(backend: Backend) {
    let app = spawn_app(backend).await;
    for role in [Role::TenantAdmin, Role::Seller, Role::Auditor] {
        let token = mint("someone", "default", role, None);
        let me = viewer(&app, &token).await;
        assert_eq!(me["subject"], "someone");
        assert_eq!(me["role"], role.as_str());
        assert_eq!(me["tenant"], "default");
        assert_eq!(me["customerId"], Value::Null);
        assert_eq!(me["impersonation"], Value::Null);
        for (root, list) in [
            (Root::Query, "queries"),
            (Root::Mutation, "mutations"),
            (Root::Subscription, "subscriptions"),
        ] {
            for name in names(&me[list]) {
                let no_token = matches!(
                    guard::lookup(root, name),
                    Some(guard::Ability::ActivateUser)
                );
                assert!(no_token || guard::may(role, root, name), "{role:?} {name}");
            }
        }
        let mutations = names(&me["mutations"]);
        assert!(
            mutations.contains(&"signIn"),
            "needs no token: {mutations:?}"
        );
        assert!(!mutations.contains(&"endImpersonation"));
        assert!(names(&me["queries"]).contains(&"viewer"));
        // What the list says is what runs.
        let created = app
            .graphql_as(
                &token,
                "mutation($name: String!) { createCustomer(input: { name: $name }) { id } }",
                json!({ "name": format!("by-{}", role.as_str()) }),
            )
            .await;
        let may_create = mutations.contains(&"createCustomer");
        assert_eq!(
            created.get("errors").is_none(),
            may_create,
            "{role:?}: {created}"
        );
        if !may_create {
            assert_eq!(code(&created), "FORBIDDEN");
        }
        match role {
            Role::TenantAdmin => {
                assert!(mutations.contains(&"deleteCustomer"));
                assert_eq!(me["editableCustomerFields"].as_array().unwrap().len(), 25);
            }
            Role::Seller => {
                assert!(mutations.contains(&"createCustomer"));
                assert!(!mutations.contains(&"deleteCustomer"));
                app.ok(
                    "query($id: ID!) { customer(id: $id) { id } }",
                    json!({ "id": created["data"]["createCustomer"]["id"] }),
                )
                .await;
            }
            _ => {
                assert!(!mutations.contains(&"editCustomer"));
                assert_eq!(me["editableCustomerFields"], json!([]));
                assert!(names(&me["queries"]).contains(&"customerAsOf"));
            }
        }
    }
}

async fn a_customer_admin_sees_its_customer_and_its_editable_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.new_customer("own-customer", None).await;
    let token = mint("ada", "default", Role::CustomerAdmin, Some(&id));
    let me = viewer(&app, &token).await;
    assert_eq!(me["role"], "CUSTOMER_ADMIN");
    assert_eq!(me["customerId"], id.as_str());
    assert_eq!(me["customer"]["name"], "own-customer");
    let fields = names(&me["editableCustomerFields"]);
    assert!(
        fields.contains(&"CITY") && fields.contains(&"EMAIL"),
        "{fields:?}"
    );
    assert!(
        !fields.contains(&"CUSTOM_ID") && !fields.contains(&"NAME"),
        "{fields:?}"
    );
    let mutations = names(&me["mutations"]);
    assert!(mutations.contains(&"editCustomer") && !mutations.contains(&"createCustomer"));
    // The same list as customerFieldRules' editable fields.
    let rules = app
        .graphql_as(
            &token,
            "{ customerFieldRules { field editable } }",
            json!({}),
        )
        .await;
    let editable: Vec<&str> = rules["data"]["customerFieldRules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["editable"] == true)
        .map(|r| r["field"].as_str().unwrap())
        .collect();
    assert_eq!(editable, fields);
    let user = viewer(&app, &mint("cu", "default", Role::CustomerUser, Some(&id))).await;
    assert_eq!(user["editableCustomerFields"], json!([]));
    assert!(!names(&user["mutations"]).contains(&"editCustomer"));
}

async fn an_impersonation_names_who_acts_as_whom_until_when(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = app.new_customer("acted-as", None).await;
    let reseller = mint("rita", "default", Role::Reseller, None);
    let answer = app
        .graphql_as(
            &reseller,
            "mutation($id: ID!) { loginAs(customerId: $id, reason: \"support call\") { token expiresAt } }",
            json!({ "id": id }),
        )
        .await;
    let token = answer["data"]["loginAs"]["token"].as_str().unwrap();
    let me = viewer(&app, token).await;
    assert_eq!(me["role"], "CUSTOMER_ADMIN");
    assert_eq!(me["customerId"], id.as_str());
    let imp = &me["impersonation"];
    assert_eq!(imp["actor"], "rita");
    assert_eq!(imp["actorRole"], "RESELLER");
    assert_eq!(imp["customerId"], id.as_str());
    // The token's expiry counts whole seconds.
    let at = |v: &Value| {
        v.as_str()
            .unwrap()
            .parse::<chrono::DateTime<chrono::Utc>>()
            .unwrap()
    };
    let off_by = at(&imp["expiresAt"]) - at(&answer["data"]["loginAs"]["expiresAt"]);
    assert!(off_by.abs() < chrono::Duration::seconds(1), "{imp}");
    let mutations = names(&me["mutations"]);
    assert!(mutations.contains(&"endImpersonation") && !mutations.contains(&"loginAs"));
}
