//! Bulk mutations as far as the caller may see: an id out of reach is refused exactly as
//! one that does not exist, and a role the table refuses is refused for the whole call.

use clientele_graphql::Role;
use clientele_tests::{code, mint, on_both_backends, spawn_app, Backend};
use serde_json::{json, Value};

use super::{nobody, outcomes, results, EDIT, REQUEST, VISIBILITY};

on_both_backends!(bulk_mutations_keep_to_the_callers_reach);

async fn bulk_mutations_keep_to_the_callers_reach(backend: Backend) {
    let app = spawn_app(backend).await;
    let mine = app
        .create_customer(json!({ "name": "mine", "seller": "sam" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = app
        .create_customer(json!({ "name": "theirs", "seller": "sue" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let missing = nobody();
    let before = app.event_count().await;
    // A seller: its own customer passes; another seller's is refused exactly as one that
    // does not exist.
    let sam = mint("sam", "default", Role::Seller, None);
    let vars = json!({ "ids": [mine, theirs, missing], "p": "CDN", "v": true });
    let body = app.graphql_as(&sam, VISIBILITY, vars).await;
    let list = results(&body, "bulkSetProductVisibility");
    assert_eq!(outcomes(list), ["ok", "NOT_FOUND", "NOT_FOUND"]);
    assert_eq!(list[1]["error"], list[2]["error"], "indistinguishable");
    let edit = json!({ "ids": [mine, theirs], "input": { "city": "Oslo" } });
    let body = app.graphql_as(&sam, EDIT, edit).await;
    let list = results(&body, "bulkEditCustomers");
    assert_eq!(outcomes(list), ["ok", "NOT_FOUND"]);
    assert_eq!(app.customer(&theirs).await["city"], Value::Null);
    // A customer's admin edits its own customer's customer-editable fields only.
    let admin = mint("ada", "default", Role::CustomerAdmin, Some(&mine));
    let body = app
        .graphql_as(
            &admin,
            EDIT,
            json!({ "ids": [mine, theirs], "input": { "customId": "X-1" } }),
        )
        .await;
    assert_eq!(
        outcomes(results(&body, "bulkEditCustomers")),
        ["FORBIDDEN", "NOT_FOUND"]
    );
    // Roles the table refuses the operation are refused for the whole call.
    for (role, query, vars) in [
        (
            Role::CustomerUser,
            EDIT,
            json!({ "ids": [mine], "input": { "city": "x" } }),
        ),
        (Role::Auditor, REQUEST, json!({ "ids": [mine] })),
        (
            Role::CustomerAdmin,
            VISIBILITY,
            json!({ "ids": [mine], "p": "CDN", "v": false }),
        ),
    ] {
        let token = mint("someone", "default", role, Some(&mine));
        let body = app.graphql_as(&token, query, vars).await;
        assert_eq!(code(&body), "FORBIDDEN", "{role:?}: {body}");
    }
    assert_eq!(
        app.event_count().await,
        before + 2,
        "only sam's two commands"
    );
}
