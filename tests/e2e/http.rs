//! The HTTP surface: health, GraphiQL, and clear answers to bad requests.

use clientele_tests::{spawn_app, Backend};
use serde_json::json;

#[tokio::test]
async fn health_and_readiness_answer() {
    let app = spawn_app(Backend::Sqlite).await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready = app.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    assert_eq!(ready.text().await.unwrap(), "ready");
}

#[tokio::test]
async fn readiness_fails_when_the_store_is_gone() {
    let app = spawn_app(Backend::Sqlite).await;
    app.store.db().close().await;
    assert_eq!(app.get("/readyz").await.status(), 503);
    assert_eq!(app.get("/healthz").await.status(), 200);
}

#[tokio::test]
async fn a_browser_gets_graphiql() {
    let app = spawn_app(Backend::Sqlite).await;
    let page = app.get("/graphql").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("graphiql"));
}

#[tokio::test]
async fn graphiql_loads_nothing_from_the_internet() {
    let app = spawn_app(Backend::Sqlite).await;
    let page = app.get("/graphql?token=abc").await;
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let page = page.text().await.unwrap();
    assert!(!page.contains("://"), "no absolute URL in the page: {page}");
    let linked: Vec<&str> = page
        .split(['"', '\''])
        .filter(|part| part.starts_with("/graphiql/"))
        .collect();
    assert_eq!(
        linked.len(),
        4,
        "GraphiQL's script and style, React, ReactDOM"
    );
    for path in linked {
        let asset = app.get(path).await;
        assert_eq!(asset.status(), 200, "{path}");
        let expected = if path.ends_with(".css") {
            "text/css; charset=utf-8"
        } else {
            "text/javascript; charset=utf-8"
        };
        assert_eq!(asset.headers()["content-type"], expected, "{path}");
        assert!(asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable"));
        let body = asset.text().await.unwrap();
        assert!(
            !body.contains("unpkg.com"),
            "{path} loads no more from a CDN"
        );
    }
    assert_eq!(app.get("/graphiql/nothing.js").await.status(), 404);
}

#[tokio::test]
async fn get_runs_queries_but_never_mutations() {
    let app = spawn_app(Backend::Sqlite).await;
    let query = app
        .get("/graphql?query=%7B%20customers%20%7B%20totalCount%20%7D%20%7D")
        .await;
    assert_eq!(query.status(), 200);
    let body: serde_json::Value = query.json().await.unwrap();
    assert_eq!(
        body["data"]["customers"]["totalCount"], 1,
        "the tenant's own company"
    );
    let mutation = app
        .get("/graphql?query=mutation%20%7B%20createCustomer(input%3A%20%7Bname%3A%20%22x%22%7D)%20%7B%20id%20%7D%20%7D")
        .await;
    assert_eq!(mutation.status(), 405);
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn the_answer_is_json_unless_the_client_asks_for_graphql_response_json() {
    let app = spawn_app(Backend::Sqlite).await;
    let plain = app
        .post_raw(
            "application/json",
            r#"{"query":"{ customers { totalCount } }"}"#,
        )
        .await;
    assert_eq!(plain.headers()["content-type"], "application/json");
    let accept = [("accept", "application/graphql-response+json")];
    let asked = app
        .post_json(
            Some(&app.token),
            &accept,
            &json!({ "query": "{ customers { totalCount } }" }),
        )
        .await;
    assert_eq!(
        asked.headers()["content-type"],
        "application/graphql-response+json"
    );
}

#[tokio::test]
async fn malformed_json_is_a_400_with_a_message() {
    let app = spawn_app(Backend::Sqlite).await;
    let response = app.post_raw("application/json", "{ not json").await;
    assert_eq!(response.status(), 400);
    assert!(!response.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_oversized_body_is_refused_with_413() {
    let app = spawn_app(Backend::Sqlite).await;
    let huge = format!(
        r#"{{"query":"{{ customers {{ totalCount }} }}","pad":"{}"}}"#,
        "x".repeat(2 << 20)
    );
    let response = app.post_raw("application/json", huge).await;
    assert_eq!(response.status(), 413);
}

#[tokio::test]
async fn an_oversized_chunked_body_without_a_length_is_refused() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app(Backend::Sqlite).await;
    let host = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(host).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
        app.token
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut chunks = vec![r#"{"query":"{ customers { totalCount } }","pad":""#.to_string()];
    chunks.extend(std::iter::repeat_n("x".repeat(64 << 10), 32));
    chunks.push("\"}".into());
    for chunk in chunks {
        // The server may answer and close before every chunk is sent.
        if stream
            .write_all(format!("{:x}\r\n{chunk}\r\n", chunk.len()).as_bytes())
            .await
            .is_err()
        {
            break;
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let answer = String::from_utf8_lossy(&answer);
    let status = answer.split_whitespace().nth(1).unwrap_or_default();
    assert!(
        status == "413" || status == "400",
        "a 2 MiB body without Content-Length is refused, got: {}",
        answer.lines().next().unwrap_or_default()
    );
}

#[tokio::test]
async fn unknown_fields_and_arguments_are_named() {
    let app = spawn_app(Backend::Sqlite).await;
    let error = app.error("{ customers { nope } }", json!({})).await;
    assert!(
        error["message"].as_str().unwrap().contains("nope"),
        "{error}"
    );
    let error = app
        .error(
            "mutation { createCustomer(input: { name: \"x\", colour: \"red\" }) { id } }",
            json!({}),
        )
        .await;
    assert!(
        error["message"].as_str().unwrap().contains("colour"),
        "{error}"
    );
    assert_eq!(app.event_count().await, 0);
}

#[tokio::test]
async fn a_request_id_is_returned_and_recorded_in_the_events() {
    let app = spawn_app(Backend::Sqlite).await;
    let create = json!({ "query": "mutation { createCustomer(input: { name: \"x\" }) { id } }" });
    let response = app
        .post_json(Some(&app.token), &[("x-request-id", "req-12345")], &create)
        .await;
    assert_eq!(response.headers()["x-request-id"], "req-12345");
    let body: serde_json::Value = response.json().await.unwrap();
    let id = body["data"]["createCustomer"]["id"].as_str().unwrap();
    assert_eq!(app.history(id).await[0]["requestId"], "req-12345");
}

#[tokio::test]
async fn deeply_nested_queries_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let deep = format!(
        "{{ __schema {{ types {{ fields {{ type {{ {}name{} }} }} }} }} }}",
        "ofType { ".repeat(12),
        " }".repeat(12)
    );
    let error = app.error(&deep, json!({})).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("nested"),
        "{error}"
    );
}

#[tokio::test]
async fn too_many_aliases_are_refused() {
    let app = spawn_app(Backend::Sqlite).await;
    let fields: Vec<String> = (0..31)
        .map(|i| format!("a{i}: requiredCustomerFields"))
        .collect();
    let body = app
        .graphql(&format!("{{ {} }}", fields.join(" ")), json!({}))
        .await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "LIMIT_EXCEEDED",
        "{body}"
    );
    let fields: Vec<String> = (0..30)
        .map(|i| format!("a{i}: requiredCustomerFields"))
        .collect();
    let body = app
        .graphql(&format!("{{ {} }}", fields.join(" ")), json!({}))
        .await;
    assert!(body.get("errors").is_none(), "{body}");
}
