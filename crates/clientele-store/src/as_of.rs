//! The customer as it was at one instant: every part of it (profile, products and the
//! catalogue they are listed against, account status and its history, users, the open
//! deletion request, the parent, the inner customers) folded from the events up to that
//! instant, never read from today's read models.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clientele_domain::customer::{Customer, CustomerEvent, CustomerProfile};
use clientele_domain::tenant::Tenant;
use clientele_domain::{derive_account_status, AccountStatus};
use cqrs_es::Aggregate;

use crate::db::Backend;
use crate::events::{aggregate_events, StoredEvent};
use crate::{CatalogueProduct, StatusTransition, Store, StoreError, UserRecord};

const PAGE: i64 = 1000;

/// The deletion request that was open at the instant, as its `DeletionRequested` said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenRequestAsOf {
    pub request_id: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub due_at: DateTime<Utc>,
    pub delete_inner_customers: bool,
}

/// A customer folded from its events up to `at` (inclusive).
#[derive(Debug, Clone)]
pub struct CustomerSnapshot {
    pub tenant: String,
    pub id: String,
    pub at: DateTime<Utc>,
    /// The domain aggregate as its events up to `at` fold to.
    pub customer: Customer,
    /// The profile at `at` (the customer's, which exists by then).
    pub profile: CustomerProfile,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Account-status transitions up to `at`, oldest first (as `account_status_history`).
    pub status_history: Vec<StatusTransition>,
    /// The users at `at`, by email, with the times of their first and last event.
    pub users: Vec<UserRecord>,
    /// The tenant's catalogue at `at`, by key.
    pub catalogue: Vec<CatalogueProduct>,
    pub open_request: Option<OpenRequestAsOf>,
}

impl CustomerSnapshot {
    pub fn account_status(&self) -> AccountStatus {
        self.customer.account_status()
    }
}

impl Store {
    /// The customer as it was at `at`, folded from its events up to that instant. `None`
    /// when it did not exist yet (or not in this tenant).
    pub async fn customer_snapshot(
        &self,
        tenant: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<Option<CustomerSnapshot>, StoreError> {
        let events = self.events_until(Customer::TYPE, id, at).await?;
        if events.iter().any(|e| e.metadata.tenant != tenant) {
            return Ok(None);
        }
        let (Some(first), Some(last)) = (events.first(), events.last()) else {
            return Ok(None);
        };
        let (created_at, updated_at, version) = (
            first.metadata.occurred_at,
            last.metadata.occurred_at,
            last.sequence,
        );
        let mut customer = Customer::default();
        let mut status_history = Vec::new();
        let mut user_times: BTreeMap<String, (DateTime<Utc>, DateTime<Utc>)> = BTreeMap::new();
        let mut open_request = None;
        for stored in &events {
            let event = stored.decode::<Customer>(self.upcasters())?;
            let when = stored.metadata.occurred_at;
            match &event {
                CustomerEvent::CustomerCreated(_) => status_history.push(StatusTransition {
                    from: None,
                    to: derive_account_status(false, []),
                    version: stored.sequence,
                    cause: stored.event_type.clone(),
                    cause_version: stored.sequence,
                    at: when,
                }),
                CustomerEvent::AccountStatusChanged(changed) => {
                    status_history.push(StatusTransition {
                        from: Some(changed.from),
                        to: changed.to,
                        version: stored.sequence,
                        cause: changed.cause.clone(),
                        cause_version: stored.sequence - 1,
                        at: when,
                    })
                }
                CustomerEvent::DeletionRequested(r) => {
                    open_request = Some(OpenRequestAsOf {
                        request_id: r.request_id.clone(),
                        requested_by: r.requested_by.clone(),
                        requested_at: when,
                        reason: r.reason.clone(),
                        due_at: r.due_at,
                        delete_inner_customers: r.delete_inner_customers,
                    })
                }
                _ => {}
            }
            let users_before = customer.users.clone();
            customer.apply(event);
            for (user_id, user) in &customer.users {
                if users_before.get(user_id) != Some(user) {
                    user_times
                        .entry(user_id.clone())
                        .and_modify(|t| t.1 = when)
                        .or_insert((when, when));
                }
            }
            if customer.open_request.is_none() {
                open_request = None;
            }
        }
        let Some(profile) = customer.profile.clone() else {
            return Ok(None);
        };
        let mut users: Vec<UserRecord> = customer
            .users
            .iter()
            .map(|(user_id, u)| {
                let (created, updated) = user_times[user_id];
                UserRecord {
                    tenant: tenant.to_string(),
                    customer_id: id.to_string(),
                    user_id: user_id.clone(),
                    email: u.profile.email.clone(),
                    given_name: u.profile.given_name.clone(),
                    family_name: u.profile.family_name.clone(),
                    language: u.profile.language.clone(),
                    user_type: u.profile.user_type,
                    status: u.status(),
                    activation_expires_at: u.activation.as_ref().map(|a| a.expires_at),
                    created_at: created,
                    updated_at: updated,
                }
            })
            .collect();
        users.sort_by(|a, b| a.email.cmp(&b.email).then(a.user_id.cmp(&b.user_id)));
        let catalogue = self.catalogue_as_of(tenant, at).await?;
        Ok(Some(CustomerSnapshot {
            tenant: tenant.to_string(),
            id: id.to_string(),
            at,
            customer,
            profile,
            version,
            created_at,
            updated_at,
            status_history,
            users,
            catalogue,
            open_request,
        }))
    }

    /// The live inner customers (one level down) of `parent` at `at`, by name: every
    /// customer ever moved under it, folded to `at`, whose parent was `parent` then.
    pub async fn children_as_of(
        &self,
        tenant: &str,
        parent: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<CustomerSnapshot>, StoreError> {
        let sql = match self.db().backend() {
            Backend::Postgres => {
                "SELECT DISTINCT aggregate_id FROM events WHERE tenant_id = $1 AND aggregate_type = $2 \
                 AND event_type = 'CustomerMoved' AND payload->'CustomerMoved'->>'to' = $3"
            }
            Backend::Sqlite => {
                "SELECT DISTINCT aggregate_id FROM events WHERE tenant_id = $1 AND aggregate_type = $2 \
                 AND event_type = 'CustomerMoved' AND json_extract(payload, '$.CustomerMoved.to') = $3"
            }
        };
        let ids: Vec<(String,)> = self
            .db()
            .fetch_all(sql, &[tenant.into(), Customer::TYPE.into(), parent.into()])
            .await?;
        let mut out = Vec::new();
        for (id,) in ids {
            if let Some(child) = self.customer_snapshot(tenant, &id, at).await? {
                if child.customer.parent.as_deref() == Some(parent) && !child.customer.deleted {
                    out.push(child);
                }
            }
        }
        out.sort_by(|a, b| a.name().cmp(b.name()).then(a.id.cmp(&b.id)));
        Ok(out)
    }

    /// The tenant's product catalogue at `at`, by key.
    async fn catalogue_as_of(
        &self,
        tenant: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<CatalogueProduct>, StoreError> {
        let mut settings = Tenant::default();
        for stored in self.events_until(Tenant::TYPE, tenant, at).await? {
            settings.apply(stored.decode::<Tenant>(self.upcasters())?);
        }
        Ok(settings
            .products
            .into_iter()
            .map(|(key, p)| CatalogueProduct {
                key,
                name: p.name,
                visible: p.visible,
            })
            .collect())
    }

    /// One aggregate's events up to `at` (inclusive), in order.
    async fn events_until(
        &self,
        aggregate_type: &str,
        id: &str,
        at: DateTime<Utc>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mut out = Vec::new();
        let mut after = 0;
        loop {
            let events = aggregate_events(self.db(), aggregate_type, id, after, PAGE).await?;
            let Some(last) = events.last() else { break };
            after = last.sequence;
            let full = events.len() as i64 == PAGE;
            for event in events {
                if event.metadata.occurred_at > at {
                    return Ok(out);
                }
                out.push(event);
            }
            if !full {
                break;
            }
        }
        Ok(out)
    }
}

impl CustomerSnapshot {
    fn name(&self) -> &str {
        &self.profile.name
    }
}
