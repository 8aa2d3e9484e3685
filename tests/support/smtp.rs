//! A real SMTP server inside the test process: the RFC 5321 conversation is the `mailin`
//! crate's state machine, spoken over a TCP listener on 127.0.0.1. Plain SMTP only, as the
//! service sends (no STARTTLS, no AUTH).

use std::net::IpAddr;

use mailin::{Action, Handler, Response, SessionBuilder};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// One message the server accepted: its envelope and its data (dot-unstuffed, CRLF kept).
#[derive(Debug, Clone)]
pub struct Received {
    /// `MAIL FROM`.
    pub from: String,
    /// Every `RCPT TO`.
    pub to: Vec<String>,
    /// What came after `DATA`, up to the closing dot.
    pub data: Vec<u8>,
}

/// The running server; it stops, with every session it has open, when dropped.
pub struct SmtpServer {
    port: u16,
    accept: tokio::task::JoinHandle<()>,
}

impl SmtpServer {
    /// Starts a server on a free port of 127.0.0.1. Every message it accepts comes out of
    /// the receiver.
    pub async fn start() -> (SmtpServer, mpsc::UnboundedReceiver<Received>) {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free local port for the SMTP server");
        let port = listener.local_addr().expect("a bound listener").port();
        let (inbox, received) = mpsc::unbounded_channel();
        let accept = tokio::spawn(async move {
            // Dropping the set (when this task is aborted) aborts the sessions too.
            let mut sessions = tokio::task::JoinSet::new();
            while let Ok((stream, peer)) = listener.accept().await {
                sessions.spawn(session(stream, peer.ip(), inbox.clone()));
            }
        });
        (SmtpServer { port, accept }, received)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

/// One client's conversation, line by line, until QUIT or the client goes away.
async fn session(stream: TcpStream, peer: IpAddr, inbox: mpsc::UnboundedSender<Received>) {
    let (reader, mut writer) = stream.into_split();
    let mut reader = BufReader::new(reader);
    let mut session = SessionBuilder::new("clientele-tests").build(peer, Collector::new(inbox));
    if send(&mut writer, &session.greeting()).await.is_err() {
        return;
    }
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let response = session.process(&line);
        let close = match response.action {
            Action::NoReply => continue,
            Action::Reply => false,
            // Plain SMTP only: STARTTLS is never offered, so this does not happen.
            Action::Close | Action::UpgradeTls => true,
        };
        if send(&mut writer, &response).await.is_err() || close {
            return;
        }
    }
}

async fn send(
    writer: &mut tokio::net::tcp::OwnedWriteHalf,
    response: &Response,
) -> std::io::Result<()> {
    writer.write_all(&response.buffer()?).await?;
    writer.flush().await
}

/// Keeps the envelope and data of the message in progress, and hands it on at the dot.
struct Collector {
    inbox: mpsc::UnboundedSender<Received>,
    message: Option<Received>,
}

impl Collector {
    fn new(inbox: mpsc::UnboundedSender<Received>) -> Self {
        Collector {
            inbox,
            message: None,
        }
    }
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.message = Some(Received {
            from: from.to_string(),
            to: to.to_vec(),
            data: Vec::new(),
        });
        mailin::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if let Some(message) = self.message.as_mut() {
            message.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if let Some(message) = self.message.take() {
            let _ = self.inbox.send(message);
        }
        mailin::response::OK
    }
}
