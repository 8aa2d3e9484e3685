//! Deletion notices: who a tenant tells about deletion requests, which notices are owed
//! (a request made, cancelled, carried out, or due within a day), and the claim and the
//! record of each one mailed, so that every notice goes out at least once across restarts
//! and instances.

use chrono::{DateTime, Utc};

use crate::db::{time, Arg};
use crate::{Store, StoreError};

/// What a notice tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Requested,
    Cancelled,
    CarriedOut,
    /// The request falls due within a day.
    DueSoon,
}

impl NoticeKind {
    pub const ALL: [NoticeKind; 4] = [
        NoticeKind::Requested,
        NoticeKind::Cancelled,
        NoticeKind::CarriedOut,
        NoticeKind::DueSoon,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::Requested => "REQUESTED",
            NoticeKind::Cancelled => "CANCELLED",
            NoticeKind::CarriedOut => "CARRIED_OUT",
            NoticeKind::DueSoon => "DUE_SOON",
        }
    }

    /// Which requests owe this notice (`r`: the request, `s`: the tenant's settings).
    fn condition(self) -> &'static str {
        match self {
            NoticeKind::Requested => "r.requested_at >= s.deletion_notices_since",
            NoticeKind::Cancelled => {
                "r.status = 'CANCELLED' AND r.closed_at >= s.deletion_notices_since"
            }
            NoticeKind::CarriedOut => {
                "r.status = 'CARRIED_OUT' AND r.closed_at >= s.deletion_notices_since"
            }
            NoticeKind::DueSoon => {
                "r.status = 'OPEN' AND r.due_at <= $3 AND r.due_at >= s.deletion_notices_since"
            }
        }
    }
}

/// Who a tenant tells about deletion requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeSettings {
    pub recipients: Vec<String>,
    pub language: String,
}

/// A notice owed: the request, its customer's name and the tenant's recipients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingNotice {
    pub kind: NoticeKind,
    pub tenant_id: String,
    pub customer_id: String,
    pub customer_name: String,
    pub request_id: String,
    pub due_at: DateTime<Utc>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub closed_by: Option<String>,
    pub recipients: Vec<String>,
    pub language: String,
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    tenant_id: String,
    customer_id: String,
    customer_name: String,
    request_id: String,
    due_at: i64,
    reason: Option<String>,
    note: Option<String>,
    closed_by: Option<String>,
    recipients: String,
    language: String,
}

#[derive(sqlx::FromRow)]
struct SettingsRow {
    deletion_notice_recipients: String,
    deletion_notice_language: String,
}

impl Store {
    /// Who the tenant tells (nobody, in English, until it says).
    pub async fn notice_settings(&self, tenant: &str) -> Result<NoticeSettings, StoreError> {
        let row: Option<SettingsRow> = self
            .db()
            .fetch_optional(
                "SELECT deletion_notice_recipients, deletion_notice_language FROM tenant_settings WHERE tenant_id = $1",
                &[tenant.into()],
            )
            .await?;
        Ok(match row {
            Some(row) => NoticeSettings {
                recipients: serde_json::from_str(&row.deletion_notice_recipients)
                    .unwrap_or_default(),
                language: row.deletion_notice_language,
            },
            None => NoticeSettings {
                recipients: Vec::new(),
                language: "en".into(),
            },
        })
    }

    /// Notices owed at `now`, every tenant, soonest due first: none sent, and none claimed
    /// after `stale` (a claim older than that was abandoned).
    pub async fn pending_notices(
        &self,
        kind: NoticeKind,
        now: DateTime<Utc>,
        stale: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<PendingNotice>, StoreError> {
        let sql = format!(
            "SELECT r.tenant_id, r.customer_id, c.name AS customer_name, r.request_id, r.due_at, r.reason, \
             r.note, r.closed_by, s.deletion_notice_recipients AS recipients, s.deletion_notice_language AS language \
             FROM deletion_requests r \
             JOIN tenant_settings s ON s.tenant_id = r.tenant_id \
             JOIN customers c ON c.tenant_id = r.tenant_id AND c.id = r.customer_id \
             WHERE s.deletion_notice_recipients <> '[]' AND {} AND NOT EXISTS (\
               SELECT 1 FROM deletion_notices n WHERE n.tenant_id = r.tenant_id AND n.customer_id = r.customer_id \
               AND n.request_id = r.request_id AND n.kind = $1 AND (n.sent_at IS NOT NULL OR n.claimed_at >= $2)) \
             ORDER BY r.due_at LIMIT $4",
            kind.condition()
        );
        let soon = now + chrono::Duration::days(1);
        let rows: Vec<PendingRow> = self
            .db()
            .fetch_all(
                &sql,
                &[
                    kind.as_str().into(),
                    Arg::Int(stale.timestamp_micros()),
                    Arg::Int(soon.timestamp_micros()),
                    Arg::Int(limit),
                ],
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| PendingNotice {
                kind,
                tenant_id: r.tenant_id,
                customer_id: r.customer_id,
                customer_name: r.customer_name,
                request_id: r.request_id,
                due_at: time(r.due_at),
                reason: r.reason,
                note: r.note,
                closed_by: r.closed_by,
                recipients: serde_json::from_str(&r.recipients).unwrap_or_default(),
                language: r.language,
            })
            .collect())
    }

    /// Claims a notice for this instance; false when it was sent, or another claim newer
    /// than `stale` holds it.
    pub async fn claim_notice(
        &self,
        notice: &PendingNotice,
        now: DateTime<Utc>,
        stale: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut tx = self.db().begin().await?;
        let claimed = tx
            .execute(
                "INSERT INTO deletion_notices (tenant_id, customer_id, request_id, kind, claimed_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id, customer_id, request_id, kind) \
                 DO UPDATE SET claimed_at = excluded.claimed_at \
                 WHERE deletion_notices.sent_at IS NULL AND deletion_notices.claimed_at < $6",
                &[
                    notice.tenant_id.as_str().into(),
                    notice.customer_id.as_str().into(),
                    notice.request_id.as_str().into(),
                    notice.kind.as_str().into(),
                    Arg::Int(now.timestamp_micros()),
                    Arg::Int(stale.timestamp_micros()),
                ],
            )
            .await?;
        tx.commit().await?;
        Ok(claimed == 1)
    }

    /// Records that a claimed notice was handed to the mail server.
    pub async fn notice_sent(
        &self,
        notice: &PendingNotice,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.db().begin().await?;
        tx.execute(
            "UPDATE deletion_notices SET sent_at = $5 WHERE tenant_id = $1 AND customer_id = $2 \
             AND request_id = $3 AND kind = $4",
            &[
                notice.tenant_id.as_str().into(),
                notice.customer_id.as_str().into(),
                notice.request_id.as_str().into(),
                notice.kind.as_str().into(),
                Arg::Int(now.timestamp_micros()),
            ],
        )
        .await?;
        tx.commit().await
    }
}
