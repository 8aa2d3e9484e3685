//! Sessions that ended, in memory: the revocation set every check reads.
//!
//! Which events end which sessions is the domain's rule (`clientele_domain::session`).
//! Each instance holds the result here: the ids of ended sessions (until their tokens
//! expire), and per (tenant, subject) the instant before which its tokens are refused. It
//! is loaded at start from the `sessions` read model, then fed by this instance's commits
//! at once (the command runner records them after its commit) and by the live feed for
//! every instance's commits (`feed`). A check is a hash lookup under a read lock.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use clientele_domain::session::{
    ended_by_customer_event, ended_by_tenant_event, SessionEnd, SESSION_ENDING_TYPES,
};
use tokio::sync::watch;

use crate::db::{Arg, Db};
use crate::events::{Envelope, LogEvent, StoredEvent};
use crate::{Store, StoreError};

/// The sessions this instance knows to have ended. Cheap to clone (shared).
#[derive(Clone)]
pub struct Sessions {
    inner: Arc<Inner>,
}

struct Inner {
    state: RwLock<State>,
    /// Counts the ends recorded; raised so open connections check their session again.
    changed: watch::Sender<u64>,
}

#[derive(Default)]
struct State {
    /// (tenant, session id) → when its tokens expire.
    ended: HashMap<(String, String), DateTime<Utc>>,
    /// (tenant, subject) → tokens issued before this instant are refused.
    not_before: HashMap<(String, String), DateTime<Utc>>,
}

/// A signed-in principal as the check sees it.
#[derive(Debug, Clone, Copy)]
pub struct SessionOf<'a> {
    pub tenant: &'a str,
    /// The token's `sid`, if it has one.
    pub session: Option<&'a str>,
    /// The token's subject, and under impersonation the real actor's too.
    pub subjects: &'a [&'a str],
    /// The token's `iat`.
    pub issued_at: DateTime<Utc>,
}

impl Default for Sessions {
    fn default() -> Self {
        Sessions {
            inner: Arc::new(Inner {
                state: RwLock::new(State::default()),
                changed: watch::channel(0).0,
            }),
        }
    }
}

impl Sessions {
    /// True when the session was ended: by its id, or because one of its subjects had its
    /// sessions ended after the token was issued. `iat` is in whole seconds, so a token
    /// issued in the same second as the end is refused too.
    pub fn has_ended(&self, of: SessionOf<'_>) -> bool {
        let state = self.inner.state.read().expect("not poisoned");
        let tenant = of.tenant.to_string();
        if let Some(session) = of.session {
            if state
                .ended
                .contains_key(&(tenant.clone(), session.to_string()))
            {
                return true;
            }
        }
        if state.not_before.is_empty() {
            return false;
        }
        of.subjects.iter().any(|subject| {
            state
                .not_before
                .get(&(tenant.clone(), subject.to_string()))
                .is_some_and(|not_before| of.issued_at < *not_before)
        })
    }

    /// The instant before which the subject's tokens are refused, if its sessions were
    /// ever ended by subject.
    pub fn not_before(&self, tenant: &str, subject: &str) -> Option<DateTime<Utc>> {
        let state = self.inner.state.read().expect("not poisoned");
        state
            .not_before
            .get(&(tenant.to_string(), subject.to_string()))
            .copied()
    }

    /// Changes whenever an end is recorded: a connection then checks its session again.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    /// Records what a typed event ends (nothing for most events).
    pub(crate) fn record(&self, e: &Envelope) {
        let ends = ended_by(e);
        if ends.is_empty() {
            return;
        }
        let tenant = e.tenant().to_string();
        let at = e.occurred_at();
        {
            let mut state = self.inner.state.write().expect("not poisoned");
            // Ends of sessions whose tokens have expired are no longer needed.
            state.ended.retain(|_, expires_at| *expires_at > at);
            for end in ends {
                match end {
                    SessionEnd::Session {
                        session,
                        expires_at,
                    } => {
                        state.ended.insert((tenant.clone(), session), expires_at);
                    }
                    SessionEnd::Subject(subject) => {
                        let entry = state
                            .not_before
                            .entry((tenant.clone(), subject))
                            .or_insert(at);
                        *entry = (*entry).max(at);
                    }
                }
            }
        }
        self.inner.changed.send_modify(|n| *n += 1);
    }

    /// Records what stored events end, decoding only those of a type that may end a
    /// session (the live feed reads every event; few of them matter here).
    pub(crate) fn record_stored(&self, store: &Store, events: &[StoredEvent]) {
        for event in events {
            if !SESSION_ENDING_TYPES.contains(&event.event_type.as_str()) {
                continue;
            }
            match store.decode(event) {
                Ok(envelope) => self.record(&envelope),
                Err(error) => tracing::error!(
                    %error,
                    aggregate = %event.aggregate_id,
                    sequence = event.sequence,
                    "an event that may end sessions does not decode; it is skipped"
                ),
            }
        }
    }

    /// Loads the ends not yet expired at `now` from the read model.
    pub async fn load(&self, db: &Db, now: DateTime<Utc>) -> Result<(), StoreError> {
        #[derive(sqlx::FromRow)]
        struct Ended {
            tenant_id: String,
            session_id: String,
            expires_at: i64,
        }
        #[derive(sqlx::FromRow)]
        struct NotBefore {
            tenant_id: String,
            subject: String,
            not_before: i64,
        }
        let ended: Vec<Ended> = db
            .fetch_all(
                "SELECT tenant_id, session_id, expires_at FROM ended_sessions WHERE expires_at > $1",
                &[Arg::Int(now.timestamp_micros())],
            )
            .await?;
        let not_before: Vec<NotBefore> = db
            .fetch_all(
                "SELECT tenant_id, subject, not_before FROM session_not_before",
                &[],
            )
            .await?;
        let instant = |micros| DateTime::from_timestamp_micros(micros).unwrap_or_default();
        {
            let mut state = self.inner.state.write().expect("not poisoned");
            for e in ended {
                let key = (e.tenant_id, e.session_id);
                state.ended.insert(key, instant(e.expires_at));
            }
            for n in not_before {
                let at = instant(n.not_before);
                let entry = state
                    .not_before
                    .entry((n.tenant_id, n.subject))
                    .or_insert(at);
                *entry = (*entry).max(at);
            }
        }
        self.inner.changed.send_modify(|n| *n += 1);
        Ok(())
    }
}

/// What an event ends, by the domain's rule.
pub(crate) fn ended_by(e: &Envelope) -> Vec<SessionEnd> {
    match &e.event {
        LogEvent::Customer(event) => ended_by_customer_event(&e.aggregate_id, event),
        LogEvent::Tenant(event) => ended_by_tenant_event(event),
        LogEvent::Entity(_) | LogEvent::Dashboard(_) => Vec::new(),
    }
}
