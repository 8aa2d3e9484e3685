//! Sign-in, roles, the tenant's own company, and "log in as a customer".

use clientele_graphql::Role;
use clientele_tests::{
    code, fresh_database, mint, on_both_backends, spawn_app, spawn_app_configured, Backend,
    TestApp, TestClock,
};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use serde_json::{json, Value};

on_both_backends!(
    customer_roles_and_auditors_never_create_customers,
    a_seller_sees_and_edits_only_its_own_customers,
    a_customer_admin_sees_its_customer_and_edits_only_customer_fields,
    the_tenants_own_company_is_listed_but_protected,
    log_in_as_a_customer_is_short_lived_recorded_and_bounded,
);

async fn post_with(app: &TestApp, authorization: Option<String>) -> reqwest::Response {
    let headers: Vec<(&str, &str)> = authorization
        .iter()
        .map(|value| ("authorization", value.as_str()))
        .collect();
    let body = json!({ "query": "{ customers { totalCount } }" });
    app.post_json(None, &headers, &body).await
}

fn claims(tenant: &str, iss: &str, aud: &str, exp_offset: i64) -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "sub": "alice", "tenant": tenant, "role": "TENANT_ADMIN", "iss": iss, "aud": aud, "iat": now, "exp": now + exp_offset })
}

fn hs256(claims: &Value, secret: &str) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn only_a_valid_token_is_let_in() {
    let app = spawn_app(Backend::Sqlite).await;
    let secret = clientele_tests::TEST_SECRET;
    let refused = [
        (None, "no token"),
        (Some("Bearer not-a-jwt".to_string()), "garbage"),
        (
            Some(format!(
                "Bearer {}",
                hs256(&claims("default", "clientele", "clientele", -120), secret)
            )),
            "expired",
        ),
        (
            Some(format!(
                "Bearer {}",
                hs256(&claims("default", "evil", "clientele", 600), secret)
            )),
            "wrong issuer",
        ),
        (
            Some(format!(
                "Bearer {}",
                hs256(&claims("default", "clientele", "other-app", 600), secret)
            )),
            "wrong audience",
        ),
        (
            Some(format!(
                "Bearer {}",
                hs256(
                    &claims("default", "clientele", "clientele", 600),
                    "another-secret-of-enough-length"
                )
            )),
            "wrong key",
        ),
    ];
    for (authorization, why) in refused {
        let response = post_with(&app, authorization).await;
        assert_eq!(response.status(), 401, "{why}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(code(&body), "UNAUTHENTICATED", "{why}");
    }
    // Tampering with the payload breaks the signature.
    let good = app.token.clone();
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    let forged = base64_url(
        &json!({ "sub": "x", "tenant": "other", "role": "TENANT_ADMIN", "iss": "clientele", "aud": "clientele", "iat": 0, "exp": 9_999_999_999i64 }),
    );
    parts[1] = forged;
    let response = post_with(&app, Some(format!("Bearer {}", parts.join(".")))).await;
    assert_eq!(response.status(), 401, "tampered");
    assert_eq!(
        post_with(&app, Some(format!("Bearer {good}")))
            .await
            .status(),
        200
    );
    // Health and the GraphiQL page need no token.
    let anonymous = reqwest::Client::new();
    assert_eq!(
        anonymous
            .get(format!("{}/healthz", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        anonymous
            .get(format!("{}/graphql", app.address))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let introspection = anonymous
        .get(format!("{}/graphql?query=%7B__typename%7D", app.address))
        .send()
        .await
        .unwrap();
    assert_eq!(
        introspection.status(),
        401,
        "no anonymous queries, introspection included"
    );
}

fn base64_url(value: &Value) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn an_identity_providers_rs256_and_es256_tokens_are_verified_with_its_jwks() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures");
    let app = spawn_app_configured(
        fresh_database(Backend::Sqlite).await,
        TestClock::default(),
        |s| {
            s.jwks_file = Some(format!("{fixtures}/jwks.json").into());
        },
    )
    .await;
    let body = claims("default", "clientele", "clientele", 600);
    for (alg, kid, pem) in [
        (Algorithm::RS256, "test-rsa", "rsa-private.pem"),
        (Algorithm::ES256, "test-ec", "ec-private.pem"),
    ] {
        let pem = std::fs::read(format!("{fixtures}/{pem}")).unwrap();
        let key = match alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem).unwrap(),
            _ => EncodingKey::from_ec_pem(&pem).unwrap(),
        };
        let mut header = Header::new(alg);
        header.kid = Some(kid.into());
        let token = encode(&header, &body, &key).unwrap();
        let response = post_with(&app, Some(format!("Bearer {token}"))).await;
        assert_eq!(response.status(), 200, "{alg:?}");
        // The same token signed with the other key's id does not verify.
        let mut wrong = Header::new(alg);
        wrong.kid = Some(
            if kid == "test-rsa" {
                "test-ec"
            } else {
                "test-rsa"
            }
            .into(),
        );
        let token = encode(&wrong, &body, &key).unwrap();
        assert_eq!(
            post_with(&app, Some(format!("Bearer {token}")))
                .await
                .status(),
            401
        );
    }
}

async fn customer_roles_and_auditors_never_create_customers(backend: Backend) {
    let app = spawn_app(backend).await;
    let target = app.create_customer(json!({ "name": "target" })).await;
    let id = target["id"].as_str().unwrap();
    let create = "mutation { createCustomer(input: { name: \"self-made\" }) { id } }";
    for (role, customer) in [
        (Role::CustomerAdmin, Some(id)),
        (Role::CustomerUser, Some(id)),
        (Role::Auditor, None),
    ] {
        let token = mint("someone", "default", role, customer);
        let body = app.graphql_as(&token, create, json!({})).await;
        assert_eq!(code(&body), "FORBIDDEN", "{role:?}");
    }
    let auditor = mint("audit", "default", Role::Auditor, None);
    let read = app
        .graphql_as(&auditor, "query($id: ID!) { customer(id: $id) { name } customerHistory(id: $id) { edges { cursor } } }", json!({ "id": id }))
        .await;
    assert_eq!(
        read["data"]["customer"]["name"], "target",
        "auditors read everything"
    );
    let edit = app
        .graphql_as(
            &auditor,
            "mutation($id: ID!) { editCustomer(id: $id, input: { city: \"x\" }) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&edit), "FORBIDDEN");
    assert_eq!(app.event_count().await, 1);
}

async fn a_seller_sees_and_edits_only_its_own_customers(backend: Backend) {
    let app = spawn_app(backend).await;
    let others = app
        .create_customer(json!({ "name": "others", "seller": "bob" }))
        .await;
    let seller = mint("sam", "default", Role::Seller, None);
    let mine = app
        .graphql_as(
            &seller,
            "mutation { createCustomer(input: { name: \"mine\" }) { id seller } }",
            json!({}),
        )
        .await;
    assert_eq!(
        mine["data"]["createCustomer"]["seller"], "sam",
        "a seller's customer is its own"
    );
    let for_bob = app
        .graphql_as(
            &seller,
            "mutation { createCustomer(input: { name: \"x\", seller: \"bob\" }) { id } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&for_bob), "FORBIDDEN");
    let list = app
        .graphql_as(
            &seller,
            "{ customers { edges { node { name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["data"]["customers"]["edges"],
        json!([{ "node": { "name": "mine" } }])
    );
    let other_id = others["id"].as_str().unwrap();
    let read = app
        .graphql_as(
            &seller,
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": other_id }),
        )
        .await;
    assert_eq!(read["data"]["customer"], Value::Null);
    let edit = app
        .graphql_as(
            &seller,
            "mutation($id: ID!) { editCustomer(id: $id, input: { city: \"x\" }) { id } }",
            json!({ "id": other_id }),
        )
        .await;
    assert_eq!(code(&edit), "NOT_FOUND");
    let mine_id = mine["data"]["createCustomer"]["id"].as_str().unwrap();
    let give_away = app
        .graphql_as(
            &seller,
            "mutation($id: ID!) { editCustomer(id: $id, input: { seller: \"bob\" }) { id } }",
            json!({ "id": mine_id }),
        )
        .await;
    assert_eq!(code(&give_away), "FORBIDDEN");
    let delete = app
        .graphql_as(
            &seller,
            "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"mine\") { id } }",
            json!({ "id": mine_id }),
        )
        .await;
    assert_eq!(code(&delete), "FORBIDDEN", "deletion is the reseller's");
}

async fn a_customer_admin_sees_its_customer_and_edits_only_customer_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let own = app
        .create_customer(json!({ "name": "own", "customId": "ACC-1" }))
        .await;
    let other = app.create_customer(json!({ "name": "other" })).await;
    let id = own["id"].as_str().unwrap();
    let admin = mint("carol", "default", Role::CustomerAdmin, Some(id));
    let list = app
        .graphql_as(
            &admin,
            "{ customers { edges { node { name customId } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        list["data"]["customers"]["edges"],
        json!([{ "node": { "name": "own", "customId": "ACC-1" } }]),
        "customId is visible to the customer"
    );
    let other_read = app
        .graphql_as(
            &admin,
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": other["id"] }),
        )
        .await;
    assert_eq!(other_read["data"]["customer"], Value::Null);
    let edit = "mutation($id: ID!, $input: EditCustomerInput!) { editCustomer(id: $id, input: $input) { email customId } }";
    let ok = app
        .graphql_as(
            &admin,
            edit,
            json!({ "id": id, "input": { "email": "carol@own.example" } }),
        )
        .await;
    assert_eq!(ok["data"]["editCustomer"]["email"], "carol@own.example");
    let refused = app
        .graphql_as(
            &admin,
            edit,
            json!({ "id": id, "input": { "customId": "MINE" } }),
        )
        .await;
    assert_eq!(code(&refused), "FORBIDDEN");
    assert!(refused["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("customId"));
    let request = app
        .graphql_as(
            &admin,
            "mutation($id: ID!) { requestDeletion(customerId: $id) { accountStatus } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        request.get("errors").is_none(),
        "a customer may ask for its own deletion: {request}"
    );
    let history = app.history(id).await;
    let requested = history
        .iter()
        .find(|e| e["type"] == "DeletionRequested")
        .unwrap();
    assert_eq!(requested["actor"], "carol");
}

async fn the_tenants_own_company_is_listed_but_protected(backend: Backend) {
    let app = spawn_app(backend).await;
    let list = app
        .ok(
            "{ customers(filter: { ownCompany: true }) { edges { node { id name ownCompany } } } }",
            json!({}),
        )
        .await;
    let own = &list["customers"]["edges"][0]["node"];
    assert_eq!(own["name"], "default");
    assert_eq!(own["ownCompany"], true);
    let id = own["id"].as_str().unwrap();
    let edit = app
        .edit_customer_raw(id, None, json!({ "city": "x" }))
        .await;
    assert_eq!(code(&edit), "FORBIDDEN");
    let delete = app
        .graphql(
            "mutation($id: ID!) { deleteCustomer(id: $id, confirm: \"default\") { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&delete), "FORBIDDEN");
    let request = app
        .graphql(
            "mutation($id: ID!) { requestDeletion(customerId: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(code(&request), "FORBIDDEN");
}

async fn log_in_as_a_customer_is_short_lived_recorded_and_bounded(backend: Backend) {
    let app = spawn_app(backend).await;
    let target = app.create_customer(json!({ "name": "target" })).await;
    let other = app
        .create_customer(json!({ "name": "other", "seller": "bob" }))
        .await;
    let id = target["id"].as_str().unwrap();
    let reseller = mint("rita", "default", Role::Reseller, None);
    let login = "mutation($id: ID!, $reason: String!) { loginAs(customerId: $id, reason: $reason) { token expiresAt } }";
    let answer = app
        .graphql_as(&reseller, login, json!({ "id": id, "reason": "ticket 42" }))
        .await;
    let token = answer["data"]["loginAs"]["token"]
        .as_str()
        .expect("a token")
        .to_string();
    let expires: chrono::DateTime<chrono::Utc> = answer["data"]["loginAs"]["expiresAt"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let ttl = expires - chrono::Utc::now();
    assert!(
        ttl <= chrono::Duration::hours(1) && ttl > chrono::Duration::minutes(58),
        "{ttl}"
    );
    let edited = app
        .graphql_as(
            &token,
            "mutation($id: ID!) { editCustomer(id: $id, input: { city: \"Lyon\" }) { city } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(edited["data"]["editCustomer"]["city"], "Lyon");
    assert_eq!(
        edited["extensions"]["impersonation"]["actor"], "rita",
        "the red line: {edited}"
    );
    assert_eq!(
        edited["extensions"]["impersonation"]["customerId"],
        json!(id)
    );
    let again = app
        .graphql_as(&token, login, json!({ "id": id, "reason": "nested" }))
        .await;
    assert_eq!(
        code(&again),
        "FORBIDDEN",
        "an impersonation token cannot mint further tokens"
    );
    let beside = app
        .graphql_as(
            &token,
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": other["id"] }),
        )
        .await;
    assert_eq!(
        beside["data"]["customer"],
        Value::Null,
        "it is bound to one customer"
    );
    let end = app
        .graphql_as(&token, "mutation { endImpersonation }", json!({}))
        .await;
    assert_eq!(end["data"]["endImpersonation"], true);
    let history = app.history(id).await;
    assert_eq!(
        app.history_types(id).await,
        [
            "CustomerCreated",
            "ImpersonationStarted",
            "CustomerEdited",
            "ImpersonationEnded",
            "SessionEnded"
        ]
    );
    assert_eq!(history[1]["payload"]["reason"], "ticket 42");
    assert_eq!(history[2]["actor"], "rita", "the real actor is recorded");
    assert_eq!(history[2]["role"], "RESELLER");
    assert_eq!(
        history[2]["onBehalfOf"],
        json!(id),
        "and the customer acted as"
    );
    let seller = mint("sam", "default", Role::Seller, None);
    let not_mine = app
        .graphql_as(&seller, login, json!({ "id": other["id"], "reason": "x" }))
        .await;
    assert_eq!(
        code(&not_mine),
        "NOT_FOUND",
        "a seller logs in only as its own customers"
    );
    let user = mint("u", "default", Role::CustomerUser, Some(id));
    let by_user = app
        .graphql_as(&user, login, json!({ "id": id, "reason": "x" }))
        .await;
    assert_eq!(code(&by_user), "FORBIDDEN");
}

#[tokio::test]
async fn a_first_start_without_a_secret_creates_one_and_a_working_token() {
    let dir = std::env::temp_dir().join(format!("clientele-first-start-{}", uuid::Uuid::new_v4()));
    let mut settings = clientele_server::Settings::defaults();
    settings.data_dir = dir.clone();
    settings.jwt_secret = None;
    let (first, created) = clientele_server::auth::authenticator(&settings).unwrap();
    assert!(created, "the secret is created on first start");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("jwt-secret"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "only the service's user can read it");
    }
    let (second, created) = clientele_server::auth::authenticator(&settings).unwrap();
    assert!(!created, "and reused after");
    let grant = clientele_graphql::Grant::new("admin", "default", Role::TenantAdmin);
    let (token, _) = first
        .mint(grant, chrono::Utc::now(), chrono::Duration::hours(1))
        .unwrap();
    assert_eq!(second.verify(&token).unwrap().role, Role::TenantAdmin);
    std::fs::remove_dir_all(dir).unwrap();
}
