//! What every handler shares: the application state and sign-in. The HTTP routes, the
//! WebSocket endpoint and `/metrics` all depend on this file, and it on none of them.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderMap};
use clientele_graphql::{Authenticator, ClienteleSchema, Clock, RequestContext};
use clientele_store::feed::Feed;
use clientele_store::Store;
use tokio::sync::{mpsc, watch};

use crate::auth::OwnCompanies;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: ClienteleSchema,
    pub ws: WsSettings,
    pub store: Store,
    pub feed: Feed,
    pub auth: Arc<Authenticator>,
    pub clock: Clock,
    pub own_companies: Arc<OwnCompanies>,
}

/// What the WebSocket endpoint needs besides the schema.
#[derive(Clone)]
pub struct WsSettings {
    pub init_timeout: Duration,
    pub max_subscriptions: usize,
    pub max_message_bytes: usize,
    /// Raised when the service shuts down.
    pub closing: watch::Receiver<bool>,
    /// Held by every open connection: shutdown waits until all are dropped.
    pub connections: mpsc::Sender<()>,
}

/// The longest request id taken from a client; a longer one is replaced.
pub const MAX_REQUEST_ID_BYTES: usize = 128;

/// The one layer that decides a request's id, before anything reads it: the client's
/// `x-request-id` when it is 1 to 128 bytes of visible ASCII (`!` to `~`), a new UUID
/// otherwise (none, too long, not UTF-8, spaces or control characters). The request goes
/// on with that value in its header, so the tracing span, sign-in (and so every event's
/// metadata) and the response's `x-request-id` all carry the same id.
pub async fn normalise_request_id(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let name = header::HeaderName::from_static("x-request-id");
    let acceptable = |value: &header::HeaderValue| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_REQUEST_ID_BYTES
            && bytes.iter().all(u8::is_ascii_graphic)
    };
    let id = match request.headers().get(&name) {
        Some(value) if acceptable(value) => value.clone(),
        _ => header::HeaderValue::from_str(&uuid::Uuid::now_v7().to_string())
            .expect("a UUID is a valid header value"),
    };
    request.headers_mut().insert(name.clone(), id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(name, id);
    response
}

/// The `x-request-id` header, as `normalise_request_id` left it; empty only outside a
/// request that went through it.
pub fn request_id(headers: &HeaderMap) -> &str {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(strip_bearer)
        .map(str::trim)
}

/// The token after a `Bearer ` (or `bearer `) prefix, untrimmed; `None` without one.
pub fn strip_bearer(value: &str) -> Option<&str> {
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
}

/// Why a token whose session was taken back is refused.
pub const SESSION_ENDED: &str = "this token's session has ended (it was revoked); sign in again";

/// Verifies a token, refuses one whose session ended (an in-memory lookup in the
/// store's revocation set), and makes sure the tenant's own company exists; the error says
/// why the token was refused.
pub async fn sign_in(
    state: &AppState,
    token: Option<&str>,
    request_id: &str,
) -> Result<RequestContext, String> {
    let claims = match token.map(|t| state.auth.verify(t)) {
        Some(Ok(claims)) => claims,
        Some(Err(error)) => return Err(error.to_string()),
        None => return Err("sign in: send Authorization: Bearer <token>".into()),
    };
    let request = RequestContext::from_claims(claims, request_id);
    if request.session_ended(state.store.sessions()) {
        return Err(SESSION_ENDED.into());
    }
    state
        .own_companies
        .ensure(&state.store, &request, state.clock.now())
        .await;
    Ok(request)
}
