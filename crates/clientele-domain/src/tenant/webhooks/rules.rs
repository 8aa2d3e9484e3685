//! The rules of a webhook endpoint's settings: which event types can be delivered, which
//! URLs and addresses are accepted.

use std::net::IpAddr;

use crate::assignment::{DashboardEvent, OwnershipEvent};
use crate::customer::CustomerEvent;
use crate::{Rule, Violation};

use super::MAX_URL_LENGTH;

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

pub(super) fn check_event_types(mut types: Vec<String>) -> Result<Vec<String>, Violation> {
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

pub(super) fn check_description(description: String) -> Result<String, Violation> {
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
