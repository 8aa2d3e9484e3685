//! Events decoded into their aggregates' types, through the upcasters: what projections
//! receive. Each event of the log is decoded once, where it is handed on (the runner and
//! `rebuild` after reading a batch; the inline path already holds the typed events it
//! appends), and every projection matches the typed event exhaustively.

use chrono::{DateTime, Utc};
use clientele_domain::assignment::{
    Asset, DashboardAssignment, DashboardEvent, Device, Edge, Exclusive, Owned, OwnershipEvent,
};
use clientele_domain::customer::{Customer, CustomerEvent};
use clientele_domain::tenant::{Tenant, TenantEvent};
use cqrs_es::persist::EventUpcaster;
use cqrs_es::{Aggregate, DomainEvent};
use serde::Serialize;

use super::{EventMetadata, LogPosition, StoredEvent};
use crate::StoreError;

/// An event of any aggregate the log holds, as its aggregate's own type.
// Customer events are the large ones and the most common: boxing them would cost an
// allocation per event and a dereference in every projection's match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum LogEvent {
    Customer(CustomerEvent),
    Tenant(TenantEvent),
    /// A device's, asset's or edge's (the variant names which).
    Entity(OwnershipEvent),
    Dashboard(DashboardEvent),
}

impl LogEvent {
    /// Decodes a stored event into its aggregate's event type, upcasting older shapes first.
    /// An aggregate type this build does not know is corrupt, like a payload that does not
    /// decode: a projection never skips an event silently.
    pub fn decode(
        stored: &StoredEvent,
        upcasters: &[Box<dyn EventUpcaster>],
    ) -> Result<LogEvent, StoreError> {
        let kind = stored.aggregate_type.as_str();
        Ok(if kind == Customer::TYPE {
            LogEvent::Customer(stored.decode::<Customer>(upcasters)?)
        } else if kind == Tenant::TYPE {
            LogEvent::Tenant(stored.decode::<Tenant>(upcasters)?)
        } else if kind == Device::TYPE {
            LogEvent::Entity(stored.decode::<Owned<Device>>(upcasters)?)
        } else if kind == Asset::TYPE {
            LogEvent::Entity(stored.decode::<Owned<Asset>>(upcasters)?)
        } else if kind == Edge::TYPE {
            LogEvent::Entity(stored.decode::<Owned<Edge>>(upcasters)?)
        } else if kind == DashboardAssignment::TYPE {
            LogEvent::Dashboard(stored.decode::<DashboardAssignment>(upcasters)?)
        } else {
            return Err(StoreError::Corrupt(format!(
                "{kind} {} #{} ({}): no such aggregate type",
                stored.aggregate_id, stored.sequence, stored.event_type
            )));
        })
    }

    /// The event's type name, as its enum gives it.
    pub fn event_type(&self) -> String {
        match self {
            LogEvent::Customer(event) => event.event_type(),
            LogEvent::Tenant(event) => event.event_type(),
            LogEvent::Entity(event) => event.event_type(),
            LogEvent::Dashboard(event) => event.event_type(),
        }
    }

    /// The version of the event's shape.
    pub fn event_version(&self) -> String {
        match self {
            LogEvent::Customer(event) => event.event_version(),
            LogEvent::Tenant(event) => event.event_version(),
            LogEvent::Entity(event) => event.event_version(),
            LogEvent::Dashboard(event) => event.event_version(),
        }
    }
}

/// A typed event and what projections need to know of it besides.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub aggregate_id: String,
    /// The aggregate's version after this event.
    pub sequence: i64,
    /// Tenant, actor, request and time.
    pub metadata: EventMetadata,
    /// Its place in the global log (the default while it is being appended).
    pub log_position: LogPosition,
    pub event: LogEvent,
}

impl Envelope {
    /// Decodes a stored event (see `LogEvent::decode`).
    pub fn decode(
        stored: &StoredEvent,
        upcasters: &[Box<dyn EventUpcaster>],
    ) -> Result<Envelope, StoreError> {
        Ok(Envelope::new(stored, LogEvent::decode(stored, upcasters)?))
    }

    /// Puts `event`, the typed form of `stored`, in an envelope.
    pub(crate) fn new(stored: &StoredEvent, event: LogEvent) -> Envelope {
        Envelope {
            aggregate_id: stored.aggregate_id.clone(),
            sequence: stored.sequence,
            metadata: stored.metadata.clone(),
            log_position: stored.log_position,
            event,
        }
    }

    /// The tenant the event belongs to, as its metadata names it.
    pub fn tenant(&self) -> &str {
        &self.metadata.tenant
    }

    pub fn occurred_at(&self) -> DateTime<Utc> {
        self.metadata.occurred_at
    }
}

/// Decodes a batch read from the log, once for every projection that applies it.
pub(crate) fn decode_all(
    events: &[StoredEvent],
    upcasters: &[Box<dyn EventUpcaster>],
) -> Result<Vec<Envelope>, StoreError> {
    events
        .iter()
        .map(|event| Envelope::decode(event, upcasters))
        .collect()
}
