//! What every request carries into the resolvers: the signed-in principal.

use chrono::{DateTime, Utc};
use clientele_store::{EventMetadata, SessionOf, Sessions};

use crate::auth::{Claims, Impersonator, Role};

/// Who is asking, for which tenant, in which request (from a verified token).
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub tenant: String,
    pub subject: String,
    pub role: Role,
    /// The customer a customer-bound role (or an impersonation) is bound to.
    pub customer: Option<String>,
    /// Set when a TENANT_ADMIN, RESELLER or SELLER acts as a customer (`loginAs`).
    pub impersonator: Option<Impersonator>,
    pub request_id: String,
    /// When the token expires.
    pub expires_at: DateTime<Utc>,
    /// When the token was issued (`iat`, whole seconds).
    pub issued_at: DateTime<Utc>,
    /// The session the token belongs to (`sid`), if it names one.
    pub session: Option<String>,
}

impl RequestContext {
    pub fn from_claims(claims: Claims, request_id: impl Into<String>) -> Self {
        RequestContext {
            tenant: claims.tenant,
            subject: claims.sub,
            role: claims.role,
            customer: claims.customer,
            impersonator: claims.imp,
            request_id: request_id.into(),
            expires_at: DateTime::from_timestamp(claims.exp, 0).unwrap_or_default(),
            issued_at: DateTime::from_timestamp(claims.iat, 0).unwrap_or_default(),
            session: claims.sid,
        }
    }

    /// True when this principal's session ended (it was taken back): by its id, or
    /// because its subject, or under impersonation the real actor, had its sessions ended
    /// after the token was issued. An in-memory lookup.
    pub fn session_ended(&self, sessions: &Sessions) -> bool {
        let actor = self.impersonator.as_ref().map(|imp| imp.sub.as_str());
        let subjects: Vec<&str> = std::iter::once(self.subject.as_str())
            .chain(actor)
            .collect();
        sessions.has_ended(SessionOf {
            tenant: &self.tenant,
            session: self.session.as_deref(),
            subjects: &subjects,
            issued_at: self.issued_at,
        })
    }

    /// The acting subject as events record it: the real person, even when impersonating.
    pub fn actor(&self) -> String {
        match &self.impersonator {
            Some(imp) => imp.sub.clone(),
            None => self.subject.clone(),
        }
    }

    /// The metadata of events written for this request.
    pub fn metadata(&self, now: DateTime<Utc>) -> EventMetadata {
        let role = self.impersonator.as_ref().map_or(self.role, |imp| imp.role);
        EventMetadata {
            tenant: self.tenant.clone(),
            actor: self.actor(),
            role: Some(role.as_str().to_string()),
            on_behalf_of: self.impersonator.as_ref().and(self.customer.clone()),
            request_id: self.request_id.clone(),
            occurred_at: now,
        }
    }
}

/// The service's clock; tests inject their own to move time.
#[derive(Clone)]
pub struct Clock(std::sync::Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>);

impl Clock {
    pub fn system() -> Self {
        Clock(std::sync::Arc::new(Utc::now))
    }

    pub fn new(now: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        Clock(std::sync::Arc::new(now))
    }

    /// The time, to the microsecond (what the store keeps), so a time read back compares
    /// equal to the one written.
    pub fn now(&self) -> DateTime<Utc> {
        let now = (self.0)();
        DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
    }
}
