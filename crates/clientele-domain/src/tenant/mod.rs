//! The tenant aggregate: one MSSP, reseller or platform operator and its settings.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::aggregate::{decided_aggregate, event_enum};
use crate::customer::CustomerField;
use crate::product::{check_new_product, DEFAULT_PRODUCTS};
use crate::{Rule, Violation};

pub mod webhooks;
use webhooks::*;

/// A tenant's settings as its events fold to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    /// Customer fields this tenant requires besides the name (sorted, no duplicates).
    pub required_customer_fields: Vec<CustomerField>,
    /// The product catalogue by key; every tenant starts with `DEFAULT_PRODUCTS`, hidden.
    #[serde(default = "default_catalogue")]
    pub products: BTreeMap<String, CatalogueProduct>,
    /// Days between a deletion request and the automatic deletion.
    #[serde(default = "default_grace_days")]
    pub deletion_grace_days: u32,
    /// Who is told about deletion requests, and in which language.
    #[serde(default)]
    pub deletion_notices: DeletionNotices,
    /// Webhook endpoints by id (deleted ones are gone), see `webhooks`.
    #[serde(default)]
    pub webhooks: BTreeMap<String, WebhookEndpoint>,
    pub version: u64,
}

/// The addresses told when a deletion request is made, cancelled or carried out, and one
/// day before it falls due; none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeletionNotices {
    pub recipients: Vec<String>,
    /// One of `NOTICE_LANGUAGES`.
    pub language: String,
}

/// The languages deletion notices are written in.
pub const NOTICE_LANGUAGES: [&str; 4] = ["en", "de", "fr", "es"];
/// At most this many recipients.
pub const MAX_NOTICE_RECIPIENTS: usize = 20;

/// A plain check of an address: one `@` between non-empty parts, a dot in the domain, no
/// spaces or control characters, at most 254 characters.
fn is_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    text.len() <= 254
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// The grace period of a tenant that has not set one: ten days.
pub const DEFAULT_GRACE_DAYS: u32 = 10;

fn default_grace_days() -> u32 {
    DEFAULT_GRACE_DAYS
}

/// A product of the tenant's catalogue and its global visibility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueProduct {
    pub name: String,
    pub visible: bool,
}

fn default_catalogue() -> BTreeMap<String, CatalogueProduct> {
    DEFAULT_PRODUCTS
        .iter()
        .map(|(key, name)| {
            let product = CatalogueProduct {
                name: name.to_string(),
                visible: false,
            };
            (key.to_string(), product)
        })
        .collect()
}

impl Default for Tenant {
    fn default() -> Self {
        Tenant {
            required_customer_fields: Vec::new(),
            products: default_catalogue(),
            deletion_grace_days: DEFAULT_GRACE_DAYS,
            deletion_notices: DeletionNotices::default(),
            webhooks: BTreeMap::new(),
            version: 0,
        }
    }
}

/// What can be asked of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum TenantCommand {
    SetRequiredCustomerFields {
        fields: Vec<CustomerField>,
    },
    AddProduct {
        key: String,
        name: String,
    },
    SetGlobalProductVisibility {
        key: String,
        visible: bool,
    },
    SetDeletionGracePeriod {
        days: u32,
    },
    /// Names who is told about deletion requests (an empty list tells no one).
    SetDeletionNotices {
        recipients: Vec<String>,
        language: String,
    },
    /// End every session of `subject` issued before now (`revokeSessions`).
    RevokeSessions {
        subject: String,
    },
    /// A webhook endpoint's lifecycle (`webhooks`).
    Webhook(WebhookCommand),
}

event_enum! {
    /// Everything that can happen to a tenant.
    #[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
    pub enum TenantEvent {
        RequiredCustomerFieldsSet {
            fields: Vec<CustomerField>,
        },
        ProductAdded {
            key: String,
            name: String,
        },
        GlobalProductVisibilitySet {
            key: String,
            name: String,
            visible: bool,
        },
        DeletionGracePeriodSet {
            days: u32,
        },
        /// Every session of `subject` whose tokens were issued before this event ended.
        SessionsRevoked {
            subject: String,
        },
        /// Who is told about deletion requests from now on.
        DeletionNoticesSet {
            recipients: Vec<String>,
            language: String,
        },
        // A webhook endpoint's lifecycle (`webhooks`).
        WebhookEndpointRegistered(WebhookEndpointRegistered),
        WebhookEndpointUpdated(WebhookEndpointUpdated),
        WebhookEndpointDisabled(WebhookEndpointDisabled),
        WebhookEndpointEnabled(WebhookEndpointEnabled),
        WebhookEndpointDeleted(WebhookEndpointDeleted),
        WebhookSecretRotated(WebhookSecretRotated),
    }
}

/// Why a tenant command was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TenantError {
    #[error("invalid input: {0:?}")]
    Invalid(Vec<Violation>),
}

fn unknown_product(key: &str) -> TenantError {
    TenantError::Invalid(vec![Violation::new(
        "product",
        Rule::UnknownProduct,
        format!("the catalogue has no product {key}"),
    )])
}

/// The recipients trimmed, lower-cased, sorted and without duplicates; every address and
/// the language checked.
fn check_notices(
    recipients: Vec<String>,
    language: String,
) -> Result<DeletionNotices, TenantError> {
    let mut violations = Vec::new();
    let mut addresses: Vec<String> = recipients.iter().map(|r| r.trim().to_lowercase()).collect();
    addresses.sort();
    addresses.dedup();
    if addresses.len() > MAX_NOTICE_RECIPIENTS {
        violations.push(Violation::new(
            "recipients",
            Rule::Length,
            format!("at most {MAX_NOTICE_RECIPIENTS} recipients"),
        ));
    }
    if let Some(bad) = addresses.iter().find(|a| !is_address(a)) {
        violations.push(Violation::new(
            "recipients",
            Rule::Format,
            format!("{bad:?} is not an email address such as ops@example.com"),
        ));
    }
    let language = language.trim().to_lowercase();
    if !NOTICE_LANGUAGES.contains(&language.as_str()) {
        violations.push(Violation::new(
            "language",
            Rule::AllowedValues,
            format!("the language is one of {}", NOTICE_LANGUAGES.join(", ")),
        ));
    }
    if !violations.is_empty() {
        return Err(TenantError::Invalid(violations));
    }
    Ok(DeletionNotices {
        recipients: addresses,
        language,
    })
}

decided_aggregate!(Tenant, TYPE = "Tenant", TenantCommand => TenantEvent, TenantError);

impl Tenant {
    /// The events a command produces from the tenant's settings, or why it is refused.
    fn decide(&self, command: TenantCommand) -> Result<Vec<TenantEvent>, TenantError> {
        Ok(match command {
            TenantCommand::SetRequiredCustomerFields { mut fields } => {
                // The name is always required, so it is never stored as a setting.
                fields.retain(|f| *f != CustomerField::Name);
                fields.sort();
                fields.dedup();
                if fields == self.required_customer_fields {
                    return Ok(vec![]);
                }
                vec![TenantEvent::RequiredCustomerFieldsSet { fields }]
            }
            TenantCommand::AddProduct { key, name } => {
                let violations = check_new_product(&key, &name);
                if !violations.is_empty() {
                    return Err(TenantError::Invalid(violations));
                }
                if self.products.contains_key(&key) {
                    return Err(TenantError::Invalid(vec![Violation::new(
                        "key",
                        Rule::Unique,
                        format!("the catalogue already has {key}"),
                    )]));
                }
                let name = name.trim().to_string();
                vec![TenantEvent::ProductAdded { key, name }]
            }
            TenantCommand::SetGlobalProductVisibility { key, visible } => {
                let product = self
                    .products
                    .get(&key)
                    .ok_or_else(|| unknown_product(&key))?;
                if product.visible == visible {
                    return Ok(vec![]);
                }
                let name = product.name.clone();
                vec![TenantEvent::GlobalProductVisibilitySet { key, name, visible }]
            }
            TenantCommand::SetDeletionGracePeriod { days } => {
                if !(1..=365).contains(&days) {
                    return Err(TenantError::Invalid(vec![Violation::new(
                        "days",
                        Rule::Range,
                        "the grace period is 1 to 365 days",
                    )]));
                }
                if days == self.deletion_grace_days {
                    return Ok(vec![]);
                }
                vec![TenantEvent::DeletionGracePeriodSet { days }]
            }
            TenantCommand::SetDeletionNotices {
                recipients,
                language,
            } => {
                let notices = check_notices(recipients, language)?;
                if notices == self.deletion_notices {
                    return Ok(vec![]);
                }
                vec![TenantEvent::DeletionNoticesSet {
                    recipients: notices.recipients,
                    language: notices.language,
                }]
            }
            TenantCommand::RevokeSessions { subject } => {
                let subject = subject.trim().to_string();
                let violation = match subject.chars().count() {
                    0 => Some((Rule::Required, "the subject must not be empty")),
                    n if n > 1000 => Some((Rule::Length, "the subject is at most 1000 characters")),
                    _ => None,
                };
                if let Some((rule, message)) = violation {
                    return Err(TenantError::Invalid(vec![Violation::new(
                        "subject", rule, message,
                    )]));
                }
                // Always recorded, even for a subject revoked before: its sessions issued
                // since then end too.
                vec![TenantEvent::SessionsRevoked { subject }]
            }
            TenantCommand::Webhook(command) => return self.decide_webhook(command),
        })
    }

    /// Folds one event. Never fails: events are facts.
    fn evolve(&mut self, event: TenantEvent) {
        self.version += 1;
        if self.evolve_webhook(&event) {
            return;
        }
        match event {
            TenantEvent::RequiredCustomerFieldsSet { fields } => {
                self.required_customer_fields = fields
            }
            TenantEvent::ProductAdded { key, name } => {
                self.products.insert(
                    key,
                    CatalogueProduct {
                        name,
                        visible: false,
                    },
                );
            }
            TenantEvent::DeletionGracePeriodSet { days } => self.deletion_grace_days = days,
            TenantEvent::DeletionNoticesSet {
                recipients,
                language,
            } => {
                self.deletion_notices = DeletionNotices {
                    recipients,
                    language,
                }
            }
            // Sessions are not tenant settings: the store keeps them (see `session`).
            TenantEvent::SessionsRevoked { .. } => {}
            TenantEvent::GlobalProductVisibilitySet { key, visible, .. } => {
                if let Some(product) = self.products.get_mut(&key) {
                    product.visible = visible;
                }
            }
            // Folded by `evolve_webhook` above.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cqrs_es::test::TestFramework;

    type Given = TestFramework<Tenant>;

    #[test]
    fn the_stored_event_type_names_never_change() {
        assert_eq!(
            TenantEvent::TYPES,
            [
                "RequiredCustomerFieldsSet",
                "ProductAdded",
                "GlobalProductVisibilitySet",
                "DeletionGracePeriodSet",
                "SessionsRevoked",
                "DeletionNoticesSet",
                "WebhookEndpointRegistered",
                "WebhookEndpointUpdated",
                "WebhookEndpointDisabled",
                "WebhookEndpointEnabled",
                "WebhookEndpointDeleted",
                "WebhookSecretRotated",
            ]
        );
        let event = TenantEvent::DeletionGracePeriodSet { days: 10 };
        assert_eq!(
            cqrs_es::DomainEvent::event_type(&event),
            "DeletionGracePeriodSet"
        );
    }

    #[test]
    fn setting_required_fields_records_them_sorted_without_the_name() {
        Given::with(())
            .given_no_previous_events()
            .when(TenantCommand::SetRequiredCustomerFields {
                fields: vec![
                    CustomerField::Shortname,
                    CustomerField::Name,
                    CustomerField::Email,
                ],
            })
            .then_expect_events(vec![TenantEvent::RequiredCustomerFieldsSet {
                fields: vec![CustomerField::Email, CustomerField::Shortname],
            }]);
    }

    #[test]
    fn setting_the_same_required_fields_again_writes_nothing() {
        Given::with(())
            .given(vec![TenantEvent::RequiredCustomerFieldsSet {
                fields: vec![CustomerField::Email],
            }])
            .when(TenantCommand::SetRequiredCustomerFields {
                fields: vec![CustomerField::Email, CustomerField::Email],
            })
            .then_expect_events(vec![]);
    }

    #[test]
    fn a_tenant_starts_with_the_six_default_products_hidden() {
        let tenant = Tenant::default();
        let keys: Vec<&str> = tenant.products.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            ["CDN", "CLOUD", "DDOS", "DNS", "STORAGE", "STREAMING"]
        );
        assert!(tenant.products.values().all(|p| !p.visible));
    }

    #[test]
    fn showing_a_product_globally_records_it_once() {
        let show = || TenantCommand::SetGlobalProductVisibility {
            key: "CDN".into(),
            visible: true,
        };
        let shown = TenantEvent::GlobalProductVisibilitySet {
            key: "CDN".into(),
            name: "CDN".into(),
            visible: true,
        };
        Given::with(())
            .given_no_previous_events()
            .when(show())
            .then_expect_events(vec![shown.clone()]);
        Given::with(())
            .given(vec![shown])
            .when(show())
            .then_expect_events(vec![]);
    }

    #[test]
    fn an_unknown_or_duplicate_product_is_refused() {
        let result = Given::with(())
            .given_no_previous_events()
            .when(TenantCommand::SetGlobalProductVisibility {
                key: "NOPE".into(),
                visible: true,
            })
            .inspect_result();
        assert!(
            matches!(result, Err(TenantError::Invalid(v)) if v[0].rule == Rule::UnknownProduct)
        );
        let result = Given::with(())
            .given_no_previous_events()
            .when(TenantCommand::AddProduct {
                key: "CDN".into(),
                name: "Again".into(),
            })
            .inspect_result();
        assert!(matches!(result, Err(TenantError::Invalid(v)) if v[0].rule == Rule::Unique));
    }

    #[test]
    fn revoking_the_sessions_of_a_subject_is_recorded_each_time() {
        let revoke = || TenantCommand::RevokeSessions {
            subject: " rita ".into(),
        };
        let revoked = TenantEvent::SessionsRevoked {
            subject: "rita".into(),
        };
        Given::with(())
            .given_no_previous_events()
            .when(revoke())
            .then_expect_events(vec![revoked.clone()]);
        Given::with(())
            .given(vec![revoked.clone()])
            .when(revoke())
            .then_expect_events(vec![revoked]);
    }

    #[test]
    fn revoking_the_sessions_of_no_subject_is_refused() {
        let result = Given::with(())
            .given_no_previous_events()
            .when(TenantCommand::RevokeSessions {
                subject: "  ".into(),
            })
            .inspect_result();
        assert!(matches!(result, Err(TenantError::Invalid(v)) if v[0].rule == Rule::Required));
    }

    #[test]
    fn deletion_notices_are_recorded_normalised_and_only_when_they_change() {
        Given::with(())
            .given_no_previous_events()
            .when(TenantCommand::SetDeletionNotices {
                recipients: vec![
                    " Ops@Reseller.example ".into(),
                    "ops@reseller.example".into(),
                ],
                language: "DE".into(),
            })
            .then_expect_events(vec![TenantEvent::DeletionNoticesSet {
                recipients: vec!["ops@reseller.example".into()],
                language: "de".into(),
            }]);
        Given::with(())
            .given(vec![TenantEvent::DeletionNoticesSet {
                recipients: vec!["ops@reseller.example".into()],
                language: "de".into(),
            }])
            .when(TenantCommand::SetDeletionNotices {
                recipients: vec!["ops@reseller.example".into()],
                language: "de".into(),
            })
            .then_expect_events(vec![]);
    }

    #[test]
    fn bad_notice_addresses_or_languages_are_refused() {
        let refused = |recipients: Vec<&str>, language: &str| {
            Given::with(())
                .given_no_previous_events()
                .when(TenantCommand::SetDeletionNotices {
                    recipients: recipients.into_iter().map(Into::into).collect(),
                    language: language.into(),
                })
                .inspect_result()
                .unwrap_err()
        };
        let TenantError::Invalid(v) = refused(vec!["not an address"], "en");
        assert_eq!(
            (v[0].field.as_str(), v[0].rule),
            ("recipients", Rule::Format)
        );
        let TenantError::Invalid(v) = refused(vec!["a@b.example"], "klingon");
        assert_eq!(
            (v[0].field.as_str(), v[0].rule),
            ("language", Rule::AllowedValues)
        );
        let many: Vec<String> = (0..21).map(|i| format!("r{i}@x.example")).collect();
        let TenantError::Invalid(v) = refused(many.iter().map(String::as_str).collect(), "en");
        assert_eq!(v[0].rule, Rule::Length);
    }
}
