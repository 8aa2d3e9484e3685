//! The `customer_users` read model (projection `customer_users`): every user of every
//! customer, kept in the command's transaction and idempotent by the customer's version.

use clientele_domain::customer::{CustomerEvent, UserField};

use crate::db::{enum_text, Arg, Tx};
use crate::events::{Envelope, LogEvent};
use crate::StoreError;

pub(crate) async fn apply(tx: &mut Tx, e: &Envelope) -> Result<(), StoreError> {
    let event = match &e.event {
        LogEvent::Customer(event) => event,
        LogEvent::Tenant(_) | LogEvent::Entity(_) | LogEvent::Dashboard(_) => return Ok(()),
    };
    match event {
        CustomerEvent::CustomerUserAdded(added) => {
            let at = e.occurred_at().timestamp_micros();
            let u = &added.user;
            tx.execute(
                "INSERT INTO customer_users (tenant_id, user_id, customer_id, email, given_name, family_name, language, \
                 user_type, activated, disabled, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $10, $11) ON CONFLICT (tenant_id, user_id) DO NOTHING",
                &[
                    Arg::from(e.tenant()),
                    Arg::Text(added.user_id.clone()),
                    Arg::from(e.aggregate_id.as_str()),
                    Arg::Text(u.email.clone()),
                    Arg::OptText(u.given_name.clone()),
                    Arg::OptText(u.family_name.clone()),
                    Arg::Text(u.language.clone()),
                    Arg::Text(enum_text(&u.user_type)),
                    Arg::Bool(false),
                    Arg::Int(at),
                    Arg::Int(e.sequence),
                ],
            )
            .await?;
            Ok(())
        }
        CustomerEvent::CustomerUserEdited(edited) => {
            let c = &edited.changes;
            let sets = "email = coalesce($5, email), \
                given_name = CASE WHEN $10 THEN NULL ELSE coalesce($6, given_name) END, \
                family_name = CASE WHEN $11 THEN NULL ELSE coalesce($7, family_name) END, \
                language = coalesce($8, language), user_type = coalesce($9, user_type)";
            let values = vec![
                Arg::OptText(c.email.clone()),
                Arg::OptText(c.given_name.clone()),
                Arg::OptText(c.family_name.clone()),
                Arg::OptText(c.language.clone()),
                Arg::OptText(c.user_type.as_ref().map(enum_text)),
                Arg::Bool(c.cleared.contains(&UserField::GivenName)),
                Arg::Bool(c.cleared.contains(&UserField::FamilyName)),
            ];
            update(tx, e, &edited.user_id, sets, values).await
        }
        CustomerEvent::CustomerUserDisabled(user) => {
            update(tx, e, &user.user_id, "disabled = $5", vec![Arg::Bool(true)]).await
        }
        CustomerEvent::CustomerUserEnabled(user) => {
            update(
                tx,
                e,
                &user.user_id,
                "disabled = $5",
                vec![Arg::Bool(false)],
            )
            .await
        }
        CustomerEvent::CustomerUserActivated(user) => {
            let sets = "activated = $5, activation_token_hash = NULL, activation_expires_at = NULL";
            update(tx, e, &user.user_id, sets, vec![Arg::Bool(true)]).await
        }
        CustomerEvent::ActivationIssued(issued) => {
            let sets = "activation_token_hash = $5, activation_expires_at = $6";
            let values = vec![
                Arg::Text(issued.token_hash.clone()),
                Arg::Int(issued.expires_at.timestamp_micros()),
            ];
            update(tx, e, &issued.user_id, sets, values).await
        }
        CustomerEvent::PasswordSet(set) => {
            let sets =
                "password_hash = $5, activation_token_hash = NULL, activation_expires_at = NULL";
            let values = vec![Arg::Text(set.credential.password_hash.clone())];
            update(tx, e, &set.user_id, sets, values).await
        }
        CustomerEvent::PasswordResetIssued(issued) => {
            let sets = "activation_token_hash = $5, activation_expires_at = $6";
            let values = vec![
                Arg::Text(issued.token_hash.clone()),
                Arg::Int(issued.expires_at.timestamp_micros()),
            ];
            update(tx, e, &issued.user_id, sets, values).await
        }
        CustomerEvent::CustomerUserRemoved(user) => {
            tx.execute(
                "DELETE FROM customer_users WHERE tenant_id = $1 AND user_id = $2",
                &[e.tenant().into(), user.user_id.as_str().into()],
            )
            .await?;
            Ok(())
        }
        CustomerEvent::CustomerCreated(_)
        | CustomerEvent::CustomerEdited(_)
        | CustomerEvent::ProductVisibilitySet(_)
        | CustomerEvent::ProductVisibilityReset(_)
        | CustomerEvent::ProductActivated(_)
        | CustomerEvent::ProductStatusChanged(_)
        | CustomerEvent::AccountStatusChanged(_)
        | CustomerEvent::DeletionRequested(_)
        | CustomerEvent::DeletionCancelled(_)
        | CustomerEvent::CustomerDeleted(_)
        | CustomerEvent::ImpersonationStarted(_)
        | CustomerEvent::ImpersonationEnded(_)
        | CustomerEvent::SessionEnded(_)
        | CustomerEvent::SignInLockedOut(_)
        | CustomerEvent::CustomerMoved(_)
        | CustomerEvent::HomeDashboardSet(_)
        | CustomerEvent::AssignmentsReleased(_) => Ok(()),
    }
}

/// Sets `sets` (SQL with `$5…`) on a user's row, if the row is older than the event.
async fn update(
    tx: &mut Tx,
    e: &Envelope,
    user_id: &str,
    sets: &str,
    mut values: Vec<Arg>,
) -> Result<(), StoreError> {
    let mut args = vec![
        Arg::from(e.tenant()),
        Arg::from(user_id),
        Arg::Int(e.sequence),
        Arg::Int(e.occurred_at().timestamp_micros()),
    ];
    args.append(&mut values);
    let sql = format!(
        "UPDATE customer_users SET version = $3, updated_at = $4, {sets} \
         WHERE tenant_id = $1 AND user_id = $2 AND version < $3"
    );
    tx.execute(&sql, &args).await?;
    Ok(())
}
