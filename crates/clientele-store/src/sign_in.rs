//! Sign-in: a user found by tenant and email with its password hash, and refresh tokens
//! (table `refresh_tokens`, by SHA-256). A session (`sid`) is a family of refresh tokens;
//! rotation uses one and issues the next in one transaction, and a used token presented
//! again is reported as reuse, so the caller ends the session.

use chrono::{DateTime, Utc};

use crate::db::{time, Arg};
use crate::users::UserRecord;
use crate::{Store, StoreError};

/// A refresh token as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RefreshToken {
    pub tenant: String,
    pub session: String,
    pub customer_id: String,
    pub user_id: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq)]
pub enum Rotation {
    /// It was live (issued at `.1`), is now used, and `.0` was stored in its place (same
    /// session).
    Rotated(RefreshToken, DateTime<Utc>),
    /// It was used (or its session ended) before: the session must end everywhere.
    Reused(RefreshToken),
    /// Unknown or expired.
    Unknown,
}

#[derive(sqlx::FromRow)]
struct Row {
    tenant_id: String,
    session_id: String,
    customer_id: String,
    user_id: String,
    issued_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    revoked: bool,
}

impl From<&Row> for RefreshToken {
    fn from(r: &Row) -> Self {
        RefreshToken {
            tenant: r.tenant_id.clone(),
            session: r.session_id.clone(),
            customer_id: r.customer_id.clone(),
            user_id: r.user_id.clone(),
            issued_at: time(r.issued_at),
            expires_at: time(r.expires_at),
        }
    }
}

impl Store {
    /// The user of the tenant with this email (case-insensitively) and its password hash.
    pub async fn user_for_sign_in(
        &self,
        tenant: &str,
        email: &str,
    ) -> Result<Option<(UserRecord, Option<String>)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct Found {
            user_id: String,
            password_hash: Option<String>,
        }
        let found: Option<Found> = self
            .db()
            .fetch_optional(
                "SELECT user_id, password_hash FROM customer_users WHERE tenant_id = $1 AND lower(email) = $2",
                &[tenant.into(), Arg::Text(email.trim().to_lowercase())],
            )
            .await?;
        let Some(found) = found else { return Ok(None) };
        Ok(self
            .customer_user(tenant, &found.user_id)
            .await?
            .map(|user| (user, found.password_hash)))
    }

    /// Stores a new refresh token (its hash) of a session.
    pub async fn store_refresh_token(
        &self,
        token_hash: &str,
        token: &RefreshToken,
    ) -> Result<(), StoreError> {
        let mut tx = self.db().begin().await?;
        insert(&mut tx, token_hash, token).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses the refresh token `token_hash` at `now` and stores `next_hash` in its place
    /// (issued `now`, expiring at `next_expires_at`), or says it was reused or unknown.
    pub async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        next_hash: &str,
        now: DateTime<Utc>,
        next_expires_at: DateTime<Utc>,
    ) -> Result<Rotation, StoreError> {
        let mut tx = self.db().begin().await?;
        let row: Option<Row> = tx
            .fetch_optional(
                "SELECT tenant_id, session_id, customer_id, user_id, issued_at, expires_at, used_at, revoked \
                 FROM refresh_tokens WHERE token_hash = $1",
                &[Arg::from(token_hash)],
            )
            .await?;
        let Some(row) = row else {
            return Ok(Rotation::Unknown);
        };
        let token = RefreshToken::from(&row);
        if row.used_at.is_some() || row.revoked {
            return Ok(Rotation::Reused(token));
        }
        if token.expires_at <= now {
            return Ok(Rotation::Unknown);
        }
        let used = tx
            .execute(
                "UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL",
                &[Arg::from(token_hash), Arg::Int(now.timestamp_micros())],
            )
            .await?;
        if used == 0 {
            // Another request used it first: that is reuse too.
            return Ok(Rotation::Reused(token));
        }
        let next = RefreshToken {
            issued_at: now,
            expires_at: next_expires_at,
            ..token.clone()
        };
        insert(&mut tx, next_hash, &next).await?;
        tx.commit().await?;
        Ok(Rotation::Rotated(next, token.issued_at))
    }

    /// Ends a session's refresh tokens (sign-out, reuse); answers the session's token, if
    /// the hash names one.
    pub async fn revoke_refresh_session(
        &self,
        tenant: &str,
        session: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.db().begin().await?;
        tx.execute(
            "UPDATE refresh_tokens SET revoked = true WHERE tenant_id = $1 AND session_id = $2",
            &[tenant.into(), session.into()],
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The refresh token with this hash, used or not.
    pub async fn refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshToken>, StoreError> {
        let row: Option<Row> = self
            .db()
            .fetch_optional(
                "SELECT tenant_id, session_id, customer_id, user_id, issued_at, expires_at, used_at, revoked \
                 FROM refresh_tokens WHERE token_hash = $1",
                &[Arg::from(token_hash)],
            )
            .await?;
        Ok(row.as_ref().map(RefreshToken::from))
    }
}

async fn insert(
    tx: &mut crate::db::Tx,
    token_hash: &str,
    t: &RefreshToken,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO refresh_tokens (token_hash, tenant_id, session_id, customer_id, user_id, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            Arg::from(token_hash),
            Arg::Text(t.tenant.clone()),
            Arg::Text(t.session.clone()),
            Arg::Text(t.customer_id.clone()),
            Arg::Text(t.user_id.clone()),
            Arg::Int(t.issued_at.timestamp_micros()),
            Arg::Int(t.expires_at.timestamp_micros()),
        ],
    )
    .await?;
    Ok(())
}
