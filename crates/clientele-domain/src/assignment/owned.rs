//! Devices, assets and edges: each belongs to at most one customer at a time.

use std::marker::PhantomData;

use serde::{Deserialize, Serialize};

use super::{check_entity_id, check_target, AssignmentError, CustomerState, EntityKind};
use crate::aggregate::{decided_aggregate, event_enum};

/// The kind of an exclusively owned entity: its aggregate type and event names.
pub trait Exclusive: Default + Clone + std::fmt::Debug + PartialEq + Send + Sync + 'static {
    const TYPE: &'static str;
    const KIND: EntityKind;
    fn assigned(event: Assigned) -> OwnershipEvent;
    fn unassigned(event: Unassigned) -> OwnershipEvent;
}

macro_rules! exclusive {
    ($marker:ident, $kind:ident, $assigned:ident, $unassigned:ident) => {
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct $marker;
        impl Exclusive for $marker {
            const TYPE: &'static str = stringify!($marker);
            const KIND: EntityKind = EntityKind::$kind;
            fn assigned(event: Assigned) -> OwnershipEvent {
                OwnershipEvent::$assigned(event)
            }
            fn unassigned(event: Unassigned) -> OwnershipEvent {
                OwnershipEvent::$unassigned(event)
            }
        }
    };
}

exclusive!(Device, Device, DeviceAssigned, DeviceUnassigned);
exclusive!(Asset, Asset, AssetAssigned, AssetUnassigned);
exclusive!(Edge, Edge, EdgeAssigned, EdgeUnassigned);

/// A device, asset or edge as its events fold to: which customer owns it. A few bytes,
/// whatever the customer owns besides.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Owned<K: Exclusive> {
    pub tenant: String,
    pub entity_id: String,
    /// The customer it was last assigned to; treat it as none if that customer is deleted.
    pub owner: Option<String>,
    #[serde(skip)]
    kind: PhantomData<K>,
}

/// What can be asked of a device, asset or edge. The customer facts are filled in by the
/// store, inside the command's transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum OwnershipCommand {
    /// Give the entity to `customer_id`, taking it from its owner if it has one.
    Assign {
        tenant: String,
        entity_id: String,
        customer_id: String,
        target: CustomerState,
        /// The current owner is deleted (its `AssignmentsReleased` released the entity).
        owner_deleted: bool,
    },
    /// Take the entity from its owner.
    Unassign { owner_deleted: bool },
}

/// The entity was given to `customer_id`; `previous_customer_id` lost it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assigned {
    pub tenant: String,
    pub entity_id: String,
    pub customer_id: String,
    pub previous_customer_id: Option<String>,
}

/// The entity was taken from `customer_id` and belongs to no customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unassigned {
    pub entity_id: String,
    pub customer_id: String,
}

event_enum! {
    /// Events of devices, assets and edges: a storage contract.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub enum OwnershipEvent {
        DeviceAssigned(Assigned),
        DeviceUnassigned(Unassigned),
        AssetAssigned(Assigned),
        AssetUnassigned(Unassigned),
        EdgeAssigned(Assigned),
        EdgeUnassigned(Unassigned),
    }
}

decided_aggregate!(
    Owned<K> where K: Exclusive,
    TYPE = K::TYPE,
    OwnershipCommand => OwnershipEvent, AssignmentError
);

impl<K: Exclusive> Owned<K> {
    /// The owner, unless it is deleted.
    fn current_owner(&self, owner_deleted: bool) -> Option<String> {
        self.owner.clone().filter(|_| !owner_deleted)
    }

    /// The events a command produces from the entity's owner, or why it is refused.
    fn decide(&self, command: OwnershipCommand) -> Result<Vec<OwnershipEvent>, AssignmentError> {
        Ok(match command {
            OwnershipCommand::Assign {
                tenant,
                entity_id,
                customer_id,
                target,
                owner_deleted,
            } => {
                check_entity_id(K::KIND, &entity_id)?;
                check_target(target)?;
                let previous = self.current_owner(owner_deleted);
                if previous.as_deref() == Some(customer_id.as_str()) {
                    return Ok(vec![]);
                }
                let event = Assigned {
                    tenant,
                    entity_id,
                    customer_id,
                    previous_customer_id: previous,
                };
                vec![K::assigned(event)]
            }
            OwnershipCommand::Unassign { owner_deleted } => self
                .current_owner(owner_deleted)
                .map(|customer_id| {
                    K::unassigned(Unassigned {
                        entity_id: self.entity_id.clone(),
                        customer_id,
                    })
                })
                .into_iter()
                .collect(),
        })
    }

    /// Folds one event. Never fails: events are facts.
    fn evolve(&mut self, event: OwnershipEvent) {
        match event {
            OwnershipEvent::DeviceAssigned(a)
            | OwnershipEvent::AssetAssigned(a)
            | OwnershipEvent::EdgeAssigned(a) => {
                self.tenant = a.tenant;
                self.entity_id = a.entity_id;
                self.owner = Some(a.customer_id);
            }
            OwnershipEvent::DeviceUnassigned(_)
            | OwnershipEvent::AssetUnassigned(_)
            | OwnershipEvent::EdgeUnassigned(_) => self.owner = None,
        }
    }
}
