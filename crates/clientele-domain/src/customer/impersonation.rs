//! Acting as a customer's admin ("log in as a customer") and stopping. The events record who
//! did it and why; the token that carries the impersonation is minted by the API.

use chrono::{DateTime, Utc};

use super::event::{CustomerEvent, ImpersonationEnded, ImpersonationStarted, SessionEnded};
use super::{Customer, CustomerError};

impl Customer {
    /// Records that `by` starts acting as this customer's admin until `expires_at`.
    pub(super) fn decide_start_impersonation(
        &self,
        by: String,
        role: String,
        reason: String,
        expires_at: DateTime<Utc>,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        Ok(vec![CustomerEvent::ImpersonationStarted(
            ImpersonationStarted {
                by,
                role,
                reason,
                expires_at,
            },
        )])
    }

    /// Records that `by` stops acting as this customer and ends the impersonation's
    /// session for good. A session ended before cannot end again: the second
    /// `endImpersonation` is refused and writes nothing.
    pub(super) fn decide_end_impersonation(
        &self,
        by: String,
        session: Option<String>,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        let ended = CustomerEvent::ImpersonationEnded(ImpersonationEnded { by });
        let Some(session) = session else {
            // A token minted before sessions existed: nothing to end but the record.
            return Ok(vec![ended]);
        };
        if self.ended_sessions.contains_key(&session) {
            return Err(CustomerError::SessionAlreadyEnded);
        }
        let session_ended = CustomerEvent::SessionEnded(SessionEnded {
            session,
            expires_at,
            ended_at: now,
        });
        Ok(vec![ended, session_ended])
    }
}
