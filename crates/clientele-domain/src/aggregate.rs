//! What every aggregate of this crate shares: its events are one enum whose variant names are
//! the stored type names, and a command is decided from the current state into events (or a
//! refusal) before anything is written.

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;

/// Writes decided events in order; the sink applies each one to the aggregate as it writes it.
pub(crate) async fn write<A: Aggregate>(
    sink: &EventSink<A>,
    aggregate: &mut A,
    events: Vec<A::Event>,
) {
    for event in events {
        sink.write(event, aggregate).await;
    }
}

/// Defines an event enum whose variant names are its stored type names, so the names are
/// written once: the enum gets `TYPES` (every name, in declaration order) and `type_name()`,
/// and `DomainEvent` answers `event_type()` from the same match. Every variant carries a
/// payload (a struct or named fields) and is of the first shape (`EVENT_VERSION_1`).
macro_rules! event_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident $payload:tt),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis enum $name {
            $($(#[$variant_meta])* $variant $payload),*
        }

        impl $name {
            /// Every event type of this enum, as stored and as subscriptions filter on it.
            pub const TYPES: &'static [&'static str] = &[$(stringify!($variant)),*];

            /// The event's stored type name: its variant's name.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $($name::$variant { .. } => stringify!($variant)),*
                }
            }
        }

        impl cqrs_es::DomainEvent for $name {
            fn event_type(&self) -> String {
                self.type_name().to_string()
            }

            fn event_version(&self) -> String {
                $crate::EVENT_VERSION_1.to_string()
            }
        }
    };
}

/// Implements `Aggregate` for a type whose `decide(&self, command)` returns the events of a
/// command (or its refusal) and whose `evolve(&mut self, event)` folds one event: `handle`
/// decides, then writes the events in order. No service is needed by any of them.
macro_rules! decided_aggregate {
    (
        $aggregate:ty $(where $param:ident: $bound:path)?,
        TYPE = $type_name:expr,
        $command:ty => $event:ty, $error:ty $(,)?
    ) => {
        impl$(<$param: $bound>)? cqrs_es::Aggregate for $aggregate {
            const TYPE: &'static str = $type_name;
            type Command = $command;
            type Event = $event;
            type Error = $error;
            type Services = ();

            async fn handle(
                &mut self,
                command: Self::Command,
                _services: &Self::Services,
                sink: &cqrs_es::event_sink::EventSink<Self>,
            ) -> Result<(), Self::Error> {
                let events = self.decide(command)?;
                $crate::aggregate::write(sink, self, events).await;
                Ok(())
            }

            fn apply(&mut self, event: Self::Event) {
                self.evolve(event)
            }
        }
    };
}

pub(crate) use {decided_aggregate, event_enum};
