//! Mail over SMTP (lettre), when `--smtp-url` is configured: each mail is rendered from
//! its template in the recipient's language (`templates.rs`) and sent through one server.
//!
//! The URL says how to reach the server (lettre's connection URLs):
//!
//! - `smtp://[user:password@]host[:port]`: plain SMTP (port 25), e.g. to a local relay;
//! - `smtp://[user:password@]host[:port]?tls=required`: STARTTLS, required (port 587);
//! - `smtps://[user:password@]host[:port]`: implicit TLS (port 465).
//!
//! TLS is rustls with the Mozilla roots (webpki-roots); the certificate must name the host.

pub mod templates;

use clientele_graphql::{Mail, Mailer};
use futures::future::BoxFuture;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub use templates::Templates;

/// Sends mail through one SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    templates: Templates,
}

impl SmtpMailer {
    /// `url` is one of the forms above; `from` the sender's address.
    pub fn new(url: &str, from: &str, templates: Templates) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| {
                anyhow::anyhow!(
                    "--smtp-url must look like smtp://[user:password@]host[:port] (plain), \
                     smtp://…?tls=required (STARTTLS) or smtps://… (implicit TLS): {e}"
                )
            })?
            .build();
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("--smtp-from is not an email address: {e}"))?;
        Ok(SmtpMailer {
            transport,
            from,
            templates,
        })
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            let rendered = self.templates.render(&mail)?;
            let to: Mailbox = mail.to.parse().map_err(|e| format!("bad recipient: {e}"))?;
            let message = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject(rendered.subject)
                .header(ContentType::TEXT_PLAIN)
                .body(rendered.text)
                .map_err(|e| e.to_string())?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
