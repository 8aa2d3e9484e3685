//! Tenant isolation, proven for every operation of the schema: the list below is checked
//! against the schema itself, so a new query or mutation cannot be forgotten. Which role may
//! run which operation comes from the access table (`clientele_graphql::guard`), which must
//! have a row for every operation of the schema.

use std::collections::BTreeSet;

use clientele_graphql::guard::{self, Root};
use clientele_graphql::Role;
use clientele_tests::{mint, on_both_backends, spawn_app, Backend, TestApp};
use serde_json::{json, Value};

on_both_backends!(
    no_operation_reaches_another_tenants_customers,
    roles_that_must_not_pass_are_refused_everywhere,
);

/// Whether an operation names a customer (and must not find one it may not see) or runs
/// tenant-wide (and must not reveal another tenant's data).
#[derive(Clone, Copy, PartialEq)]
enum Scope {
    Customer,
    Tenant,
    /// activateCustomerUser: its token, not the caller, decides.
    Activation,
    /// signIn and the rest of sign-in: the credential in the arguments decides; a bearer
    /// token adds nothing.
    SignIn,
    /// A bulk mutation over the victim's id: refused as a whole, or each id refused as the
    /// single mutation would be (NOT_FOUND, FORBIDDEN).
    Bulk,
}

/// Every query and mutation, called with the victim customer's id where it takes one.
const OPERATIONS: &[(&str, bool, Scope, &str)] = &[
    ("customer", false, Scope::Customer, "query($id: ID!) { customer(id: $id) { id name } }"),
    ("customers", false, Scope::Tenant, "{ customers(filter: { includeDeleted: true, testAccount: false }) { edges { node { id name } } } }"),
    ("customerHistory", false, Scope::Customer, "query($id: ID!) { customerHistory(id: $id) { edges { node { type payload } } } }"),
    ("sellers", false, Scope::Tenant, "{ sellers(testAccounts: INCLUDE) { seller customers } }"),
    ("requiredCustomerFields", false, Scope::Tenant, "{ requiredCustomerFields }"),
    ("viewer", false, Scope::Tenant, "{ viewer { subject customerId customer { id } } }"),
    ("customerFieldRules", false, Scope::Tenant, "{ customerFieldRules { inputName required editable } }"),
    ("node", false, Scope::Customer, "query($id: ID!) { node(id: $id) { id ... on Customer { name } } }"),
    ("nodes", false, Scope::Tenant, "query($id: ID!) { nodes(ids: [$id]) { id } }"),
    ("customerCountsByStatus", false, Scope::Tenant, "{ customerCountsByStatus { status count } }"),
    ("products", false, Scope::Tenant, "{ products { key visible } }"),
    ("accountStatusHistory", false, Scope::Customer, "query($id: ID!) { accountStatusHistory(customerId: $id) { to } }"),
    ("deletionRequests", false, Scope::Customer, "query($id: ID!) { deletionRequests(filter: { customerId: $id }) { edges { node { id } } } }"),
    ("customerAsOf", false, Scope::Customer, "query($id: ID!) { customerAsOf(id: $id, at: \"2100-01-01T00:00:00Z\") { id name } }"),
    ("historyExport", false, Scope::Customer, "query($id: ID!) { historyExport(customerId: $id) }"),
    ("createCustomer", true, Scope::Tenant, "mutation { createCustomer(input: { name: \"intruder\" }) { id } }"),
    ("editCustomer", true, Scope::Customer, "mutation($id: ID!) { editCustomer(id: $id, input: { city: \"pwned\" }) { id } }"),
    ("setRequiredCustomerFields", true, Scope::Tenant, "mutation { setRequiredCustomerFields(fields: [EMAIL]) }"),
    ("addProduct", true, Scope::Tenant, "mutation { addProduct(key: \"EVIL\", name: \"evil\") { key } }"),
    ("setGlobalProductVisibility", true, Scope::Tenant, "mutation { setGlobalProductVisibility(product: \"DNS\", visible: true) { key } }"),
    ("setProductVisibility", true, Scope::Customer, "mutation($id: ID!) { setProductVisibility(customerId: $id, product: \"CDN\", visible: false) { id } }"),
    ("resetProductVisibility", true, Scope::Customer, "mutation($id: ID!) { resetProductVisibility(customerId: $id, product: \"CDN\") { id } }"),
    ("activateProduct", true, Scope::Customer, "mutation($id: ID!) { activateProduct(customerId: $id, product: \"STORAGE\") { id } }"),
    ("setProductStatus", true, Scope::Customer, "mutation($id: ID!) { setProductStatus(customerId: $id, product: \"CDN\", status: DELETED) { id } }"),
    ("requestDeletion", true, Scope::Customer, "mutation($id: ID!) { requestDeletion(customerId: $id) { id } }"),
    ("cancelDeletionRequest", true, Scope::Customer, "mutation($id: ID!) { cancelDeletionRequest(customerId: $id, note: \"x\") { id } }"),
    ("deleteCustomer", true, Scope::Customer, "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"victim1\") { id } }"),
    ("deleteCustomer", true, Scope::Customer, "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"victim1\", dryRun: true) { id deletionPreview { events } } }"),
    ("bulkEditCustomers", true, Scope::Bulk, "mutation($id: ID!) { bulkEditCustomers(ids: [$id], input: { city: \"pwned\" }) { ok events error { code } } }"),
    ("bulkSetProductVisibility", true, Scope::Bulk, "mutation($id: ID!) { bulkSetProductVisibility(ids: [$id], product: \"CDN\", visible: false) { ok events error { code } } }"),
    ("bulkRequestDeletion", true, Scope::Bulk, "mutation($id: ID!) { bulkRequestDeletion(ids: [$id]) { ok events error { code } } }"),
    ("bulkRequestDeletion", true, Scope::Bulk, "mutation($id: ID!) { bulkRequestDeletion(ids: [$id], dryRun: true) { ok events error { code } } }"),
    ("setDeletionGracePeriod", true, Scope::Tenant, "mutation { setDeletionGracePeriod(days: 1) }"),
    ("setDeletionNotices", true, Scope::Tenant, "mutation { setDeletionNotices(recipients: [\"intruder@evil.example\"]) { recipients } }"),
    ("deletionNotices", false, Scope::Tenant, "{ deletionNotices { recipients } }"),
    ("deletionGracePeriod", false, Scope::Tenant, "{ deletionGracePeriod }"),
    ("loginAs", true, Scope::Customer, "mutation($id: ID!) { loginAs(customerId: $id, reason: \"x\") { token } }"),
    ("endImpersonation", true, Scope::Tenant, "mutation { endImpersonation }"),
    ("revokeSessions", true, Scope::Tenant, "mutation { revokeSessions(subject: \"vic-seller\") }"),
    ("exportCustomers", false, Scope::Tenant, "{ exportCustomers }"),
    ("addCustomerUser", true, Scope::Customer, "mutation($id: ID!) { addCustomerUser(customerId: $id, input: { email: \"intruder@evil.example\", userType: CUSTOMER_ADMIN }) { user { id } } }"),
    ("editCustomerUser", true, Scope::Customer, "mutation($id: ID!) { editCustomerUser(customerId: $id, userId: \"u\", input: { givenName: \"x\" }) { id } }"),
    ("disableCustomerUser", true, Scope::Customer, "mutation($id: ID!) { disableCustomerUser(customerId: $id, userId: \"u\") { id } }"),
    ("enableCustomerUser", true, Scope::Customer, "mutation($id: ID!) { enableCustomerUser(customerId: $id, userId: \"u\") { id } }"),
    ("removeCustomerUser", true, Scope::Customer, "mutation($id: ID!) { removeCustomerUser(customerId: $id, userId: \"u\") }"),
    ("reissueActivation", true, Scope::Customer, "mutation($id: ID!) { reissueActivation(customerId: $id, userId: \"u\") { user { id } } }"),
    // Needs no bearer token: the activation token decides, and an unknown one is NOT_FOUND.
    ("activateCustomerUser", true, Scope::Activation, "mutation { activateCustomerUser(token: \"not-a-token\") { token } }"),
    ("setPassword", true, Scope::Activation, "mutation { setPassword(token: \"not-a-token\", password: \"long enough pass\") { accessToken } }"),
    ("signIn", true, Scope::SignIn, "mutation { signIn(tenant: \"t\", email: \"nobody@x.example\", password: \"wrong one\") { accessToken } }"),
    ("refreshSession", true, Scope::SignIn, "mutation { refreshSession(refreshToken: \"not-a-token\") { accessToken } }"),
    ("signOut", true, Scope::SignIn, "mutation { signOut(refreshToken: \"not-a-token\") }"),
    ("requestPasswordReset", true, Scope::SignIn, "mutation { requestPasswordReset(tenant: \"t\", email: \"nobody@x.example\") }"),
    ("moveCustomer", true, Scope::Customer, "mutation($id: ID!) { moveCustomer(id: $id, parentId: null) { id } }"),
    ("moveCustomer", true, Scope::Customer, "mutation($id: ID!) { moveCustomer(id: $id, parentId: null, dryRun: true) { id movePreview { changed } } }"),
    ("setHomeDashboard", true, Scope::Customer, "mutation($id: ID!) { setHomeDashboard(customerId: $id, dashboardId: null) { id } }"),
    ("assignDevice", true, Scope::Customer, "mutation($id: ID!) { assignDevice(customerId: $id, deviceId: \"dev-1\") { changed } }"),
    ("assignDevices", true, Scope::Customer, "mutation($id: ID!) { assignDevices(customerId: $id, deviceIds: [\"dev-2\", \"dev-3\"]) { assigned } }"),
    ("assignAssets", true, Scope::Customer, "mutation($id: ID!) { assignAssets(customerId: $id, assetIds: [\"asset-2\"]) { assigned } }"),
    ("assignEdges", true, Scope::Customer, "mutation($id: ID!) { assignEdges(customerId: $id, edgeIds: [\"edge-2\"]) { assigned } }"),
    ("unassignDevice", true, Scope::Tenant, "mutation { unassignDevice(deviceId: \"victim-dev\") { changed } }"),
    ("assignAsset", true, Scope::Customer, "mutation($id: ID!) { assignAsset(customerId: $id, assetId: \"asset-1\") { changed } }"),
    ("unassignAsset", true, Scope::Tenant, "mutation { unassignAsset(assetId: \"asset-1\") { changed } }"),
    ("assignEdge", true, Scope::Customer, "mutation($id: ID!) { assignEdge(customerId: $id, edgeId: \"edge-1\") { changed } }"),
    ("unassignEdge", true, Scope::Tenant, "mutation { unassignEdge(edgeId: \"edge-1\") { changed } }"),
    ("assignDashboard", true, Scope::Customer, "mutation($id: ID!) { assignDashboard(customerId: $id, dashboardId: \"dash-1\") { changed } }"),
    ("entityOwner", false, Scope::Tenant, "{ entityOwner(kind: DEVICE, entityId: \"victim-dev\") { id name } }"),
    ("dashboardCustomers", false, Scope::Tenant, "{ dashboardCustomers(dashboardId: \"victim-dash\") { edges { cursor node { id name } } nodes { id } } }"),
    ("publicCustomer", false, Scope::Tenant, "{ publicCustomer { id name } }"),
    ("makePublic", true, Scope::Tenant, "mutation { makePublic(kind: DEVICE, entityId: \"victim-dev\") { changed customerId } }"),
    ("unassignDashboard", true, Scope::Customer, "mutation($id: ID!) { unassignDashboard(customerId: $id, dashboardId: \"victim-dash\") { changed } }"),
    ("webhookEndpoints", false, Scope::Tenant, "{ webhookEndpoints { id url } }"),
    ("webhookEndpoint", false, Scope::Tenant, "query($id: ID!) { webhookEndpoint(id: $id) { id url } }"),
    ("registerWebhookEndpoint", true, Scope::Tenant, "mutation { registerWebhookEndpoint(input: { url: \"https://evil.example/hook\" }) { secret } }"),
    ("updateWebhookEndpoint", true, Scope::Tenant, "mutation($id: ID!) { updateWebhookEndpoint(id: $id, input: { url: \"https://evil.example/x\" }) { id } }"),
    ("disableWebhookEndpoint", true, Scope::Tenant, "mutation($id: ID!) { disableWebhookEndpoint(id: $id) { id } }"),
    ("enableWebhookEndpoint", true, Scope::Tenant, "mutation($id: ID!) { enableWebhookEndpoint(id: $id) { id } }"),
    ("deleteWebhookEndpoint", true, Scope::Tenant, "mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }"),
    ("rotateWebhookSecret", true, Scope::Tenant, "mutation($id: ID!) { rotateWebhookSecret(id: $id) { secret } }"),
    ("redeliverWebhooks", true, Scope::Tenant, "mutation($id: ID!) { redeliverWebhooks(endpointId: $id) { id } }"),
    // Sent as a multipart upload by `call`.
    ("importCustomers", true, Scope::Tenant, "Name\nimported-intruder\n"),
];

/// Calls one operation with `token`, for the victim `id`.
async fn call(app: &TestApp, token: &str, name: &str, query: &str, id: &str) -> Value {
    if name == "importCustomers" {
        return app.import_as(token, query.as_bytes(), "", "created").await;
    }
    app.graphql_as(token, query, json!({ "id": id })).await
}

/// The schema's own list of queries and mutations. Fails unless every query, mutation and
/// subscription has a row in the access table.
async fn schema_operations(app: &TestApp) -> BTreeSet<String> {
    let data = app
        .ok("{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }", json!({}))
        .await;
    let roots = [
        ("queryType", Root::Query),
        ("mutationType", Root::Mutation),
        ("subscriptionType", Root::Subscription),
    ];
    let mut in_schema = BTreeSet::new();
    for (root, table_root) in roots {
        for field in data["__schema"][root]["fields"].as_array().unwrap() {
            let name = field["name"].as_str().unwrap();
            assert!(
                guard::lookup(table_root, name).is_some(),
                "{name} ({root}) has no row in guard::OPERATIONS"
            );
            in_schema.insert(format!("{table_root:?} {name}"));
        }
    }
    for op in guard::OPERATIONS
        .iter()
        .filter(|op| op.root != Root::Customer)
    {
        let row = format!("{:?} {}", op.root, op.name);
        assert!(
            in_schema.contains(&row),
            "guard::OPERATIONS has a row for no operation: {row}"
        );
    }
    let mut names = BTreeSet::new();
    for root in ["queryType", "mutationType"] {
        for field in data["__schema"][root]["fields"].as_array().unwrap() {
            names.insert(field["name"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(
        data["__schema"]["subscriptionType"]["fields"],
        json!([
            { "name": "customerEvents" },
            { "name": "accountStatusChanged" },
            { "name": "customerCountsByStatus" },
        ]),
        "subscriptions are proven in subscriptions.rs (subscriptions_respect_tenants_and_roles): \
         cover a new one there, then list it here"
    );
    names
}

/// The victim: a customer of tenant "default" with a product and an open deletion request.
async fn victim(app: &TestApp) -> (String, String) {
    app.ok(
        "mutation { setGlobalProductVisibility(product: \"CDN\", visible: true) { key } }",
        json!({}),
    )
    .await;
    let created = app
        .create_customer(
            json!({ "name": "victim-secret-name", "shortname": "victim1", "seller": "vic-seller" }),
        )
        .await;
    let id = created["id"].as_str().unwrap().to_string();
    app.ok(
        "mutation($id: ID!) { activateProduct(customerId: $id, product: \"CDN\") { id } }",
        json!({ "id": id }),
    )
    .await;
    app.ok(
        "mutation($id: ID!) { assignDevice(customerId: $id, deviceId: \"victim-dev\") { changed } assignDashboard(customerId: $id, dashboardId: \"victim-dash\") { changed } }",
        json!({ "id": id }),
    )
    .await;
    (id, "victim-secret-name".into())
}

/// Everything tenant "default" holds, to compare before and after.
async fn tenant_state(app: &TestApp, id: &str) -> (i64, Value) {
    let events = app
        .store
        .db()
        .fetch_scalar(
            "SELECT count(*) FROM events WHERE tenant_id = 'default'",
            &[],
        )
        .await
        .unwrap()
        .unwrap();
    let customer = app
        .ok(
            "query($id: ID!) { customer(id: $id) { version city accountStatus parentId homeDashboardId products { key visible status } assignmentCounts { devices assets edges dashboards } devices { edges { cursor } } dashboards { edges { cursor } } users { nodes { id email status } } } products { key visible } requiredCustomerFields }",
            json!({ "id": id }),
        )
        .await;
    (events, customer)
}

fn refused_or_empty(name: &str, scope: Scope, body: &Value, id: &str, secret: &str) {
    let text = body.to_string();
    if scope == Scope::Bulk && body.get("errors").is_none() {
        for result in body["data"][name].as_array().unwrap() {
            let code = result["error"]["code"].as_str().unwrap_or_default();
            assert!(
                result["ok"] == false && matches!(code, "FORBIDDEN" | "NOT_FOUND"),
                "{name}: an id out of reach was not refused: {body}"
            );
            assert_eq!(result["events"], json!([]), "{name}: {body}");
        }
    } else if let Some(error) = body.get("errors") {
        let code = error[0]["extensions"]["code"].as_str().unwrap_or_default();
        assert!(
            matches!(code, "FORBIDDEN" | "NOT_FOUND"),
            "{name}: unexpected error {body}"
        );
    } else if scope == Scope::Customer {
        assert_eq!(
            body["data"][name],
            Value::Null,
            "{name} answered for a customer it may not see: {body}"
        );
    }
    assert!(
        !text.contains(id) && !text.contains(secret),
        "{name} revealed the victim: {body}"
    );
}

async fn no_operation_reaches_another_tenants_customers(backend: Backend) {
    let app = spawn_app(backend).await;
    let listed: BTreeSet<String> = OPERATIONS
        .iter()
        .map(|(name, ..)| name.to_string())
        .collect();
    assert_eq!(
        schema_operations(&app).await,
        listed,
        "every operation of the schema is in this test"
    );
    let (id, secret) = victim(&app).await;
    let before = tenant_state(&app, &id).await;
    let intruder = mint("mallory", "beta", Role::TenantAdmin, None);
    for (name, _, scope, query) in OPERATIONS {
        let body = call(&app, &intruder, name, query, &id).await;
        if *scope == Scope::SignIn {
            let text = body.to_string();
            assert!(
                !text.contains(&id) && !text.contains(&secret),
                "{name}: {body}"
            );
            continue;
        }
        if *scope == Scope::Activation {
            assert_eq!(
                body["errors"][0]["extensions"]["code"], "NOT_FOUND",
                "{body}"
            );
        } else if matches!(scope, Scope::Customer | Scope::Bulk) || body.get("errors").is_some() {
            refused_or_empty(name, *scope, &body, &id, &secret);
        } else {
            let text = body.to_string();
            assert!(
                !text.contains(&id) && !text.contains(&secret),
                "{name} revealed the victim: {body}"
            );
        }
    }
    assert_eq!(
        tenant_state(&app, &id).await,
        before,
        "nothing of tenant default was written"
    );
}

async fn roles_that_must_not_pass_are_refused_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let (id, secret) = victim(&app).await;
    let neighbour = app.create_customer(json!({ "name": "neighbour" })).await;
    let neighbour_id = neighbour["id"].as_str().unwrap();
    let before = tenant_state(&app, &id).await;
    let outsiders = [
        (
            "a seller of other customers",
            Role::Seller,
            mint("sam", "default", Role::Seller, None),
        ),
        (
            "another customer's admin",
            Role::CustomerAdmin,
            mint("nina", "default", Role::CustomerAdmin, Some(neighbour_id)),
        ),
        (
            "another customer's user",
            Role::CustomerUser,
            mint("nick", "default", Role::CustomerUser, Some(neighbour_id)),
        ),
    ];
    for (who, role, token) in &outsiders {
        for (name, mutation, scope, query) in OPERATIONS {
            let body = call(&app, token, name, query, &id).await;
            if *scope == Scope::SignIn {
                continue;
            }
            if *scope == Scope::Activation {
                assert_eq!(
                    body["errors"][0]["extensions"]["code"], "NOT_FOUND",
                    "{body}"
                );
            } else if *mutation && *scope == Scope::Tenant {
                let code = body["errors"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or_default();
                // A tenant-wide mutation names no customer: only the table can refuse it.
                let allowed = guard::may(*role, Root::Mutation, name);
                assert!(allowed || code == "FORBIDDEN", "{who} / {name}: {body}");
            } else if matches!(scope, Scope::Customer | Scope::Bulk) || body.get("errors").is_some()
            {
                refused_or_empty(name, *scope, &body, &id, &secret);
            } else {
                let text = body.to_string();
                assert!(
                    !text.contains(&id),
                    "{who} / {name} revealed the customer: {body}"
                );
            }
        }
    }
    // Read-only roles (the table lets them run no mutation) change nothing, whatever they
    // call; a customer-bound one is the victim's own.
    let readers: Vec<(&str, String)> = Role::ALL
        .into_iter()
        .filter(|role| {
            OPERATIONS
                .iter()
                .filter(|op| op.1)
                .all(|(name, ..)| !guard::may(*role, Root::Mutation, name))
        })
        .map(|role| {
            let customer = role.is_customer().then_some(id.as_str());
            (role.as_str(), mint("reader", "default", role, customer))
        })
        .collect();
    assert!(!readers.is_empty(), "the table has read-only roles");
    for (who, token) in &readers {
        let mutations = OPERATIONS
            .iter()
            .filter(|op| op.1 && op.2 != Scope::Activation && op.2 != Scope::SignIn);
        for (name, mutation, _, query) in mutations {
            let body = call(&app, token, name, query, &id).await;
            let code = body["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or_default();
            assert!(*mutation && code == "FORBIDDEN", "{who} / {name}: {body}");
        }
    }
    let (events, customer) = tenant_state(&app, &id).await;
    let created_by_seller = 2; // the seller's own createCustomer and importCustomers above
    assert_eq!(events, before.0 + created_by_seller);
    assert_eq!(customer, before.1, "the victim is untouched");
}
