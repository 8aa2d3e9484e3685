//! Users of a customer: reads of the `customer_users` read model.

use chrono::{DateTime, Utc};
use clientele_domain::customer::{UserStatus, UserType};

use crate::db::{enum_parse, time, Arg};
use crate::{Store, StoreError};

/// The kind under which a user's email is unique within the tenant.
pub const USER_EMAIL: &str = "user_email";

/// A user as the read model holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub tenant: String,
    pub customer_id: String,
    pub user_id: String,
    pub email: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub language: String,
    pub user_type: UserType,
    pub status: UserStatus,
    /// When the pending activation token expires (none once activated).
    pub activation_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "tenant_id, customer_id, user_id, email, given_name, family_name, language, user_type, \
    activated, disabled, activation_expires_at, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct Row {
    tenant_id: String,
    customer_id: String,
    user_id: String,
    email: String,
    given_name: Option<String>,
    family_name: Option<String>,
    language: String,
    user_type: String,
    activated: bool,
    disabled: bool,
    activation_expires_at: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<Row> for UserRecord {
    type Error = StoreError;

    fn try_from(r: Row) -> Result<Self, StoreError> {
        let user_type = enum_parse(&r.user_type)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown user type {}", r.user_type)))?;
        let status = if r.disabled {
            UserStatus::Disabled
        } else if r.activated {
            UserStatus::Active
        } else {
            UserStatus::PendingActivation
        };
        Ok(UserRecord {
            tenant: r.tenant_id,
            customer_id: r.customer_id,
            user_id: r.user_id,
            email: r.email,
            given_name: r.given_name,
            family_name: r.family_name,
            language: r.language,
            user_type,
            status,
            activation_expires_at: r.activation_expires_at.map(time),
            created_at: time(r.created_at),
            updated_at: time(r.updated_at),
        })
    }
}

/// A LIKE pattern for "contains `text`", lowercased, its wildcards escaped with a backslash.
fn contains_pattern(text: &str) -> String {
    let escaped = text
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

impl Store {
    /// A page of a customer's users by (email, id) after the cursor `after`, optionally only
    /// those whose email, given, family or full name contains `text` (case-insensitively).
    /// Returns the page and whether more follow.
    pub async fn customer_users_page(
        &self,
        tenant: &str,
        customer: &str,
        text: Option<&str>,
        first: usize,
        after: Option<(&str, &str)>,
    ) -> Result<(Vec<UserRecord>, bool), StoreError> {
        let mut args: Vec<Arg> = vec![tenant.into(), customer.into()];
        let mut sql = format!(
            "SELECT {COLUMNS} FROM customer_users WHERE tenant_id = $1 AND customer_id = $2"
        );
        if let Some((email, id)) = after {
            args.push(email.into());
            args.push(id.into());
            sql.push_str(" AND (email > $3 OR (email = $3 AND user_id > $4))");
        }
        if let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) {
            args.push(Arg::Text(contains_pattern(text)));
            let n = args.len();
            sql.push_str(&format!(
                " AND (lower(email) LIKE ${n} ESCAPE '\\' \
                 OR lower(coalesce(given_name, '')) LIKE ${n} ESCAPE '\\' \
                 OR lower(coalesce(family_name, '')) LIKE ${n} ESCAPE '\\' \
                 OR lower(coalesce(given_name, '') || ' ' || coalesce(family_name, '')) LIKE ${n} ESCAPE '\\')"
            ));
        }
        sql.push_str(&format!(" ORDER BY email, user_id LIMIT {}", first + 1));
        let rows: Vec<Row> = self.db().fetch_all_planned(&sql, &args).await?;
        crate::db::keyset_page(rows, first)
    }

    /// One user of the tenant.
    pub async fn customer_user(
        &self,
        tenant: &str,
        user_id: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM customer_users WHERE tenant_id = $1 AND user_id = $2");
        let row: Option<Row> = self
            .db()
            .fetch_optional(&sql, &[tenant.into(), user_id.into()])
            .await?;
        row.map(UserRecord::try_from).transpose()
    }

    /// The user holding a pending activation token with this SHA-256 (any tenant: the
    /// token alone identifies it).
    pub async fn user_by_activation(
        &self,
        token_hash: &str,
    ) -> Result<Option<UserRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM customer_users WHERE activation_token_hash = $1");
        let row: Option<Row> = self
            .db()
            .fetch_optional(&sql, &[Arg::from(token_hash)])
            .await?;
        row.map(UserRecord::try_from).transpose()
    }
}
