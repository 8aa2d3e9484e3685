//! What one subscription lets through: the tenant and role filter that the store's
//! replay-then-live stream (`clientele_store::feed::EventStream`, which joins the log and
//! the live feed with no gap and no duplicate at the seam) asks of every event.

use std::future::Future;
use std::sync::Arc;

use clientele_store::feed::{EventFilter, Feed, StreamError, Topic};
use clientele_store::{LogPosition, Store, StoreError, StoredEvent};
use futures::{Stream, StreamExt};

use crate::auth::Role;
use crate::context::RequestContext;
use crate::error::{ApiError, ApiResult};
use crate::guard;
use crate::types::page::encode_cursor;

/// What one subscription lets through, decided on each event.
pub(crate) struct Selection {
    pub(crate) me: RequestContext,
    pub(crate) customer: Option<String>,
    pub(crate) types: Option<Vec<String>>,
}

impl Selection {
    /// The narrowest channel that carries every event this selection may accept.
    /// (A customer-bound role without a filter also sees its inner customers, so it takes
    /// the tenant's topic.)
    fn topic(&self) -> Topic {
        match self.customer.as_ref() {
            Some(id) => Topic::Customer(self.me.tenant.clone(), id.clone()),
            None => Topic::Tenant(self.me.tenant.clone()),
        }
    }

    async fn accepts(&self, store: &Store, event: &StoredEvent) -> Result<bool, StoreError> {
        if event.metadata.tenant != self.me.tenant {
            return Ok(false);
        }
        // With a customer, its whole history: its events and the assignment events that
        // name it. Without, the tenant's customer events.
        let subject = match &self.customer {
            Some(id) if event.customers_named().contains(&id.as_str()) => id.as_str(),
            Some(_) => return Ok(false),
            None if event.aggregate_type == "Customer" => event.aggregate_id.as_str(),
            None => return Ok(false),
        };
        if self
            .types
            .as_ref()
            .is_some_and(|types| !types.contains(&event.event_type))
        {
            return Ok(false);
        }
        Ok(match self.me.role {
            Role::TenantAdmin | Role::Reseller | Role::Auditor => true,
            Role::CustomerAdmin | Role::CustomerUser
                if self.me.customer.as_deref() == Some(subject) =>
            {
                true
            }
            // A seller's customers can change hands, and inner customers can move: asked of
            // the read model each time.
            Role::Seller | Role::CustomerAdmin | Role::CustomerUser => store
                .customer(&self.me.tenant, subject)
                .await?
                .is_some_and(|record| guard::can_see(&self.me, &record)),
        })
    }
}

/// A selection with the store it asks about sellers and inner customers.
struct Filter {
    selection: Selection,
    store: Store,
}

impl EventFilter for Filter {
    fn accepts(
        &mut self,
        event: &Arc<StoredEvent>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        self.selection.accepts(&self.store, event)
    }
}

/// The events one subscription receives, in global order, each at most once.
pub(crate) struct EventStream(clientele_store::feed::EventStream<Filter>);

impl EventStream {
    pub(crate) fn new(
        feed: Feed,
        store: Store,
        selection: Selection,
        after: Option<LogPosition>,
    ) -> EventStream {
        let topic = selection.topic();
        let filter = Filter { selection, store };
        EventStream(clientele_store::feed::EventStream::new(
            feed, topic, after, filter,
        ))
    }

    /// The stream, its errors in the API's terms: a subscriber cut off for lagging is told
    /// the cursor to resume from.
    pub(crate) fn into_stream(self) -> impl Stream<Item = ApiResult<Arc<StoredEvent>>> {
        self.0.into_stream().map(|item| {
            item.map_err(|error| match error {
                StreamError::Lagged {
                    last_cursor,
                    missed,
                } => ApiError::Lagged {
                    last_cursor: Some(encode_cursor(last_cursor)),
                    missed,
                },
                StreamError::Store(error) => ApiError::from(error),
            })
        })
    }
}
