//! Acting as a customer's admin ("log in as a customer") and stopping. The events record who
//! did it and why; the token that carries the impersonation is minted by the API.

use chrono::{DateTime, Utc};

use super::event::{CustomerEvent, ImpersonationEnded, ImpersonationStarted};
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

    /// Records that `by` stops acting as this customer.
    pub(super) fn decide_end_impersonation(
        &self,
        by: String,
    ) -> Result<Vec<CustomerEvent>, CustomerError> {
        self.require_created()?;
        Ok(vec![CustomerEvent::ImpersonationEnded(
            ImpersonationEnded { by },
        )])
    }
}
