//! For auditors: a customer's history, the customer as it was at a past instant, and whole
//! histories as NDJSON.

use serde_json::json;

use crate::events::{customer_log_events, tenant_log, LogPosition, StoredEvent};
use crate::{Store, StoreError};

const PAGE: i64 = 1000;

impl Store {
    /// A customer's history in global order after position `after`, at most `limit`: its
    /// own events and the assignment events that name it.
    pub async fn customer_history(
        &self,
        tenant: &str,
        id: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let events = customer_log_events(self.db(), tenant, id, after, limit).await?;
        Ok(events
            .into_iter()
            .filter(|e| e.metadata.tenant == tenant)
            .collect())
    }

    /// Every event of one customer, or of the whole tenant, as NDJSON lines in order.
    /// Personal values of deleted customers read as null.
    pub async fn export_history(
        &self,
        tenant: &str,
        customer: Option<&str>,
        mut out: impl FnMut(String),
    ) -> Result<u64, StoreError> {
        let mut count = 0;
        match customer {
            Some(id) => {
                let mut after = 0;
                loop {
                    let events = customer_log_events(self.db(), tenant, id, after, PAGE).await?;
                    let Some(last) = events.last() else { break };
                    after = last.log_position.position;
                    for event in events.iter().filter(|e| e.metadata.tenant == tenant) {
                        out(line(event));
                        count += 1;
                    }
                }
            }
            None => {
                let mut after = LogPosition::default();
                loop {
                    let events = tenant_log(self.db(), tenant, after, PAGE).await?;
                    let Some(last) = events.last() else { break };
                    after = last.log_position;
                    for event in &events {
                        out(line(event));
                        count += 1;
                    }
                }
            }
        }
        Ok(count)
    }
}

/// One NDJSON line: the event as stored, with its metadata and global position.
fn line(event: &StoredEvent) -> String {
    json!({
        "aggregateType": event.aggregate_type,
        "aggregateId": event.aggregate_id,
        "sequence": event.sequence,
        "type": event.event_type,
        "eventVersion": event.event_version,
        "payload": event.shown_payload(),
        "metadata": event.metadata,
        "position": event.log_position,
    })
    .to_string()
}
