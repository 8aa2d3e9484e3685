//! The derived account status in the read models: the `account_status` column of
//! `customers` (written with the row by the `customers` projection, its values decided
//! here), each customer's transitions (`account_status_history`, part of the `products`
//! projection) and the customers per status (`customer_counts`, a projection of its own).
//!
//! `customer_counts` is followed asynchronously from the global log. It is not idempotent
//! by itself: exactly-once comes from the checkpoint, which moves in the same transaction
//! as the counts. The history is applied inline and is idempotent by version.

use clientele_domain::customer::{AccountStatusChanged, CustomerEvent};
use clientele_domain::{derive_account_status, AccountStatus};

use crate::db::{Arg, Tx};
use crate::events::{Envelope, LogEvent};
use crate::StoreError;

/// The status of a customer just created: derived from no products, not deleted.
pub(super) fn initial_status() -> AccountStatus {
    derive_account_status(false, [])
}

/// The status a customer's row shows after an account-status change.
pub(super) fn row_status(changed: &AccountStatusChanged) -> AccountStatus {
    changed.to
}

/// What a customer event means for the account status.
enum StatusEvent<'a> {
    /// The customer came to be, in its initial status.
    Started,
    Changed(&'a AccountStatusChanged),
    Unchanged,
}

fn status_event(e: &Envelope) -> StatusEvent<'_> {
    let event = match &e.event {
        LogEvent::Customer(event) => event,
        LogEvent::Tenant(_) | LogEvent::Entity(_) | LogEvent::Dashboard(_) => {
            return StatusEvent::Unchanged
        }
    };
    match event {
        CustomerEvent::CustomerCreated(_) => StatusEvent::Started,
        CustomerEvent::AccountStatusChanged(changed) => StatusEvent::Changed(changed),
        CustomerEvent::CustomerEdited(_)
        | CustomerEvent::ProductVisibilitySet(_)
        | CustomerEvent::ProductVisibilityReset(_)
        | CustomerEvent::ProductActivated(_)
        | CustomerEvent::ProductStatusChanged(_)
        | CustomerEvent::DeletionRequested(_)
        | CustomerEvent::DeletionCancelled(_)
        | CustomerEvent::CustomerDeleted(_)
        | CustomerEvent::ImpersonationStarted(_)
        | CustomerEvent::ImpersonationEnded(_)
        | CustomerEvent::SessionEnded(_)
        | CustomerEvent::SignInLockedOut(_)
        | CustomerEvent::PasswordSet(_)
        | CustomerEvent::PasswordResetIssued(_)
        | CustomerEvent::CustomerUserAdded(_)
        | CustomerEvent::CustomerUserEdited(_)
        | CustomerEvent::CustomerUserDisabled(_)
        | CustomerEvent::CustomerUserEnabled(_)
        | CustomerEvent::CustomerUserRemoved(_)
        | CustomerEvent::ActivationIssued(_)
        | CustomerEvent::CustomerUserActivated(_)
        | CustomerEvent::CustomerMoved(_)
        | CustomerEvent::HomeDashboardSet(_)
        | CustomerEvent::AssignmentsReleased(_) => StatusEvent::Unchanged,
    }
}

/// The `customer_counts` projection.
pub(crate) async fn apply_counts(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    match status_event(e) {
        StatusEvent::Started => add(tx, e.tenant(), initial_status().as_str(), 1).await,
        StatusEvent::Changed(changed) => {
            add(tx, e.tenant(), changed.from.as_str(), -1).await?;
            add(tx, e.tenant(), changed.to.as_str(), 1).await
        }
        StatusEvent::Unchanged => Ok(()),
    }
}

async fn add(tx: &mut Tx, tenant: &str, status: &str, delta: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO customer_counts (tenant_id, account_status, customers) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id, account_status) DO UPDATE SET customers = customer_counts.customers + excluded.customers",
        &[Arg::from(tenant), Arg::from(status), Arg::Int(delta)],
    )
    .await?;
    Ok(())
}

/// The counts' batch path (the runner's and `rebuild`'s): the same sums as `apply_counts`
/// event by event, added once per (tenant, status).
pub(crate) async fn apply_counts_batch(tx: &mut Tx, events: &[Envelope]) -> Result<(), StoreError> {
    let mut deltas: std::collections::BTreeMap<(&str, &str), i64> = Default::default();
    for e in events {
        match status_event(e) {
            StatusEvent::Started => {
                *deltas
                    .entry((e.tenant(), initial_status().as_str()))
                    .or_default() += 1
            }
            StatusEvent::Changed(changed) => {
                *deltas
                    .entry((e.tenant(), changed.from.as_str()))
                    .or_default() -= 1;
                *deltas.entry((e.tenant(), changed.to.as_str())).or_default() += 1;
            }
            StatusEvent::Unchanged => {}
        }
    }
    for ((tenant, status), delta) in deltas {
        if delta != 0 {
            add(tx, tenant, status, delta).await?;
        }
    }
    Ok(())
}

/// `account_status_history`: a customer's first status, and every change with its cause.
pub(crate) async fn apply_history(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    apply_history_batch(tx, std::slice::from_ref(e)).await
}

/// `apply_history` for many events: their transitions a few hundred rows a statement.
pub(crate) async fn apply_history_batch(
    tx: &mut Tx,
    events: &[Envelope],
) -> Result<(), StoreError> {
    const ROWS: usize = 500;
    const COLUMNS: usize = 8;
    let rows: Vec<Vec<Arg>> = events.iter().filter_map(transition).collect();
    for chunk in rows.chunks(ROWS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let p: Vec<String> = (1..=COLUMNS)
                    .map(|c| format!("${}", r * COLUMNS + c))
                    .collect();
                format!("({})", p.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO account_status_history (tenant_id, customer_id, version, from_status, to_status, cause, cause_version, occurred_at) \
             VALUES {} ON CONFLICT (tenant_id, customer_id, version) DO NOTHING",
            values.join(", ")
        );
        let args: Vec<Arg> = chunk.iter().flatten().cloned().collect();
        tx.execute(&sql, &args).await?;
    }
    Ok(())
}

/// The history row an event adds, if it starts or changes the status.
fn transition(e: &Envelope) -> Option<Vec<Arg>> {
    let (from, to, cause, cause_version) = match status_event(e) {
        StatusEvent::Started => (None, initial_status(), e.event.event_type(), e.sequence),
        // The cause is the event just before this one.
        StatusEvent::Changed(changed) => (
            Some(changed.from),
            changed.to,
            changed.cause.clone(),
            e.sequence - 1,
        ),
        StatusEvent::Unchanged => return None,
    };
    Some(vec![
        Arg::from(e.tenant()),
        Arg::from(e.aggregate_id.as_str()),
        Arg::Int(e.sequence),
        Arg::OptText(from.map(|s| s.as_str().to_string())),
        Arg::from(to.as_str()),
        Arg::Text(cause),
        Arg::Int(cause_version),
        Arg::Int(e.occurred_at().timestamp_micros()),
    ])
}
