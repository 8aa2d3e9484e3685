//! Sign-in wiring: the signing secret (configured, or created in the data directory on
//! first start), the JWKS file, and the tenant's own company.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Mutex;

use anyhow::Context;
use clientele_domain::customer::{Customer, CustomerCommand, CustomerError};
use clientele_graphql::{Authenticator, RequestContext};
use clientele_store::{CommandError, EventMetadata, Store};
use jsonwebtoken::jwk::JwkSet;
use secrecy::ExposeSecret;

use crate::settings::Settings;

/// The name of the secret file in the data directory.
const SECRET_FILE: &str = "jwt-secret";

/// The signing secret and whether it was just created.
pub fn secret(settings: &Settings) -> anyhow::Result<(Option<Vec<u8>>, bool)> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok((Some(secret.expose_secret().as_bytes().to_vec()), false));
    }
    if settings.jwks_file.is_some() {
        return Ok((None, false));
    }
    let path = settings.data_dir.join(SECRET_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok((Some(existing.trim().as_bytes().to_vec()), false));
    }
    std::fs::create_dir_all(&settings.data_dir)
        .with_context(|| format!("failed to create {}", settings.data_dir.display()))?;
    let fresh = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    write_private(&path, &fresh)?;
    Ok((Some(fresh.into_bytes()), true))
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    file.write_all(content.as_bytes())?;
    Ok(())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> anyhow::Result<()> {
    std::fs::write(path, content).with_context(|| format!("failed to create {}", path.display()))
}

/// The authenticator the settings describe.
pub fn authenticator(settings: &Settings) -> anyhow::Result<(Authenticator, bool)> {
    let (secret, created) = secret(settings)?;
    let jwks = match &settings.jwks_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("failed to read {}", path.display()))?;
            Some(
                serde_json::from_str::<JwkSet>(&text)
                    .with_context(|| format!("{} is not a JWKS", path.display()))?,
            )
        }
        None => None,
    };
    let auth = Authenticator::new(secret, jwks, &settings.jwt_issuer, &settings.jwt_audience);
    Ok((auth, created))
}

/// Registers each tenant's own company the first time the tenant is seen: every tenant has
/// one, listed among its customers, that nobody may modify or delete. The second field lets
/// one request at a time register: a thousand subscriptions opening at once on a fresh
/// instance wait for the first one instead of each taking a database connection for the
/// same command (which emptied the pool).
#[derive(Default)]
pub struct OwnCompanies(Mutex<HashSet<String>>, tokio::sync::Mutex<()>);

impl OwnCompanies {
    fn known(&self, tenant: &str) -> bool {
        self.0.lock().expect("not poisoned").contains(tenant)
    }

    pub async fn ensure(
        &self,
        store: &Store,
        request: &RequestContext,
        now: chrono::DateTime<chrono::Utc>,
    ) {
        if self.known(&request.tenant) {
            return;
        }
        let _registering = self.1.lock().await;
        if self.known(&request.tenant) {
            return;
        }
        let id = own_company_id(&request.tenant);
        let metadata = EventMetadata {
            tenant: request.tenant.clone(),
            actor: "system:clientele".into(),
            role: None,
            on_behalf_of: None,
            request_id: request.request_id.clone(),
            occurred_at: now,
        };
        // The tenant's name, unless a customer already holds it; the last name is unique to
        // this tenant's own company id, so some name is always free.
        for name in [
            request.tenant.clone(),
            format!("{}-own-company", request.tenant),
            format!("{}-own-company-{}", request.tenant, &id[..8]),
        ] {
            let command = CustomerCommand::RegisterOwnCompany {
                tenant: request.tenant.clone(),
                name,
            };
            match store.execute::<Customer>(&id, command, &metadata).await {
                Ok(_)
                | Err(CommandError::Rejected(
                    CustomerError::AlreadyExists | CustomerError::OwnCompany,
                )) => {
                    self.0
                        .lock()
                        .expect("not poisoned")
                        .insert(request.tenant.clone());
                    return;
                }
                Err(CommandError::Duplicate { .. }) => continue,
                Err(error) => {
                    tracing::error!(tenant = %request.tenant, %error, "could not register the tenant's own company");
                    return;
                }
            }
        }
        tracing::error!(tenant = %request.tenant, "could not register the tenant's own company: every name it may take is held");
    }
}

/// The own company's id: the same on every instance.
pub fn own_company_id(tenant: &str) -> String {
    uuid::Uuid::new_v5(
        &uuid::Uuid::NAMESPACE_URL,
        format!("clientele:own-company:{tenant}").as_bytes(),
    )
    .to_string()
}
