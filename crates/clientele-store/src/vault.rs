//! Crypto-shredding: personal fields in stored customer events are sealed with a key per
//! customer; deleting the customer deletes its key, and the values can never be read again.
//!
//! The events table only ever holds sealed personal values (`{"$sealed": "…"}`). Readers
//! open them with the customer's key; once the key is gone they read `null`, so replays,
//! rebuilds and exports still work and show the customer as erased.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use clientele_domain::customer::{Customer, PERSONAL_FIELDS};
use cqrs_es::Aggregate;
use serde_json::Value;

use crate::db::{Arg, Executor, Tx};
use crate::StoreError;

const SEALED: &str = "$sealed";

/// Keys by aggregate id.
pub(crate) type Keys = HashMap<String, Key>;

/// The object of an event that holds personal fields, if the event has one.
fn personal_object<'a>(
    aggregate_type: &str,
    event_type: &str,
    payload: &'a mut Value,
) -> Option<&'a mut serde_json::Map<String, Value>> {
    if aggregate_type != Customer::TYPE {
        return None;
    }
    let inner = match event_type {
        "CustomerCreated" => "profile",
        "CustomerEdited" | "CustomerUserEdited" => "changes",
        "CustomerUserAdded" => "user",
        "PasswordSet" => "credential",
        _ => return None,
    };
    payload.get_mut(event_type)?.get_mut(inner)?.as_object_mut()
}

/// True when the event carries personal fields (and so needs the customer's key).
pub(crate) fn is_personal(aggregate_type: &str, event_type: &str) -> bool {
    aggregate_type == Customer::TYPE
        && matches!(
            event_type,
            "CustomerCreated"
                | "CustomerEdited"
                | "CustomerUserAdded"
                | "CustomerUserEdited"
                | "PasswordSet"
        )
}

/// Seals every personal value of the payload in place.
pub(crate) fn seal(aggregate_type: &str, event_type: &str, payload: &mut Value, key: &Key) {
    let Some(object) = personal_object(aggregate_type, event_type, payload) else {
        return;
    };
    let cipher = ChaCha20Poly1305::new(key);
    for &field in PERSONAL_FIELDS.iter().chain(&["passwordHash"]) {
        if let Some(Value::String(plain)) = object.get(field) {
            let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
            let sealed = cipher
                .encrypt(&nonce, plain.as_bytes())
                .expect("encryption does not fail");
            let mut bytes = nonce.to_vec();
            bytes.extend(sealed);
            object.insert(
                field.to_string(),
                serde_json::json!({ SEALED: STANDARD.encode(bytes) }),
            );
        }
    }
}

/// Opens every sealed value in place; without the key (the customer is erased) a value
/// reads as null.
pub(crate) fn open(
    aggregate_type: &str,
    aggregate_id: &str,
    event_type: &str,
    payload: &mut Value,
    keys: &Keys,
) {
    let Some(object) = personal_object(aggregate_type, event_type, payload) else {
        return;
    };
    let cipher = keys.get(aggregate_id).map(ChaCha20Poly1305::new);
    for &field in PERSONAL_FIELDS.iter().chain(&["passwordHash"]) {
        let Some(sealed) = object
            .get(field)
            .and_then(|v| v.get(SEALED))
            .and_then(Value::as_str)
        else {
            continue;
        };
        let plain = cipher.as_ref().and_then(|cipher| {
            let bytes = STANDARD.decode(sealed).ok()?;
            if bytes.len() < 12 {
                return None;
            }
            let (nonce, body) = bytes.split_at(12);
            let plain = cipher.decrypt(Nonce::from_slice(nonce), body).ok()?;
            String::from_utf8(plain).ok()
        });
        object.insert(field.to_string(), plain.map_or(Value::Null, Value::String));
    }
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    aggregate_id: String,
    key: String,
}

fn decode_keys(rows: Vec<KeyRow>) -> Keys {
    rows.into_iter()
        .filter_map(|row| {
            let bytes = STANDARD.decode(row.key).ok()?;
            (bytes.len() == 32).then(|| (row.aggregate_id, *Key::from_slice(&bytes)))
        })
        .collect()
}

/// The keys of these aggregates that still exist, read where the caller reads (a pool or
/// its transaction).
pub(crate) async fn keys(on: &mut Executor<'_>, ids: &[String]) -> Result<Keys, StoreError> {
    if ids.is_empty() {
        return Ok(Keys::new());
    }
    let placeholders: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT aggregate_id, key FROM subject_keys WHERE aggregate_id IN ({})",
        placeholders.join(", ")
    );
    let args: Vec<Arg> = ids.iter().map(|id| Arg::from(id.as_str())).collect();
    // Planned for the ids: a plan cached while the table was small would scan it later.
    Ok(decode_keys(on.fetch_all_planned(&sql, &args).await?))
}

/// The aggregate's key, created if it has none yet.
pub(crate) async fn key_for(tx: &mut Tx, aggregate_id: &str) -> Result<Key, StoreError> {
    if let Some(key) = keys(&mut Executor::Tx(tx), &[aggregate_id.to_string()])
        .await?
        .remove(aggregate_id)
    {
        return Ok(key);
    }
    let (key, sql, args) = new_key(aggregate_id);
    tx.execute(sql, &args).await?;
    Ok(key)
}

/// A new key for an aggregate that has none, and the statement that stores it (which
/// fails on the primary key if the aggregate has one after all).
pub(crate) fn new_key(aggregate_id: &str) -> (Key, &'static str, Vec<Arg>) {
    let key = ChaCha20Poly1305::generate_key(&mut OsRng);
    (
        key,
        "INSERT INTO subject_keys (aggregate_id, key) VALUES ($1, $2)",
        vec![aggregate_id.into(), Arg::Text(STANDARD.encode(key))],
    )
}

/// Destroys the aggregate's key: its sealed values become unrecoverable.
pub(crate) async fn shred(tx: &mut Tx, aggregate_id: &str) -> Result<(), StoreError> {
    tx.execute(
        "DELETE FROM subject_keys WHERE aggregate_id = $1",
        &[aggregate_id.into()],
    )
    .await?;
    Ok(())
}

/// Opens the sealed values of events read from the store.
pub(crate) fn open_all(events: &mut [crate::StoredEvent], keys: &Keys) {
    for event in events {
        open(
            &event.aggregate_type,
            &event.aggregate_id,
            &event.event_type,
            &mut event.payload,
            keys,
        );
    }
}

/// The aggregates whose keys a batch of events needs.
pub(crate) fn ids_needing_keys(events: &[crate::StoredEvent]) -> Vec<String> {
    let mut ids: Vec<String> = events
        .iter()
        .filter(|e| is_personal(&e.aggregate_type, &e.event_type))
        .map(|e| e.aggregate_id.clone())
        .collect();
    ids.sort();
    ids.dedup();
    ids
}
