//! The outbound HTTP client of webhook deliveries: no redirects, a connect timeout and a
//! total one, a cap on what is sent and on what is read back, and by default no loopback,
//! link-local or private address, checked on every connection (the resolver drops such
//! addresses, so a name that rebinds to one is refused too; IP literals are checked here).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clientele_domain::tenant::webhooks::is_private_address;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The largest request body sent; a bigger event is a failed delivery.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// How much of the receiver's answer is kept for the delivery log.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a POST came to.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status, when the receiver answered.
    pub status: Option<u16>,
    /// The start of the answer, or what went wrong.
    pub detail: Option<String>,
    pub latency: Duration,
}

impl Answer {
    pub fn delivered(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// The client, shared by every endpoint's task.
#[derive(Clone)]
pub struct Outbound {
    client: reqwest::Client,
    allow_private: bool,
}

impl Outbound {
    pub fn new(allow_private: bool, timeout: Duration) -> anyhow::Result<Outbound> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT.min(timeout))
            .timeout(timeout)
            .dns_resolver(Arc::new(PublicOnly { allow_private }))
            .user_agent(concat!("clientele-webhooks/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Outbound {
            client,
            allow_private,
        })
    }

    /// POSTs `body` with `headers` to `url`.
    pub async fn post(&self, url: &str, headers: &[(&str, String)], body: Vec<u8>) -> Answer {
        let started = Instant::now();
        let failed = |detail: String| Answer {
            status: None,
            detail: Some(detail),
            latency: started.elapsed(),
        };
        if body.len() > MAX_BODY_BYTES {
            return failed(format!(
                "the event is {} bytes; deliveries are at most {MAX_BODY_BYTES}",
                body.len()
            ));
        }
        let parsed = match reqwest::Url::parse(url) {
            Ok(parsed) => parsed,
            Err(error) => return failed(format!("not a URL: {error}")),
        };
        let literal = match parsed.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        };
        if let Some(ip) = literal.filter(|ip| !self.allow_private && is_private_address(*ip)) {
            return failed(format!("{ip} is a private address; not connecting"));
        }
        let mut request = self
            .client
            .post(parsed)
            .header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let mut response = match request.body(body).send().await {
            Ok(response) => response,
            Err(error) => return failed(describe(&error)),
        };
        let status = response.status().as_u16();
        let mut answer = Vec::new();
        let mut detail = None;
        while answer.len() < MAX_ANSWER_BYTES {
            match response.chunk().await {
                Ok(Some(chunk)) => answer.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(error) => {
                    detail = Some(describe(&error));
                    break;
                }
            }
        }
        answer.truncate(MAX_ANSWER_BYTES);
        let text = String::from_utf8_lossy(&answer).trim().to_string();
        Answer {
            status: Some(status),
            detail: detail.or_else(|| (!text.is_empty()).then_some(text)),
            latency: started.elapsed(),
        }
    }
}

/// An error with its causes (reqwest's own message is only the outermost one).
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if error.is_timeout() {
        text.push_str(" (timed out)");
    }
    text
}

/// Resolves names with the system resolver and drops private addresses (unless allowed).
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || !is_private_address(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}
