//! The `customer_users` read model: every user of every customer, kept in the command's
//! transaction and idempotent by the customer's version.

use clientele_domain::customer::{
    ActivationIssued, CustomerUserAdded, CustomerUserEdited, UserField, UserRef,
};
use serde::de::DeserializeOwned;

use crate::db::{Arg, Tx};
use crate::events::StoredEvent;
use crate::StoreError;

fn body<T: DeserializeOwned>(event: &StoredEvent) -> Result<T, StoreError> {
    serde_json::from_value(event.body().clone()).map_err(|e| {
        StoreError::Corrupt(format!(
            "{} #{} of {} does not decode: {e}",
            event.event_type, event.sequence, event.aggregate_id
        ))
    })
}

/// The text of an enum that serialises as a string.
pub(crate) fn enum_text<T: serde::Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => unreachable!("these enums serialise as strings"),
    }
}

/// Sets `sets` (SQL with `$5…`) on a user's row, if the row is older than the event.
async fn update(
    tx: &mut Tx,
    event: &StoredEvent,
    user_id: &str,
    sets: &str,
    mut values: Vec<Arg>,
) -> Result<(), StoreError> {
    let mut args = vec![
        Arg::from(event.metadata.tenant.as_str()),
        Arg::from(user_id),
        Arg::Int(event.sequence),
        Arg::Int(event.metadata.occurred_at.timestamp_micros()),
    ];
    args.append(&mut values);
    let comma = if sets.is_empty() { "" } else { ", " };
    let sql = format!(
        "UPDATE customer_users SET version = $3, updated_at = $4{comma}{sets} \
         WHERE tenant_id = $1 AND user_id = $2 AND version < $3"
    );
    tx.execute(&sql, &args).await?;
    Ok(())
}

pub(crate) async fn apply(tx: &mut Tx, event: &StoredEvent) -> Result<(), StoreError> {
    if event.aggregate_type != "Customer" {
        return Ok(());
    }
    match event.event_type.as_str() {
        "CustomerUserAdded" => {
            let added: CustomerUserAdded = body(event)?;
            let at = event.metadata.occurred_at.timestamp_micros();
            let u = added.user;
            tx.execute(
                "INSERT INTO customer_users (tenant_id, user_id, customer_id, email, given_name, family_name, language, \
                 user_type, activated, disabled, created_at, updated_at, version) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $10, $11) ON CONFLICT (tenant_id, user_id) DO NOTHING",
                &[
                    Arg::from(event.metadata.tenant.as_str()),
                    Arg::Text(added.user_id),
                    Arg::from(event.aggregate_id.as_str()),
                    Arg::Text(u.email),
                    Arg::OptText(u.given_name),
                    Arg::OptText(u.family_name),
                    Arg::Text(u.language),
                    Arg::Text(enum_text(&u.user_type)),
                    Arg::Bool(false),
                    Arg::Int(at),
                    Arg::Int(event.sequence),
                ],
            )
            .await?;
            Ok(())
        }
        "CustomerUserEdited" => {
            let edited: CustomerUserEdited = body(event)?;
            let c = edited.changes;
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
            update(tx, event, &edited.user_id, sets, values).await
        }
        "CustomerUserDisabled" | "CustomerUserEnabled" => {
            let user: UserRef = body(event)?;
            let disabled = event.event_type == "CustomerUserDisabled";
            update(
                tx,
                event,
                &user.user_id,
                "disabled = $5",
                vec![Arg::Bool(disabled)],
            )
            .await
        }
        "CustomerUserActivated" => {
            let user: UserRef = body(event)?;
            update(
                tx,
                event,
                &user.user_id,
                "activated = $5, activation_token_hash = NULL, activation_expires_at = NULL",
                vec![Arg::Bool(true)],
            )
            .await
        }
        "ActivationIssued" => {
            let issued: ActivationIssued = body(event)?;
            update(
                tx,
                event,
                &issued.user_id,
                "activation_token_hash = $5, activation_expires_at = $6",
                vec![
                    Arg::Text(issued.token_hash),
                    Arg::Int(issued.expires_at.timestamp_micros()),
                ],
            )
            .await
        }
        "CustomerUserRemoved" => {
            let user: UserRef = body(event)?;
            tx.execute(
                "DELETE FROM customer_users WHERE tenant_id = $1 AND user_id = $2",
                &[event.metadata.tenant.as_str().into(), user.user_id.into()],
            )
            .await?;
            Ok(())
        }
        _ => Ok(()),
    }
}
