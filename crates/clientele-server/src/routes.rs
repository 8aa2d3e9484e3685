//! HTTP routes: GraphQL, GraphiQL and health.

use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::GraphQLRequest;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use clientele_graphql::RequestContext;

use crate::state::{bearer, request_id, sign_in, AppState};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The signed-in principal, or the 401 answer to send instead.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<RequestContext, Response> {
    sign_in(state, bearer(headers), request_id(headers))
        .await
        .map_err(|message| unauthenticated(headers, &message))
}

/// 401 with a GraphQL error whose `extensions.code` is UNAUTHENTICATED.
fn unauthenticated(headers: &HeaderMap, message: &str) -> Response {
    let mut http = coded_error(
        headers,
        StatusCode::UNAUTHORIZED,
        "UNAUTHENTICATED",
        message,
    );
    http.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    http
}

/// A 400 for a body that is not a GraphQL-over-HTTP request, as a GraphQL error.
fn bad_request(headers: &HeaderMap, message: &str) -> Response {
    coded_error(headers, StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
}

/// An answer of one GraphQL error with `extensions.code`, for a request the schema never
/// saw; counted like the schema's own errors.
fn coded_error(
    headers: &HeaderMap,
    status: StatusCode,
    code: &'static str,
    message: &str,
) -> Response {
    crate::telemetry::count_error(code);
    let mut error = async_graphql::ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    error.extensions = Some(extensions);
    let mut http = respond(headers, async_graphql::Response::from_errors(vec![error]));
    *http.status_mut() = status;
    http
}

/// Runs a request as the principal; answers made under impersonation say so.
async fn execute(
    state: &AppState,
    headers: &HeaderMap,
    request: async_graphql::Request,
    me: RequestContext,
) -> Response {
    let impersonation = me.impersonator.as_ref().map(|imp| {
        serde_json::json!({
            "actor": imp.sub,
            "actorRole": imp.role.as_str(),
            "customerId": me.customer,
            "expiresAt": me.expires_at,
        })
    });
    let mut response = state.schema.execute(request.data(me)).await;
    if let Some(value) = impersonation {
        if let Ok(value) = async_graphql::Value::from_json(value) {
            response.extensions.insert("impersonation".into(), value);
        }
    }
    respond(headers, response)
}

/// Answers in the media type the client accepts: `application/graphql-response+json` if it
/// asks for it, `application/json` otherwise. With the former, a request that never ran
/// (it does not parse, validate or coerce its variables) is a 400 without `data`, as the
/// GraphQL-over-HTTP spec asks; `application/json` clients always get 200.
fn respond(headers: &HeaderMap, response: async_graphql::Response) -> Response {
    let accepts_graphql = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE));
    let never_ran = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty());
    let mut body = serde_json::to_value(&response).expect("responses serialise");
    let status = if accepts_graphql && never_ran {
        if let Some(object) = body.as_object_mut() {
            object.remove("data");
        }
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let content_type = if accepts_graphql {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    let body = serde_json::to_vec(&body).expect("responses serialise");
    let mut http = (status, body).into_response();
    http.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    http
}

/// Reads a JSON request body: `query` must be a non-empty string, `variables` and
/// `extensions` objects, `operationName` a string (each may be absent or null but `query`).
fn parse_json_request(bytes: &[u8]) -> Result<async_graphql::Request, String> {
    use serde_json::Value;
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("the body is not valid JSON: {e}"))?;
    if value.is_array() {
        return Err("batched requests (a JSON array) are not supported".into());
    }
    let object = value
        .as_object()
        .ok_or("the body must be a JSON object with a query")?;
    match object.get("query") {
        Some(Value::String(query)) if !query.trim().is_empty() => {}
        Some(Value::String(_)) => return Err("query is empty".into()),
        None | Some(Value::Null) => return Err("query is missing".into()),
        Some(_) => return Err("query must be a string".into()),
    }
    for (key, object_expected) in [
        ("variables", true),
        ("extensions", true),
        ("operationName", false),
    ] {
        match (object.get(key), object_expected) {
            (None | Some(Value::Null), _) | (Some(Value::Object(_)), true) => {}
            (Some(Value::String(_)), false) => {}
            (Some(_), true) => return Err(format!("{key} must be an object")),
            (Some(_), false) => return Err(format!("{key} must be a string")),
        }
    }
    serde_json::from_value(value).map_err(|e| format!("the request does not decode: {e}"))
}

/// True when reading the body failed because it was over the size limit.
fn over_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = source {
        if error.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = error.source();
    }
    false
}

/// POST /graphql: run any operation. `application/json` bodies, or `multipart/form-data`
/// for uploads; anything else (no content type, `text/plain`) is 415, which also keeps
/// browsers from posting cross-site without a CORS preflight.
pub async fn graphql_post(
    State(state): State<AppState>,
    request: axum::extract::Request,
) -> Response {
    use axum::extract::FromRequest;
    let headers = request.headers().clone();
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let graphql_request = match media.as_str() {
        "application/json" => {
            let bytes = match axum::body::to_bytes(request.into_body(), usize::MAX).await {
                Ok(bytes) => bytes,
                Err(error) if over_limit(&error) => {
                    return (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "the body is over the size limit",
                    )
                        .into_response()
                }
                Err(error) => {
                    return bad_request(&headers, &format!("could not read the body: {error}"))
                }
            };
            match parse_json_request(&bytes) {
                Ok(request) => request,
                Err(message) => return bad_request(&headers, &message),
            }
        }
        "multipart/form-data" => {
            match <GraphQLRequest as FromRequest<AppState>>::from_request(request, &state).await {
                Ok(request) => request.into_inner(),
                Err(rejection) => return rejection.into_response(),
            }
        }
        _ => {
            return (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                [(header::ACCEPT, "application/json, multipart/form-data")],
                "send Content-Type: application/json (or multipart/form-data for uploads)",
            )
                .into_response()
        }
    };
    if bearer(&headers).is_none() && only_public(&graphql_request) {
        // The credential is in the arguments (a one-time activation or reset token, a
        // password, a refresh token); nothing else runs without a bearer token.
        // The peer address, for the per-address limit on sign-in attempts.
        let graphql_request = match peer {
            Some(ip) => graphql_request.data(clientele_graphql::ClientAddress(ip)),
            None => graphql_request,
        };
        let response = state.schema.execute(graphql_request).await;
        return respond(&headers, response);
    }
    let me = match authenticate(&state, &headers).await {
        Ok(me) => me,
        Err(response) => return response,
    };
    execute(&state, &headers, graphql_request, me).await
}

/// The mutations that carry their credential in their arguments, so need no bearer token
/// (each has the ability `ActivateUser` in guard::OPERATIONS, which no role holds).
pub const PUBLIC_MUTATIONS: &[&str] = &[
    "activateCustomerUser",
    "setPassword",
    "signIn",
    "refreshSession",
    "signOut",
    "requestPasswordReset",
];

/// True when the request is one mutation that selects only `PUBLIC_MUTATIONS`.
fn only_public(request: &async_graphql::Request) -> bool {
    use async_graphql::parser::types::Selection;
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let operation = match &document.operations {
        DocumentOperations::Single(op) => op,
        DocumentOperations::Multiple(ops) => {
            match request.operation_name.as_deref().and_then(|n| ops.get(n)) {
                Some(op) if ops.len() == 1 => op,
                _ => return false,
            }
        }
    };
    let items = &operation.node.selection_set.node.items;
    operation.node.ty == OperationType::Mutation
        && !items.is_empty()
        && items.iter().all(|item| match &item.node {
            Selection::Field(field) => PUBLIC_MUTATIONS.contains(&field.node.name.node.as_str()),
            _ => false,
        })
}

/// True when the request would run a mutation.
fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let is_mutation = |ty: OperationType| ty == OperationType::Mutation;
    match &document.operations {
        DocumentOperations::Single(op) => is_mutation(op.node.ty),
        DocumentOperations::Multiple(ops) => match &request.operation_name {
            Some(name) => ops
                .get(name.as_str())
                .is_some_and(|op| is_mutation(op.node.ty)),
            None => ops.values().any(|op| is_mutation(op.node.ty)),
        },
    }
}

/// GET /graphql: GraphiQL for a browser; a query in the URL is run, a mutation never (405).
pub async fn graphql_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Response {
    if uri.query().is_none_or(|q| !q.contains("query=")) {
        // Our own page, served with its assets from the binary; it reads `?token=…`.
        return crate::graphiql::page();
    }
    let request = match async_graphql::http::parse_query_string(uri.query().unwrap_or_default()) {
        Ok(request) => request,
        Err(error) => return (StatusCode::BAD_REQUEST, error.to_string()).into_response(),
    };
    if is_mutation(&request) {
        return (
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "POST")],
            "mutations are only accepted with POST",
        )
            .into_response();
    }
    let me = match authenticate(&state, &headers).await {
        Ok(me) => me,
        Err(response) => return response,
    };
    execute(&state, &headers, request, me).await
}

/// GET /healthz: the process is up.
pub async fn healthz() -> &'static str {
    "ok"
}

/// GET /readyz: the store answers and every migration is applied.
pub async fn readyz(State(state): State<AppState>) -> Response {
    if state.store.db().is_ready().await {
        "ready".into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "store unreachable or migrations pending",
        )
            .into_response()
    }
}
