//! The application as a library: build it, ask its port, run it until stopped.

use std::future::IntoFuture;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use clientele_graphql::{build_schema, Authenticator, Clock, Grant, Role};
use clientele_store::feed::Feed;
use clientele_store::{redact, Store};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::auth::OwnCompanies;
use crate::routes::{graphql_get, graphql_post, healthz, readyz};
use crate::settings::Settings;
use crate::state::{AppState, WsSettings};

/// A built, listening, not yet serving application.
pub struct Application {
    listener: TcpListener,
    router: Router,
    store: Store,
    feed: Feed,
    connections: mpsc::Receiver<()>,
    settings: Settings,
    clock: Clock,
    shutdown: watch::Sender<bool>,
}

/// Stops a running application from elsewhere (tests, signal handlers).
#[derive(Clone)]
pub struct ShutdownHandle(watch::Sender<bool>);

impl ShutdownHandle {
    pub fn shutdown(&self) {
        let _ = self.0.send(true);
    }
}

impl Application {
    /// Opens the store (applying migrations), builds the router and binds the listener.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Clock::system()).await
    }

    /// As `build`, with the clock events are stamped with.
    pub async fn build_with_clock(settings: Settings, clock: Clock) -> anyhow::Result<Self> {
        let url = settings.database_url();
        let store = Store::open(&settings.connect_options())
            .await
            .map_err(|e| anyhow::anyhow!("failed to open the store at {}: {e}", redact(&url)))?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|e| anyhow::anyhow!("failed to listen on {}: {e}", settings.listen))?;
        let (auth, created) = crate::auth::authenticator(&settings)?;
        let auth = Arc::new(auth);
        let ttl = chrono::Duration::minutes(settings.impersonation_ttl_minutes);
        if created {
            announce_first_token(&auth, &settings, listener.local_addr()?)?;
        }
        crate::telemetry::metrics_handle();
        let (shutdown, _) = watch::channel(false);
        let feed = Feed::new(store.clone(), settings.subscription_buffer);
        feed.seek_to_end().await?;
        // After the feed is placed: whatever is committed up to its head is in the read
        // model, and the feed records everything after it.
        store
            .sessions()
            .load(store.db(), clock.now())
            .await
            .map_err(|e| anyhow::anyhow!("failed to load the ended sessions: {e}"))?;
        let activation = activation_settings(&settings, listener.local_addr()?)?;
        let (connections_alive, connections) = mpsc::channel(1);
        let state = AppState {
            schema: build_schema(
                store.clone(),
                feed.clone(),
                clock.clone(),
                auth.clone(),
                ttl,
                activation,
                clientele_graphql::WebhookSettings {
                    allow_private_addresses: settings.webhooks_allow_private_addresses,
                },
            ),
            ws: WsSettings {
                init_timeout: Duration::from_millis(settings.ws_init_timeout_ms),
                max_subscriptions: settings.max_subscriptions_per_connection,
                max_message_bytes: settings.max_body_bytes,
                closing: shutdown.subscribe(),
                connections: connections_alive,
            },
            store: store.clone(),
            feed: feed.clone(),
            auth,
            clock: clock.clone(),
            own_companies: Arc::new(OwnCompanies::default()),
        };
        let router = Router::new()
            .route("/graphql", get(graphql_get).post(graphql_post))
            .route("/graphql/ws", get(crate::ws::graphql_ws))
            .route("/graphiql/{*path}", get(crate::graphiql::asset))
            .route("/dashboard", get(crate::dashboard::page))
            .route("/dashboard/{*path}", get(crate::dashboard::asset))
            .route(
                "/activate",
                get(crate::activation_page::show).post(crate::activation_page::submit),
            )
            .route("/healthz", get(healthz))
            .route("/readyz", get(readyz))
            .route("/metrics", get(crate::telemetry::metrics_endpoint))
            .with_state(state)
            .route_layer(axum::middleware::from_fn(crate::telemetry::track_http))
            .layer(axum::middleware::from_fn_with_state(
                BodyLimits {
                    body: settings.max_body_bytes,
                    upload: settings.max_upload_bytes,
                },
                body_limits,
            ))
            .layer(RequestBodyLimitLayer::new(
                settings.max_body_bytes.max(settings.max_upload_bytes),
            ))
            .layer(TraceLayer::new_for_http().make_span_with(crate::telemetry::request_span))
            // Outermost: the request id is settled before the span or anything else reads it.
            .layer(axum::middleware::from_fn(
                crate::state::normalise_request_id,
            ));
        Ok(Application {
            listener,
            router,
            store,
            feed,
            connections,
            settings,
            clock,
            shutdown,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle(self.shutdown.clone())
    }

    /// Serves until ctrl-c, SIGTERM or the shutdown handle; then stops accepting, lets
    /// in-flight requests finish (bounded by the grace period) and stops the projections.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let Application {
            listener,
            router,
            store,
            feed,
            mut connections,
            settings,
            clock,
            shutdown,
        } = self;
        let webhooks = crate::webhooks::spawn(
            store.clone(),
            feed.clone(),
            clock.clone(),
            notice_mailer(&settings)?,
            crate::webhooks::WorkerSettings {
                allow_private_addresses: settings.webhooks_allow_private_addresses,
                retry_base: Duration::from_millis(settings.webhooks_retry_base_ms),
                poll: Duration::from_millis(settings.webhooks_poll_ms),
                timeout: Duration::from_millis(settings.webhooks_timeout_ms),
            },
            shutdown.subscribe(),
        )?;
        let notices = notice_mailer(&settings)?.map(|mailer| {
            crate::deletion_notices::spawn(
                store.clone(),
                clock.clone(),
                mailer,
                Duration::from_millis(settings.deletion_poll_ms),
                shutdown.subscribe(),
            )
        });
        let scheduler = crate::scheduler::spawn(
            store.clone(),
            clock,
            Duration::from_millis(settings.deletion_poll_ms),
            shutdown.subscribe(),
        );
        let runner = store.spawn_runner(
            shutdown.subscribe(),
            Duration::from_millis(settings.projection_poll_ms),
        );
        // Events of other instances reach this one through the feed (NOTIFY, or its poll):
        // they wake the runner as local commits do, so the asynchronous read models (the
        // counts) follow them at once instead of at the runner's next poll.
        {
            let (mut head, projected, written) =
                (feed.head_changes(), store.projected(), store.written());
            let mut stopped = shutdown.subscribe();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        changed = head.changed() => if changed.is_err() { return },
                        _ = stopped.changed() => return,
                    }
                    if *head.borrow_and_update() > *projected.borrow() {
                        written.notify_one();
                    }
                }
            });
        }
        let feed_task = feed.spawn(
            shutdown.subscribe(),
            Duration::from_millis(settings.feed_poll_ms),
        );
        let signals = shutdown.clone();
        tokio::spawn(async move {
            wait_for_signal().await;
            let _ = signals.send(true);
        });
        tracing::info!(
            address = %listener.local_addr()?,
            store = %redact(&settings.database_url()),
            "clientele is serving; GraphiQL at http://{}/graphql",
            listener.local_addr()?
        );
        let mut stopped = shutdown.subscribe();
        let send_buffer = settings.tcp_send_buffer_bytes;
        let listener = axum::serve::ListenerExt::tap_io(listener, move |tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "could not set TCP_NODELAY");
            }
            if send_buffer > 0 {
                if let Err(error) = socket2::SockRef::from(&*tcp).set_send_buffer_size(send_buffer)
                {
                    tracing::debug!(%error, "could not set the send buffer size");
                }
            }
        });
        let router = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            let _ = stopped.wait_for(|stop| *stop).await;
            tracing::info!("shutting down: finishing in-flight requests");
        });
        // One deadline for the whole shutdown, counted from the moment it is asked for:
        // in-flight requests, then WebSocket connections, then the store.
        let grace = Duration::from_secs(settings.shutdown_grace_secs);
        let mut serve = std::pin::pin!(serve.into_future());
        let mut stopped = shutdown.subscribe();
        let served = tokio::select! {
            result = &mut serve => { result?; true }
            _ = stopped.wait_for(|stop| *stop) => false,
        };
        let deadline = tokio::time::Instant::now() + grace;
        if !served {
            match tokio::time::timeout_at(deadline, &mut serve).await {
                Ok(result) => result?,
                Err(_) => tracing::warn!(
                    "in-flight requests did not finish within {grace:?}; stopping anyway"
                ),
            }
        }
        // WebSocket connections outlive the HTTP server's graceful shutdown: each one
        // completes its subscriptions and closes; wait for that, within the same deadline.
        feed.close();
        if tokio::time::timeout_at(deadline, connections.recv())
            .await
            .is_err()
        {
            tracing::warn!("WebSocket connections did not close within {grace:?}; stopping anyway");
        }
        let _ = feed_task.await;
        let _ = runner.await;
        let _ = scheduler.await;
        let _ = webhooks.await;
        if let Some(notices) = notices {
            let _ = notices.await;
        }
        // Closing waits for every connection to come back to its pool: a request still
        // running past the deadline would hold one forever.
        if tokio::time::timeout_at(deadline + Duration::from_secs(1), store.db().close())
            .await
            .is_err()
        {
            tracing::warn!("database connections were still in use at the deadline");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

/// The body limits: one for ordinary requests, a larger one for multipart uploads.
#[derive(Clone, Copy)]
struct BodyLimits {
    body: usize,
    upload: usize,
}

/// Answers 413 when the declared length is over the limit for the request's kind; the
/// outer layer caps bodies that declare no length.
async fn body_limits(
    axum::extract::State(limits): axum::extract::State<BodyLimits>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let headers = request.headers();
    let multipart = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let limit = if multipart {
        limits.upload
    } else {
        limits.body
    };
    let length = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if length.is_some_and(|length| length > limit) {
        let message = format!("the body is larger than the {limit}-byte limit");
        return (axum::http::StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
    }
    // A chunked body declares no length: cap what is read, so it cannot exceed the limit
    // of its kind either (reading past it fails the request).
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(axum::extract::Request::from_parts(parts, body))
        .await
}

/// The mailer of deletion notices: none without `--smtp-url`.
fn notice_mailer(
    settings: &Settings,
) -> anyhow::Result<Option<Arc<dyn clientele_graphql::Mailer>>> {
    use secrecy::ExposeSecret;
    let Some(url) = &settings.smtp_url else {
        return Ok(None);
    };
    let templates = crate::mail::Templates::new(settings.mail_templates_dir.clone());
    let mailer = crate::mail::SmtpMailer::new(url.expose_secret(), &settings.smtp_from, templates)?;
    Ok(Some(Arc::new(mailer)))
}

/// Activation links and emails, from the settings.
fn activation_settings(
    settings: &Settings,
    address: std::net::SocketAddr,
) -> anyhow::Result<clientele_graphql::ActivationSettings> {
    use secrecy::ExposeSecret;
    let public = settings
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{address}"));
    let mailer = match &settings.smtp_url {
        Some(url) => Some(Arc::new(crate::mail::SmtpMailer::new(
            url.expose_secret(),
            &settings.smtp_from,
            crate::mail::Templates::new(settings.mail_templates_dir.clone()),
        )?) as Arc<dyn clientele_graphql::Mailer>),
        None => None,
    };
    Ok(clientele_graphql::ActivationSettings {
        link_prefix: format!("{}/activate?token=", public.trim_end_matches('/')),
        ttl: chrono::Duration::hours(settings.activation_ttl_hours),
        mailer,
        session_ttl: chrono::Duration::hours(1),
    })
}

/// On first start, prints a ready TENANT_ADMIN token and a GraphiQL URL that uses it.
fn announce_first_token(
    auth: &Authenticator,
    settings: &Settings,
    address: std::net::SocketAddr,
) -> anyhow::Result<()> {
    let grant = Grant::new("admin", "default", Role::TenantAdmin);
    let (token, expires) = auth.mint(grant, chrono::Utc::now(), chrono::Duration::days(30))?;
    println!(
        "\nA signing secret was created in {}.\nTENANT_ADMIN token for tenant \"default\" (valid until {expires}):\n\n  {token}\n\n\
         Open GraphiQL with it: http://{address}/graphql?token={token}\n\
         Mint more with: clientele token --tenant T --role R [--customer C] [--ttl 1h]\n",
        settings.data_dir.display()
    );
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
