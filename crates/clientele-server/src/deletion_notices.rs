//! Deletion notices: mails to the addresses a tenant names (`setDeletionNotices`) when a
//! deletion request is made, cancelled or carried out, and one day before it falls due.
//!
//! Every instance runs the loop; what is owed is read from the `deletion_requests` read
//! model (kept in each command's transaction), so a notice owed while the service was down
//! goes out on start. Each notice is claimed in `deletion_notices` before it is mailed and
//! marked sent after, so instances do not mail it twice; a claim that was never marked sent
//! (a crash, a failing mail server) is taken again after `STALE`: at least once.
//!
//! The mails are rendered by the mail module's templates (`mail/templates/<lang>/
//! deletion_*.txt`: en, de, fr, es, and a tenant's overrides), one mail per address.

use std::sync::Arc;
use std::time::Duration;

use clientele_graphql::{Clock, Mail, Mailer};
use clientele_store::{NoticeKind, PendingNotice, Store, StoreError};
use tokio::sync::watch;

/// After this long, a claimed notice that was not sent is taken again.
const STALE: chrono::Duration = chrono::Duration::minutes(5);

/// Runs until shutdown, mailing what is owed every `poll`.
pub fn spawn(
    store: Store,
    clock: Clock,
    mailer: Arc<dyn Mailer>,
    poll: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            if let Err(error) = run_once(&store, &clock, mailer.as_ref()).await {
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
    mailer: &dyn Mailer,
) -> Result<usize, StoreError> {
    let mut sent = 0;
    for kind in NoticeKind::ALL {
        let now = clock.now();
        for notice in store.pending_notices(kind, now, now - STALE, 100).await? {
            if !store.claim_notice(&notice, now, now - STALE).await? {
                continue;
            }
            let mut outcome = Ok(());
            for mail in mails(&notice, now) {
                if let Err(error) = mailer.send(mail).await {
                    outcome = Err(error);
                    break;
                }
            }
            match outcome {
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

/// The template of a kind (`mail/templates/<lang>/<kind>.txt`).
pub fn template(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::Requested => "deletion_requested",
        NoticeKind::Cancelled => "deletion_cancelled",
        NoticeKind::CarriedOut => "deletion_carried_out",
        NoticeKind::DueSoon => "deletion_due_soon",
    }
}

/// One mail per address of a notice, in the tenant's language, with the values its
/// template fills in: customer, customerId, due, hours, reason, note, by.
pub fn mails(notice: &PendingNotice, now: chrono::DateTime<chrono::Utc>) -> Vec<Mail> {
    let or_dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let values = vec![
        ("customer", notice.customer_name.clone()),
        ("customerId", notice.customer_id.clone()),
        (
            "due",
            notice.due_at.format("%Y-%m-%d %H:%M UTC").to_string(),
        ),
        (
            "hours",
            (notice.due_at - now).num_hours().max(0).to_string(),
        ),
        ("reason", or_dash(&notice.reason)),
        ("note", or_dash(&notice.note)),
        ("by", or_dash(&notice.closed_by)),
    ];
    notice
        .recipients
        .iter()
        .map(|to| Mail {
            kind: template(notice.kind),
            tenant: notice.tenant_id.clone(),
            to: to.clone(),
            language: notice.language.clone(),
            values: values.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Templates;

    #[test]
    fn every_language_and_kind_has_its_own_template_with_every_value_filled() {
        let now = chrono::Utc::now();
        let templates = Templates::new(None);
        for language in clientele_domain::tenant::NOTICE_LANGUAGES {
            for kind in NoticeKind::ALL {
                assert!(
                    crate::mail::templates::built_in(template(kind), language).is_some(),
                    "{kind:?} {language}"
                );
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
                    recipients: vec!["ops@reseller.example".into(), "b@reseller.example".into()],
                    language: language.into(),
                };
                let mails = mails(&notice, now);
                assert_eq!(mails.len(), 2);
                let rendered = templates.render(&mails[0]).unwrap();
                assert!(rendered.subject.contains("acme"), "{language} {kind:?}");
                assert!(rendered.text.contains("c-id"), "{}", rendered.text);
                if language != "en" {
                    let english = Mail {
                        language: "en".into(),
                        ..mails[0].clone()
                    };
                    let english = templates.render(&english).unwrap();
                    assert_ne!(english.subject, rendered.subject, "{language} {kind:?}");
                }
            }
        }
    }
}
