//! Sign-in: verifying and minting JWTs, and the roles a token carries (what each role may
//! do is the table in guard/mod.rs).
//!
//! Tokens are verified with jsonwebtoken: HS256 with the configured secret, or RS256/ES256
//! with the public keys of a JWKS file, so a real identity provider can issue them. Expiry,
//! not-before, issuer and audience are always checked; a token whose header lists critical
//! extensions (`crit`, RFC 7515 §4.1.11) is refused, since we understand none, and so is
//! one that names no tenant.
//!
//! Every token minted here carries its own id (`jti`) and the session it belongs to
//! (`sid`), so it can be taken back: the store's revocation set (`Sessions`) refuses a
//! token whose session ended, or whose subject had its sessions ended after it was issued.

use async_graphql::Enum;
use chrono::{DateTime, Duration, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{
    decode, decode_header, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation,
};
use serde::{Deserialize, Serialize};

/// What a signed-in subject is to its tenant.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    /// Everything in the tenant.
    TenantAdmin,
    /// All the tenant's customers and its settings.
    Reseller,
    /// Creates customers and manages those whose seller it is.
    Seller,
    /// Reads everything in the tenant, history and exports included; changes nothing.
    Auditor,
    /// Bound to one customer: reads it and edits its customer-editable fields.
    CustomerAdmin,
    /// Bound to one customer: reads it.
    CustomerUser,
}

impl Role {
    /// Every role, in the order above.
    pub const ALL: [Role; 6] = [
        Role::TenantAdmin,
        Role::Reseller,
        Role::Seller,
        Role::Auditor,
        Role::CustomerAdmin,
        Role::CustomerUser,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::TenantAdmin => "TENANT_ADMIN",
            Role::Reseller => "RESELLER",
            Role::Seller => "SELLER",
            Role::Auditor => "AUDITOR",
            Role::CustomerAdmin => "CUSTOMER_ADMIN",
            Role::CustomerUser => "CUSTOMER_USER",
        }
    }

    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(value))
    }

    /// Bound to one customer.
    pub fn is_customer(self) -> bool {
        matches!(self, Role::CustomerAdmin | Role::CustomerUser)
    }
}

/// The real subject behind an impersonation ("log in as a customer").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Impersonator {
    pub sub: String,
    pub role: Role,
}

/// The claims Clientele reads and writes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub tenant: String,
    pub role: Role,
    /// The customer a customer-bound role is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<String>,
    /// Set on impersonation tokens: who really acts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imp: Option<Impersonator>,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// The token's id; set on every token minted here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The session the token belongs to; set on every token minted here (an identity
    /// provider's tokens may have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

/// What a minted token grants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    pub sub: String,
    pub tenant: String,
    pub role: Role,
    pub customer: Option<String>,
    pub imp: Option<Impersonator>,
    /// The session the token belongs to; a fresh one when `None`.
    pub sid: Option<String>,
}

impl Grant {
    pub fn new(sub: impl Into<String>, tenant: impl Into<String>, role: Role) -> Self {
        Grant {
            sub: sub.into(),
            tenant: tenant.into(),
            role,
            customer: None,
            imp: None,
            sid: None,
        }
    }
}

/// Why a token was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("no key can verify this token")]
    UnknownKey,
    #[error("a customer role needs a customer claim")]
    MissingCustomer,
    #[error("the token names no tenant")]
    MissingTenant,
    #[error("the token lists critical header parameters ({0}) this service does not understand")]
    UnknownCritical(String),
    #[error("this service has no signing secret, so it cannot mint tokens")]
    CannotMint,
}

/// Verifies and mints tokens.
pub struct Authenticator {
    secret: Option<Vec<u8>>,
    jwks: JwkSet,
    issuer: String,
    audience: String,
}

impl Authenticator {
    pub fn new(
        secret: Option<Vec<u8>>,
        jwks: Option<JwkSet>,
        issuer: &str,
        audience: &str,
    ) -> Self {
        Authenticator {
            secret,
            jwks: jwks.unwrap_or(JwkSet { keys: Vec::new() }),
            issuer: issuer.to_string(),
            audience: audience.to_string(),
        }
    }

    /// Checks signature, expiry, issuer and audience, and that the claims make sense.
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        let header = decode_header(token).map_err(|e| AuthError::Invalid(e.to_string()))?;
        if let Some(critical) = &header.crit {
            // We implement no JWS extension, so any listed one (or an empty list, which
            // RFC 7515 forbids) is one we do not understand.
            return Err(AuthError::UnknownCritical(critical.join(", ")));
        }
        let key = match header.alg {
            Algorithm::HS256 => {
                DecodingKey::from_secret(self.secret.as_deref().ok_or(AuthError::UnknownKey)?)
            }
            Algorithm::RS256 | Algorithm::ES256 => {
                let jwk = match &header.kid {
                    Some(kid) => self.jwks.find(kid),
                    None => self.jwks.keys.first(),
                }
                .ok_or(AuthError::UnknownKey)?;
                DecodingKey::from_jwk(jwk).map_err(|e| AuthError::Invalid(e.to_string()))?
            }
            other => return Err(AuthError::Invalid(format!("{other:?} is not accepted"))),
        };
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|e| AuthError::Invalid(e.to_string()))?
            .claims;
        if claims.tenant.trim().is_empty() {
            return Err(AuthError::MissingTenant);
        }
        if claims.role.is_customer() && claims.customer.is_none() {
            return Err(AuthError::MissingCustomer);
        }
        Ok(claims)
    }

    /// Mints an HS256 token with the configured secret, with a fresh `jti` and the grant's
    /// session (a fresh one when it names none).
    pub fn mint(
        &self,
        grant: Grant,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<(String, DateTime<Utc>), AuthError> {
        let secret = self.secret.as_deref().ok_or(AuthError::CannotMint)?;
        let expires = now + ttl;
        let claims = Claims {
            sub: grant.sub,
            tenant: grant.tenant,
            role: grant.role,
            customer: grant.customer,
            imp: grant.imp,
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now.timestamp(),
            exp: expires.timestamp(),
            jti: Some(uuid::Uuid::new_v4().to_string()),
            sid: Some(
                grant
                    .sid
                    .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
            ),
        };
        let token = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret),
        )
        .map_err(|e| AuthError::Invalid(e.to_string()))?;
        Ok((token, expires))
    }
}
