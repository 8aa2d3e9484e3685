//! Webhook endpoints of a tenant: registered, updated, disabled (by a person, or by the
//! service because deliveries kept failing), enabled, deleted, their secret rotated. Each
//! step is an event, so the tenant's history shows who did what; the signing secret itself
//! is never in an event (the store keeps it in a table of its own).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Tenant, TenantError, TenantEvent};
use crate::{Rule, Violation};

mod rules;

use rules::{check_description, check_event_types};
pub use rules::{check_url, deliverable_event_types, is_private_address};

/// At most this many endpoints per tenant (deleted ones do not count).
pub const MAX_ENDPOINTS: usize = 20;
/// The longest URL accepted.
pub const MAX_URL_LENGTH: usize = 2000;

/// One endpoint as the tenant's events fold to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookEndpoint {
    pub url: String,
    /// The event types delivered; empty for all.
    pub event_types: Vec<String>,
    pub description: String,
    pub enabled: bool,
}

/// What can be asked of a tenant's webhook endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WebhookCommand {
    Register {
        endpoint_id: String,
        url: String,
        event_types: Vec<String>,
        description: String,
        /// The service lets endpoints on loopback, link-local and private addresses in.
        allow_private_addresses: bool,
    },
    /// Changes what is given; `None` keeps it.
    Update {
        endpoint_id: String,
        url: Option<String>,
        event_types: Option<Vec<String>>,
        description: Option<String>,
        allow_private_addresses: bool,
    },
    /// Stops deliveries; `reason` says why (the service's own reason when failing).
    Disable {
        endpoint_id: String,
        reason: Option<String>,
    },
    Enable {
        endpoint_id: String,
    },
    Delete {
        endpoint_id: String,
    },
    /// A new secret (kept by the store); the old one stays valid until `old_valid_until`.
    RotateSecret {
        endpoint_id: String,
        old_valid_until: DateTime<Utc>,
    },
}

/// An endpoint was registered (its secret is not part of the event).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointRegistered {
    pub endpoint_id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
}

/// An endpoint's settings changed: all of them as they are now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointUpdated {
    pub endpoint_id: String,
    pub url: String,
    pub event_types: Vec<String>,
    pub description: String,
}

/// Deliveries to an endpoint stopped; the actor (metadata) is a person or `system`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointDisabled {
    pub endpoint_id: String,
    pub reason: Option<String>,
}

/// Deliveries to an endpoint resumed, from where they stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointEnabled {
    pub endpoint_id: String,
}

/// An endpoint was deleted: nothing more is delivered to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEndpointDeleted {
    pub endpoint_id: String,
}

/// An endpoint's secret was replaced; the old one signs too until `oldValidUntil`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSecretRotated {
    pub endpoint_id: String,
    pub old_valid_until: DateTime<Utc>,
}

fn invalid(violation: Violation) -> TenantError {
    TenantError::Invalid(vec![violation])
}

fn unknown(id: &str) -> TenantError {
    invalid(Violation::new(
        "id",
        Rule::AllowedValues,
        format!("the tenant has no webhook endpoint {id}"),
    ))
}

impl Tenant {
    /// The events of a webhook command, or why it is refused.
    pub(super) fn decide_webhook(
        &self,
        command: WebhookCommand,
    ) -> Result<Vec<TenantEvent>, TenantError> {
        let existing = |id: &str| self.webhooks.get(id).ok_or_else(|| unknown(id));
        Ok(match command {
            WebhookCommand::Register {
                endpoint_id,
                url,
                event_types,
                description,
                allow_private_addresses,
            } => {
                if self.webhooks.contains_key(&endpoint_id) {
                    return Err(invalid(Violation::new("id", Rule::Unique, "already used")));
                }
                if self.webhooks.len() >= MAX_ENDPOINTS {
                    return Err(invalid(Violation::new(
                        "url",
                        Rule::Limit,
                        format!("a tenant has at most {MAX_ENDPOINTS} webhook endpoints"),
                    )));
                }
                let url = check_url(&url, allow_private_addresses).map_err(invalid)?;
                let event_types = check_event_types(event_types).map_err(invalid)?;
                let description = check_description(description).map_err(invalid)?;
                vec![TenantEvent::WebhookEndpointRegistered(
                    WebhookEndpointRegistered {
                        endpoint_id,
                        url,
                        event_types,
                        description,
                    },
                )]
            }
            WebhookCommand::Update {
                endpoint_id,
                url,
                event_types,
                description,
                allow_private_addresses,
            } => {
                let current = existing(&endpoint_id)?;
                let url = match url {
                    Some(url) => check_url(&url, allow_private_addresses).map_err(invalid)?,
                    None => current.url.clone(),
                };
                let event_types = match event_types {
                    Some(types) => check_event_types(types).map_err(invalid)?,
                    None => current.event_types.clone(),
                };
                let description = match description {
                    Some(text) => check_description(text).map_err(invalid)?,
                    None => current.description.clone(),
                };
                if (&url, &event_types, &description)
                    == (&current.url, &current.event_types, &current.description)
                {
                    return Ok(vec![]);
                }
                vec![TenantEvent::WebhookEndpointUpdated(
                    WebhookEndpointUpdated {
                        endpoint_id,
                        url,
                        event_types,
                        description,
                    },
                )]
            }
            WebhookCommand::Disable {
                endpoint_id,
                reason,
            } => {
                if !existing(&endpoint_id)?.enabled {
                    return Ok(vec![]);
                }
                let reason = reason.map(|r| r.chars().take(1000).collect());
                vec![TenantEvent::WebhookEndpointDisabled(
                    WebhookEndpointDisabled {
                        endpoint_id,
                        reason,
                    },
                )]
            }
            WebhookCommand::Enable { endpoint_id } => {
                if existing(&endpoint_id)?.enabled {
                    return Ok(vec![]);
                }
                vec![TenantEvent::WebhookEndpointEnabled(
                    WebhookEndpointEnabled { endpoint_id },
                )]
            }
            WebhookCommand::Delete { endpoint_id } => {
                existing(&endpoint_id)?;
                vec![TenantEvent::WebhookEndpointDeleted(
                    WebhookEndpointDeleted { endpoint_id },
                )]
            }
            WebhookCommand::RotateSecret {
                endpoint_id,
                old_valid_until,
            } => {
                existing(&endpoint_id)?;
                vec![TenantEvent::WebhookSecretRotated(WebhookSecretRotated {
                    endpoint_id,
                    old_valid_until,
                })]
            }
        })
    }

    /// Folds a webhook event (false: not one).
    pub(super) fn evolve_webhook(&mut self, event: &TenantEvent) -> bool {
        match event {
            TenantEvent::WebhookEndpointRegistered(e) => {
                let endpoint = WebhookEndpoint {
                    url: e.url.clone(),
                    event_types: e.event_types.clone(),
                    description: e.description.clone(),
                    enabled: true,
                };
                self.webhooks.insert(e.endpoint_id.clone(), endpoint);
            }
            TenantEvent::WebhookEndpointUpdated(e) => {
                if let Some(endpoint) = self.webhooks.get_mut(&e.endpoint_id) {
                    endpoint.url = e.url.clone();
                    endpoint.event_types = e.event_types.clone();
                    endpoint.description = e.description.clone();
                }
            }
            TenantEvent::WebhookEndpointDisabled(e) => self.set_enabled(&e.endpoint_id, false),
            TenantEvent::WebhookEndpointEnabled(e) => self.set_enabled(&e.endpoint_id, true),
            TenantEvent::WebhookEndpointDeleted(e) => {
                self.webhooks.remove(&e.endpoint_id);
            }
            TenantEvent::WebhookSecretRotated(_) => {}
            _ => return false,
        }
        true
    }

    fn set_enabled(&mut self, id: &str, enabled: bool) {
        if let Some(endpoint) = self.webhooks.get_mut(id) {
            endpoint.enabled = enabled;
        }
    }
}

#[cfg(test)]
mod tests;
