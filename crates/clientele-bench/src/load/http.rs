//! The load generator's HTTP/1.1 client, kept lean so that the benchmark measures the
//! server and not itself: hyper's low-level connection API over a tokio `TcpStream`, one
//! keep-alive connection per concurrent worker, request bodies serialised once up front
//! with only their varying parts spliced in, and responses checked without parsing them
//! (status 200 and no `"errors"` key), except where a value is needed.

use std::fmt::Display;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, ensure, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};

/// Where requests go, with the headers every request carries, built once.
pub struct Target {
    addr: SocketAddr,
    host: HeaderValue,
    authorization: HeaderValue,
}

impl Target {
    pub fn new(port: u16, token: &str) -> anyhow::Result<Arc<Target>> {
        Ok(Arc::new(Target {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            host: HeaderValue::from_str(&format!("127.0.0.1:{port}"))?,
            authorization: HeaderValue::from_str(&format!("Bearer {token}"))?,
        }))
    }
}

/// One keep-alive HTTP/1.1 connection to the server.
pub struct Conn {
    target: Arc<Target>,
    sender: SendRequest<Full<Bytes>>,
}

impl Conn {
    pub async fn open(target: &Arc<Target>) -> anyhow::Result<Conn> {
        let sender = handshake(target.addr).await?;
        Ok(Conn {
            target: target.clone(),
            sender,
        })
    }

    /// POSTs a GraphQL request body to /graphql; returns the response's status and body.
    pub async fn post(&mut self, body: Vec<u8>) -> anyhow::Result<(StatusCode, Bytes)> {
        self.send(
            Method::POST,
            Uri::from_static("/graphql"),
            Bytes::from(body),
        )
        .await
    }

    pub async fn get(&mut self, path: &str) -> anyhow::Result<(StatusCode, Bytes)> {
        self.send(Method::GET, path.parse()?, Bytes::new()).await
    }

    async fn send(
        &mut self,
        method: Method,
        uri: Uri,
        body: Bytes,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        if self.sender.is_closed() || self.sender.ready().await.is_err() {
            // The server closed the idle connection: open another one.
            self.sender = handshake(self.target.addr).await?;
            self.sender.ready().await?;
        }
        let mut request = Request::new(Full::new(body));
        *request.method_mut() = method.clone();
        *request.uri_mut() = uri;
        let headers = request.headers_mut();
        headers.insert(HOST, self.target.host.clone());
        headers.insert(AUTHORIZATION, self.target.authorization.clone());
        if method == Method::POST {
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        }
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let body = response.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

async fn handshake(addr: SocketAddr) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Waits until the server answers GET /readyz with 200.
pub async fn wait_ready(target: &Arc<Target>) -> anyhow::Result<()> {
    for _ in 0..300 {
        if let Ok(mut conn) = Conn::open(target).await {
            if let Ok((StatusCode::OK, _)) = conn.get("/readyz").await {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("the server did not become ready")
}

/// Marks where a varying value goes in a template (serialised verbatim by serde_json).
pub const HOLE: &str = "\u{1}HOLE\u{1}";

/// A GraphQL request body serialised once, with holes where the varying values go.
pub struct Template {
    parts: Vec<Vec<u8>>,
}

impl Template {
    /// `{"query": …, "variables": …}` with every string equal to [`HOLE`] (or containing
    /// it) left open.
    pub fn graphql(query: &str, variables: Value) -> Template {
        let text = serde_json::to_string(&json!({ "query": query, "variables": variables }))
            .expect("a request serialises");
        // serde_json writes \u{1} as the escape \u0001: split on that form.
        let hole = serde_json::to_string(HOLE).expect("a string serialises");
        let hole = hole.trim_matches('"');
        Template {
            parts: text.split(hole).map(|p| p.as_bytes().to_vec()).collect(),
        }
    }

    pub fn holes(&self) -> usize {
        self.parts.len() - 1
    }

    /// The body with `values` spliced into the holes, in order. The values must need no
    /// JSON escaping (ids, numbers, plain words).
    pub fn render(&self, values: &[&(dyn Display + Sync)]) -> Vec<u8> {
        debug_assert_eq!(values.len(), self.holes(), "one value per hole");
        let mut body = Vec::with_capacity(self.parts.iter().map(Vec::len).sum::<usize>() + 64);
        for (i, part) in self.parts.iter().enumerate() {
            body.extend_from_slice(part);
            if let Some(value) = values.get(i) {
                write!(body, "{value}").expect("writing to a Vec");
            }
        }
        debug_assert!(serde_json::from_slice::<Value>(&body).is_ok(), "valid JSON");
        body
    }
}

/// A successful GraphQL answer: status 200 and no `"errors"` key anywhere in the body.
pub fn check(status: StatusCode, body: &[u8]) -> anyhow::Result<()> {
    ensure!(
        status == StatusCode::OK && memchr::memmem::find(body, b"\"errors\"").is_none(),
        "the server answered {status}: {}",
        String::from_utf8_lossy(&body[..body.len().min(2000)])
    );
    Ok(())
}

/// The value of the first `"key":"…"` string field in a JSON body, without parsing it
/// (for values without escapes, such as ids).
pub fn string_field<'a>(body: &'a [u8], key: &str) -> Option<&'a str> {
    let needle = format!("\"{key}\":\"");
    let start = memchr::memmem::find(body, needle.as_bytes())? + needle.len();
    let len = memchr::memchr(b'"', &body[start..])?;
    std::str::from_utf8(&body[start..start + len]).ok()
}

/// Sends one GraphQL request on `conn`, checks it, and returns the body.
pub async fn call(
    conn: &mut Conn,
    template: &Template,
    values: &[&(dyn Display + Sync)],
) -> anyhow::Result<Bytes> {
    let (status, body) = conn.post(template.render(values)).await?;
    check(status, &body)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_template_splices_values_into_its_holes() {
        let t = Template::graphql(
            "query($id: ID!) { customer(id: $id) { id } }",
            json!({ "id": HOLE, "input": { "name": format!("customer {HOLE}") } }),
        );
        assert_eq!(t.holes(), 2);
        let body: Value = serde_json::from_slice(&t.render(&[&"abc-1", &7])).unwrap();
        assert_eq!(body["variables"]["id"], "abc-1");
        assert_eq!(body["variables"]["input"]["name"], "customer 7");
        assert_eq!(
            body["query"],
            "query($id: ID!) { customer(id: $id) { id } }"
        );
    }

    #[test]
    fn answers_are_checked_without_parsing() {
        assert!(check(StatusCode::OK, br#"{"data":{"x":1}}"#).is_ok());
        assert!(check(StatusCode::OK, br#"{"data":null,"errors":[{}]}"#).is_err());
        assert!(check(StatusCode::BAD_REQUEST, br#"{"data":{}}"#).is_err());
        let body = br#"{"data":{"createCustomer":{"id":"c-42","version":1}}}"#;
        assert_eq!(string_field(body, "id"), Some("c-42"));
        assert_eq!(string_field(body, "name"), None);
    }
}
