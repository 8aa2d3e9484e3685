//! The operations page is served by the binary alone: its HTML, its script and the pinned
//! graphql-ws client, nothing from elsewhere (the browser check, .ci/browser, runs it live).

use clientele_tests::{on_both_backends, spawn_app, Backend};

on_both_backends!(the_operations_page_and_its_scripts_come_from_the_service,);

async fn the_operations_page_and_its_scripts_come_from_the_service(backend: Backend) {
    let app = spawn_app(backend).await;
    let page = app.get("/dashboard").await;
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = page.text().await.unwrap();
    for script in [
        "/dashboard/graphql-ws@5.16.2/graphql-ws.min.js",
        "/dashboard/dashboard.js",
    ] {
        assert!(html.contains(script), "the page loads {script}");
        let served = app.get(script).await;
        assert_eq!(served.status(), 200, "{script}");
        let body = served.text().await.unwrap();
        assert!(!body.is_empty());
    }
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "nothing from elsewhere"
    );
    assert_eq!(app.get("/dashboard/nothing.js").await.status(), 404);
}
