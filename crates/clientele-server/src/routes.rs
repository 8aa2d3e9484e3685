//! HTTP routes: GraphQL, GraphiQL and health.

use async_graphql::http::GraphiQLSource;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql_axum::GraphQLRequest;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::sync::Arc;

use clientele_graphql::{Authenticator, ClienteleSchema, Clock, RequestContext};

use crate::auth::OwnCompanies;
use clientele_store::Store;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: ClienteleSchema,
    pub store: Store,
    pub auth: Arc<Authenticator>,
    pub clock: Clock,
    pub own_companies: Arc<OwnCompanies>,
}

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// The signed-in principal, or the 401 answer to send instead.
async fn authenticate(state: &AppState, headers: &HeaderMap) -> Result<RequestContext, Response> {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let claims = match token.map(|t| state.auth.verify(t.trim())) {
        Some(Ok(claims)) => claims,
        Some(Err(error)) => return Err(unauthenticated(headers, &error.to_string())),
        None => {
            return Err(unauthenticated(
                headers,
                "sign in: send Authorization: Bearer <token>",
            ))
        }
    };
    let request = RequestContext::from_claims(claims, request_id);
    state
        .own_companies
        .ensure(&state.store, &request, state.clock.now())
        .await;
    Ok(request)
}

/// 401 with a GraphQL error whose `extensions.code` is UNAUTHENTICATED.
fn unauthenticated(headers: &HeaderMap, message: &str) -> Response {
    let error = async_graphql::ServerError::new(message, None);
    let mut response = async_graphql::Response::from_errors(vec![error]);
    if let Some(error) = response.errors.first_mut() {
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", "UNAUTHENTICATED");
        error.extensions = Some(extensions);
    }
    let mut http = respond(headers, response);
    *http.status_mut() = StatusCode::UNAUTHORIZED;
    http.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
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
/// asks for it, `application/json` otherwise.
fn respond(headers: &HeaderMap, response: async_graphql::Response) -> Response {
    let accepts_graphql = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains(GRAPHQL_RESPONSE));
    let content_type = if accepts_graphql {
        GRAPHQL_RESPONSE
    } else {
        "application/json"
    };
    let body = serde_json::to_vec(&response).expect("responses serialise");
    let mut http = (StatusCode::OK, body).into_response();
    http.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    http
}

/// POST /graphql: run any operation.
pub async fn graphql_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: GraphQLRequest,
) -> Response {
    let me = match authenticate(&state, &headers).await {
        Ok(me) => me,
        Err(response) => return response,
    };
    execute(&state, &headers, request.into_inner(), me).await
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
        // `?token=…` preloads the Authorization header (the URL printed on first start).
        let token = uri
            .query()
            .and_then(|q| q.split('&').find_map(|pair| pair.strip_prefix("token=")))
            .filter(|t| {
                t.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            })
            .map(|t| format!("Bearer {t}"));
        let page = match &token {
            Some(bearer) => GraphiQLSource::build()
                .endpoint("/graphql")
                .header("Authorization", bearer)
                .finish(),
            None => GraphiQLSource::build().endpoint("/graphql").finish(),
        };
        return Html(page).into_response();
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
