//! Webhook endpoints of a tenant: registered, updated, disabled (by a person, or by the
//! service because deliveries kept failing), enabled, deleted, their secret rotated. Each
//! step is an event, so the tenant's history shows who did what; the signing secret itself
//! is never in an event (the store keeps it in a table of its own).

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Tenant, TenantError, TenantEvent};
use crate::assignment::{DashboardEvent, OwnershipEvent};
use crate::customer::CustomerEvent;
use crate::{Rule, Violation};

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

/// The event types a webhook can deliver: those of customers' histories (customer,
/// device, asset, edge and dashboard events), not the tenant's own settings.
pub fn deliverable_event_types() -> Vec<&'static str> {
    let mut types: Vec<&'static str> = CustomerEvent::TYPES.to_vec();
    types.extend_from_slice(OwnershipEvent::TYPES);
    types.extend_from_slice(DashboardEvent::TYPES);
    types
}

/// True for an address a webhook must not reach unless the service allows it: loopback,
/// link-local, private (RFC 1918), unique-local, unspecified, multicast, broadcast,
/// shared (100.64.0.0/10) and IPv4-mapped forms of those.
pub fn is_private_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_private_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// The URL checked: http(s) with a host, no credentials, at most 2,000 characters; https
/// and a public address unless private addresses are allowed.
pub fn check_url(url: &str, allow_private: bool) -> Result<String, Violation> {
    let bad = |message: String| Violation::new("url", Rule::Format, message);
    let url = url.trim();
    if url.chars().count() > MAX_URL_LENGTH {
        return Err(Violation::new(
            "url",
            Rule::Length,
            format!("the URL is at most {MAX_URL_LENGTH} characters"),
        ));
    }
    let parsed = url::Url::parse(url).map_err(|e| bad(format!("not a URL: {e}")))?;
    match parsed.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(bad("the URL must start with https://".into())),
        other => return Err(bad(format!("{other}: only https:// URLs are delivered to"))),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(bad("the URL must not carry a user name or password".into()));
    }
    let ip = match parsed.host() {
        None => return Err(bad("the URL has no host".into())),
        Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            (name == "localhost" || name.ends_with(".localhost"))
                .then_some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        }
    };
    if let Some(ip) = ip.filter(|ip| !allow_private && is_private_address(*ip)) {
        return Err(Violation::new(
            "url",
            Rule::Address,
            format!("{ip} is a loopback, link-local or private address; webhooks go to public addresses"),
        ));
    }
    Ok(parsed.to_string())
}

fn check_event_types(mut types: Vec<String>) -> Result<Vec<String>, Violation> {
    let known = deliverable_event_types();
    for t in types.iter_mut() {
        *t = t.trim().to_string();
    }
    if let Some(unknown) = types.iter().find(|t| !known.contains(&t.as_str())) {
        return Err(Violation::new(
            "eventTypes",
            Rule::AllowedValues,
            format!("{unknown:?} is not an event type a webhook delivers, such as CustomerCreated"),
        ));
    }
    types.sort();
    types.dedup();
    Ok(types)
}

fn check_description(description: String) -> Result<String, Violation> {
    let description = description.trim().to_string();
    if description.chars().count() > 1000 {
        return Err(Violation::new(
            "description",
            Rule::Length,
            "the description is at most 1000 characters",
        ));
    }
    Ok(description)
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
mod tests {
    use super::*;
    use crate::tenant::TenantCommand;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Tenant>;

    fn register(url: &str, types: &[&str], allow: bool) -> TenantCommand {
        TenantCommand::Webhook(WebhookCommand::Register {
            endpoint_id: "e1".into(),
            url: url.into(),
            event_types: types.iter().map(|t| t.to_string()).collect(),
            description: " ops ".into(),
            allow_private_addresses: allow,
        })
    }

    fn registered() -> TenantEvent {
        TenantEvent::WebhookEndpointRegistered(WebhookEndpointRegistered {
            endpoint_id: "e1".into(),
            url: "https://hooks.example.com/in".into(),
            event_types: vec!["CustomerCreated".into()],
            description: "ops".into(),
        })
    }

    #[test]
    fn registering_records_the_endpoint_checked_and_normalised() {
        Given::with(())
            .given_no_previous_events()
            .when(register(
                "https://hooks.example.com/in",
                &["CustomerCreated", "CustomerCreated"],
                false,
            ))
            .then_expect_events(vec![registered()]);
    }

    #[test]
    fn unknown_event_types_private_addresses_and_plain_http_are_refused() {
        let rule = |command| match Given::with(())
            .given_no_previous_events()
            .when(command)
            .inspect_result()
        {
            Err(TenantError::Invalid(v)) => (v[0].field.clone(), v[0].rule),
            other => panic!("{other:?}"),
        };
        let types = rule(register("https://a.example", &["TenantNope"], false));
        assert_eq!(types, ("eventTypes".into(), Rule::AllowedValues));
        let local = rule(register("https://127.0.0.1:9/x", &[], false));
        assert_eq!(local, ("url".into(), Rule::Address));
        let private = rule(register("https://[fd00::1]/x", &[], false));
        assert_eq!(private.1, Rule::Address);
        let plain = rule(register("http://a.example/x", &[], false));
        assert_eq!(plain.1, Rule::Format);
        Given::with(())
            .given_no_previous_events()
            .when(register("http://127.0.0.1:9/x", &[], true))
            .inspect_result()
            .unwrap();
    }

    #[test]
    fn disabling_twice_records_it_once_and_enabling_resumes() {
        let disable = || {
            TenantCommand::Webhook(WebhookCommand::Disable {
                endpoint_id: "e1".into(),
                reason: None,
            })
        };
        let disabled = TenantEvent::WebhookEndpointDisabled(WebhookEndpointDisabled {
            endpoint_id: "e1".into(),
            reason: None,
        });
        Given::with(())
            .given(vec![registered()])
            .when(disable())
            .then_expect_events(vec![disabled.clone()]);
        Given::with(())
            .given(vec![registered(), disabled.clone()])
            .when(disable())
            .then_expect_events(vec![]);
        Given::with(())
            .given(vec![registered(), disabled])
            .when(TenantCommand::Webhook(WebhookCommand::Enable {
                endpoint_id: "e1".into(),
            }))
            .then_expect_events(vec![TenantEvent::WebhookEndpointEnabled(
                WebhookEndpointEnabled {
                    endpoint_id: "e1".into(),
                },
            )]);
    }

    #[test]
    fn an_unknown_or_deleted_endpoint_is_refused() {
        let deleted = TenantEvent::WebhookEndpointDeleted(WebhookEndpointDeleted {
            endpoint_id: "e1".into(),
        });
        let result = Given::with(())
            .given(vec![registered(), deleted])
            .when(TenantCommand::Webhook(WebhookCommand::Enable {
                endpoint_id: "e1".into(),
            }))
            .inspect_result();
        assert!(matches!(result, Err(TenantError::Invalid(v)) if v[0].field == "id"));
    }
}
