//! A real webhook receiver inside the test process: axum on 127.0.0.1. It checks every
//! request's signature with the Standard Webhooks algorithm (written here again, from the
//! specification, not taken from the service), answers 401 to a bad one, records every
//! request, and can be told to fail, to stall, or be stopped and started on the same port.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Hit {
    pub webhook_id: String,
    /// The secrets (by index in `secrets`) whose signature the request carried.
    pub signed_by: Vec<usize>,
    pub signatures: usize,
    pub body: Value,
    /// The status the receiver answered.
    pub answered: u16,
}

impl Hit {
    pub fn event_type(&self) -> &str {
        self.body["type"].as_str().unwrap_or_default()
    }

    pub fn customer(&self) -> &str {
        self.body["data"]["customerId"].as_str().unwrap_or_default()
    }
}

/// What the receiver knows and does.
#[derive(Debug, Default)]
pub struct Behaviour {
    /// The secrets it accepts (`whsec_…`).
    pub secrets: Vec<String>,
    /// Answer 500 to this many requests more.
    pub fail_next: usize,
    /// Wait this long before answering.
    pub stall: Option<Duration>,
    pub hits: Vec<Hit>,
}

/// The running receiver.
pub struct Receiver {
    pub port: u16,
    pub behaviour: Arc<Mutex<Behaviour>>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    /// Starts a receiver on a free port.
    pub async fn start() -> Receiver {
        Receiver::on(0, Arc::new(Mutex::new(Behaviour::default()))).await
    }

    /// Starts a receiver on `port` (0: any) with `behaviour`.
    pub async fn on(port: u16, behaviour: Arc<Mutex<Behaviour>>) -> Receiver {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("a local port for the receiver");
        let port = listener.local_addr().expect("bound").port();
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state(behaviour.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Receiver {
            port,
            behaviour,
            server,
        }
    }

    /// Stops it: the port refuses connections until `restart`.
    pub async fn stop(self) -> (u16, Arc<Mutex<Behaviour>>) {
        self.server.abort();
        let _ = self.server.await;
        (self.port, self.behaviour)
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    pub fn trust(&self, secret: &str) {
        self.behaviour
            .lock()
            .unwrap()
            .secrets
            .push(secret.to_string());
    }

    pub fn set(&self, change: impl FnOnce(&mut Behaviour)) {
        change(&mut self.behaviour.lock().unwrap());
    }

    /// Every request so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.behaviour.lock().unwrap().hits.clone()
    }

    /// The requests answered 2xx.
    pub fn delivered(&self) -> Vec<Hit> {
        self.hits()
            .into_iter()
            .filter(|h| (200..300).contains(&h.answered))
            .collect()
    }

    /// Waits (up to 15 s) until `n` requests were answered 2xx; returns them.
    pub async fn wait_for(&self, n: usize) -> Vec<Hit> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let delivered = self.delivered();
            if delivered.len() >= n {
                return delivered;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{n} deliveries expected within 15 s; got {:#?}",
                self.hits()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The signature of the specification: HMAC-SHA256 of `id.timestamp.body` with the
/// base64-decoded secret after `whsec_`, base64, prefixed `v1,`.
pub fn expected_signature(secret: &str, id: &str, timestamp: &str, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").expect("a whsec_ secret"))
        .expect("a base64 secret");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length");
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

async fn hook(
    State(behaviour): State<Arc<Mutex<Behaviour>>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let (id, timestamp, signature) = (
        header("webhook-id"),
        header("webhook-timestamp"),
        header("webhook-signature"),
    );
    let stall = behaviour.lock().unwrap().stall;
    if let Some(stall) = stall {
        tokio::time::sleep(stall).await;
    }
    let mut shared = behaviour.lock().unwrap();
    let given: Vec<&str> = signature.split(' ').collect();
    let signed_by: Vec<usize> = shared
        .secrets
        .iter()
        .enumerate()
        .filter(|(_, secret)| {
            given.contains(&expected_signature(secret, &id, &timestamp, &body).as_str())
        })
        .map(|(i, _)| i)
        .collect();
    let fresh = timestamp
        .parse::<i64>()
        .is_ok_and(|t| (chrono::Utc::now().timestamp() - t).abs() < 300);
    let answered = if signed_by.is_empty() || !fresh {
        401
    } else if shared.fail_next > 0 {
        shared.fail_next -= 1;
        500
    } else {
        204
    };
    shared.hits.push(Hit {
        webhook_id: id,
        signed_by,
        signatures: given.len(),
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        answered,
    });
    StatusCode::from_u16(answered).expect("a status")
}
