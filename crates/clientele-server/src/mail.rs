//! Activation emails over SMTP (lettre), when `--smtp-url` is configured.

use clientele_graphql::Mailer;
use futures::future::BoxFuture;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Sends activation links through one SMTP server.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// `url` is `smtp://[user:password@]host[:port]` (plain SMTP, e.g. to a local relay).
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let bad =
            || anyhow::anyhow!("--smtp-url must look like smtp://[user:password@]host[:port]");
        let rest = url.strip_prefix("smtp://").ok_or_else(bad)?;
        let rest = rest.trim_end_matches('/');
        let (credentials, address) = match rest.rsplit_once('@') {
            Some((user, address)) => (Some(user), address),
            None => (None, rest),
        };
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => (host, port.parse::<u16>().map_err(|_| bad())?),
            None => (address, 25),
        };
        if host.is_empty() {
            return Err(bad());
        }
        // Plain SMTP: this build has no TLS for SMTP; relay through a local MTA.
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port);
        if let Some(credentials) = credentials {
            let (user, password) = credentials.split_once(':').unwrap_or((credentials, ""));
            builder = builder.credentials(Credentials::new(user.into(), password.into()));
        }
        let transport = builder.build();
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("--smtp-from is not an email address: {e}"))?;
        Ok(SmtpMailer { transport, from })
    }
}

impl SmtpMailer {
    /// Sends one plain-text mail to every address of `to` (deletion notices).
    pub async fn send_text(&self, to: &[String], subject: &str, body: &str) -> Result<(), String> {
        let mut builder = Message::builder().from(self.from.clone()).subject(subject);
        for address in to {
            let mailbox: Mailbox = address.parse().map_err(|e| format!("bad recipient: {e}"))?;
            builder = builder.to(mailbox);
        }
        let message = builder
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| e.to_string())?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}

impl Mailer for SmtpMailer {
    fn send_activation<'a>(
        &'a self,
        to: &'a str,
        link: &'a str,
        _language: &'a str,
    ) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move {
            let to: Mailbox = to.parse().map_err(|e| format!("bad recipient: {e}"))?;
            let message = Message::builder()
                .from(self.from.clone())
                .to(to)
                .subject("Activate your account")
                .header(ContentType::TEXT_PLAIN)
                .body(format!(
                    "Welcome!\n\nOpen this link to activate your account (it works once):\n\n{link}\n"
                ))
                .map_err(|e| e.to_string())?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
