//! GET /dashboard: the live operations page (counts by account status, open deletion
//! requests with the time left, the latest events), fed by the GraphQL subscriptions. Plain
//! HTML, its own script and the pinned graphql-ws client, embedded at build time
//! (assets/dashboard/README.md); nothing from the internet. It signs in as GraphiQL's page
//! does: the token from `?token=` or its form, sent in `connection_init`.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// GET /dashboard.
pub async fn page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("../assets/dashboard/index.html"),
    )
        .into_response()
}

/// GET /dashboard/{*path}: the page's script and the pinned client.
pub async fn asset(Path(path): Path<String>) -> Response {
    let (body, cache): (&str, &str) = match path.as_str() {
        "dashboard.js" => (include_str!("../assets/dashboard/dashboard.js"), "no-cache"),
        // The path names the version, so it may be cached for good.
        "graphql-ws@5.16.2/graphql-ws.min.js" => (
            include_str!("../assets/dashboard/graphql-ws.min.js"),
            "public, max-age=31536000, immutable",
        ),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}
