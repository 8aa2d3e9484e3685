//! Mail the service sends to people (activation, password reset, …): what to send, never
//! how. The server renders it from its templates in the recipient's language and hands it
//! to SMTP; without SMTP configured there is no mailer and links are returned instead.

use futures::future::BoxFuture;

/// One mail to one person, before it is rendered: the template (`kind`), the tenant whose
/// name it carries (and whose override of the template wins), the recipient's language,
/// and the values the template fills in (`link`, `expiresAt`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The template's name: `activation`, `password_reset`, …
    pub kind: &'static str,
    pub tenant: String,
    pub to: String,
    /// A language tag (`de`, `fr-CH`, …); templates fall back to English.
    pub language: String,
    pub values: Vec<(&'static str, String)>,
}

/// Sends mail; the server gives one when SMTP is configured.
pub trait Mailer: Send + Sync {
    /// Renders and sends `mail`; the error says why it could not be handed to the server.
    fn send(&self, mail: Mail) -> BoxFuture<'_, Result<(), String>>;
}
