//! The `sessions` read model (tables `ended_sessions` and `session_not_before`): what
//! `clientele_domain::session` says the log ended, kept in the command's transaction.
//! Every instance loads it at start (`crate::sessions`); both writes are idempotent.

use clientele_domain::session::SessionEnd;

use crate::db::{Arg, Tx};
use crate::events::Envelope;
use crate::sessions::ended_by;
use crate::StoreError;

pub(crate) async fn apply(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    let tenant = e.tenant();
    for end in ended_by(e) {
        match end {
            SessionEnd::Session {
                session,
                expires_at,
            } => {
                tx.execute(
                    "INSERT INTO ended_sessions (tenant_id, session_id, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, session_id) DO NOTHING",
                    &[
                        tenant.into(),
                        Arg::Text(session),
                        Arg::Int(expires_at.timestamp_micros()),
                    ],
                )
                .await?;
            }
            SessionEnd::Subject(subject) => {
                tx.execute(
                    "INSERT INTO session_not_before (tenant_id, subject, not_before) VALUES ($1, $2, $3) \
                     ON CONFLICT (tenant_id, subject) DO UPDATE SET not_before = excluded.not_before \
                     WHERE session_not_before.not_before < excluded.not_before",
                    &[
                        tenant.into(),
                        Arg::Text(subject),
                        Arg::Int(e.occurred_at().timestamp_micros()),
                    ],
                )
                .await?;
            }
        }
    }
    Ok(())
}
