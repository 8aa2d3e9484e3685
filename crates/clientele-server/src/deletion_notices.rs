//! Deletion notices: mails to the addresses a tenant names (`setDeletionNotices`) when a
//! deletion request is made, cancelled or carried out, and one day before it falls due.
//!
//! Every instance runs the loop; what is owed is read from the `deletion_requests` read
//! model (kept in each command's transaction), so a notice owed while the service was down
//! goes out on start. Each notice is claimed in `deletion_notices` before it is mailed and
//! marked sent after, so instances do not mail it twice; a claim that was never marked sent
//! (a crash, a failing mail server) is taken again after `STALE`: at least once.
//!
//! The templates are this file's own (one per kind and language: en, de, fr, es), plain
//! text, until the mail module has a shared template mechanism.

use std::sync::Arc;
use std::time::Duration;

use clientele_graphql::Clock;
use clientele_store::{NoticeKind, PendingNotice, Store, StoreError};
use tokio::sync::watch;

use crate::mail::SmtpMailer;

/// After this long, a claimed notice that was not sent is taken again.
const STALE: chrono::Duration = chrono::Duration::minutes(5);

/// Runs until shutdown, mailing what is owed every `poll`.
pub fn spawn(
    store: Store,
    clock: Clock,
    mailer: Arc<SmtpMailer>,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = run_once(&store, &clock, &mailer).await {
                tracing::error!(%error, "deletion notices failed; will retry");
            }
            tokio::select! {
                _ = tokio::time::sleep(poll) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
    })
}

/// Mails every notice owed now. Returns how many were handed to the mail server.
pub async fn run_once(
    store: &Store,
    clock: &Clock,
    mailer: &SmtpMailer,
) -> Result<usize, StoreError> {
    let mut sent = 0;
    for kind in NoticeKind::ALL {
        let now = clock.now();
        for notice in store.pending_notices(kind, now, now - STALE, 100).await? {
            if !store.claim_notice(&notice, now, now - STALE).await? {
                continue;
            }
            let (subject, body) = render(&notice, now);
            match mailer.send_text(&notice.recipients, &subject, &body).await {
                Ok(()) => {
                    store.notice_sent(&notice, clock.now()).await?;
                    sent += 1;
                    tracing::info!(customer = %notice.customer_id, request = %notice.request_id, kind = notice.kind.as_str(), "deletion notice mailed");
                }
                // The claim stays: the notice is tried again once it is stale.
                Err(error) => {
                    tracing::error!(customer = %notice.customer_id, kind = notice.kind.as_str(), %error, "deletion notice not mailed; will retry")
                }
            }
        }
    }
    Ok(sent)
}

/// The subject and body of a notice, in the tenant's language.
pub fn render(notice: &PendingNotice, now: chrono::DateTime<chrono::Utc>) -> (String, String) {
    let t = texts(&notice.language, notice.kind);
    let due = notice.due_at.format("%Y-%m-%d %H:%M UTC").to_string();
    let hours = (notice.due_at - now).num_hours().max(0).to_string();
    let fill = |text: &str| {
        text.replace("{customer}", &notice.customer_name)
            .replace("{due}", &due)
            .replace("{hours}", &hours)
            .replace("{reason}", notice.reason.as_deref().unwrap_or("-"))
            .replace("{note}", notice.note.as_deref().unwrap_or("-"))
            .replace("{by}", notice.closed_by.as_deref().unwrap_or("-"))
            .replace("{id}", &notice.customer_id)
    };
    (fill(t.0), fill(t.1))
}

/// (subject, body) of a kind in a language; English for a language without texts.
fn texts(language: &str, kind: NoticeKind) -> (&'static str, &'static str) {
    use NoticeKind::*;
    match (language, kind) {
        ("de", Requested) => ("Löschantrag für {customer}", "Für den Kunden {customer} ({id}) wurde die Löschung beantragt.\nGrund: {reason}\nDer Kunde wird am {due} gelöscht, wenn der Antrag nicht vorher zurückgezogen wird.\n"),
        ("de", Cancelled) => ("Löschantrag für {customer} zurückgezogen", "Der Löschantrag für den Kunden {customer} ({id}) wurde zurückgezogen.\nNotiz: {note}\n"),
        ("de", CarriedOut) => ("{customer} wurde gelöscht", "Der Kunde {customer} ({id}) wurde gelöscht (durch {by}).\n"),
        ("de", DueSoon) => ("{customer} wird in {hours} Stunden gelöscht", "Der Löschantrag für den Kunden {customer} ({id}) wird am {due} ausgeführt.\nGrund: {reason}\n"),
        ("fr", Requested) => ("Demande de suppression pour {customer}", "La suppression du client {customer} ({id}) a été demandée.\nMotif : {reason}\nLe client sera supprimé le {due} si la demande n'est pas annulée d'ici là.\n"),
        ("fr", Cancelled) => ("Demande de suppression annulée pour {customer}", "La demande de suppression du client {customer} ({id}) a été annulée.\nNote : {note}\n"),
        ("fr", CarriedOut) => ("{customer} a été supprimé", "Le client {customer} ({id}) a été supprimé (par {by}).\n"),
        ("fr", DueSoon) => ("{customer} sera supprimé dans {hours} heures", "La demande de suppression du client {customer} ({id}) sera exécutée le {due}.\nMotif : {reason}\n"),
        ("es", Requested) => ("Solicitud de eliminación de {customer}", "Se ha solicitado eliminar el cliente {customer} ({id}).\nMotivo: {reason}\nEl cliente se eliminará el {due} si la solicitud no se cancela antes.\n"),
        ("es", Cancelled) => ("Solicitud de eliminación cancelada para {customer}", "Se ha cancelado la solicitud de eliminación del cliente {customer} ({id}).\nNota: {note}\n"),
        ("es", CarriedOut) => ("{customer} ha sido eliminado", "El cliente {customer} ({id}) ha sido eliminado (por {by}).\n"),
        ("es", DueSoon) => ("{customer} se eliminará en {hours} horas", "La solicitud de eliminación del cliente {customer} ({id}) se ejecutará el {due}.\nMotivo: {reason}\n"),
        (_, Requested) => ("Deletion requested for {customer}", "Deletion of the customer {customer} ({id}) was requested.\nReason: {reason}\nThe customer will be deleted at {due} unless the request is cancelled before.\n"),
        (_, Cancelled) => ("Deletion request cancelled for {customer}", "The deletion request of the customer {customer} ({id}) was cancelled.\nNote: {note}\n"),
        (_, CarriedOut) => ("{customer} was deleted", "The customer {customer} ({id}) was deleted (by {by}).\n"),
        (_, DueSoon) => ("{customer} will be deleted in {hours} hours", "The deletion request of the customer {customer} ({id}) falls due at {due}.\nReason: {reason}\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_language_and_kind_has_its_own_text_with_every_placeholder_filled() {
        let now = chrono::Utc::now();
        for language in clientele_domain::tenant::NOTICE_LANGUAGES {
            for kind in NoticeKind::ALL {
                let notice = PendingNotice {
                    kind,
                    tenant_id: "t".into(),
                    customer_id: "c-id".into(),
                    customer_name: "acme".into(),
                    request_id: "r".into(),
                    due_at: now + chrono::Duration::hours(20),
                    reason: Some("price".into()),
                    note: None,
                    closed_by: None,
                    recipients: vec!["ops@reseller.example".into()],
                    language: language.into(),
                };
                let (subject, body) = render(&notice, now);
                assert!(subject.contains("acme"), "{language} {kind:?}: {subject}");
                assert!(!subject.contains('{') && !body.contains('{'), "{body}");
                if language != "en" {
                    let english = PendingNotice {
                        language: "en".into(),
                        ..notice.clone()
                    };
                    assert_ne!(render(&english, now).0, subject, "{language} {kind:?}");
                }
            }
        }
    }
}
