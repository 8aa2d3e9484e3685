//! Lists of customers: sort orders and keyset pagination (the filter is in `filter`).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use super::filter::{filter_sql, CustomerFilter};
use super::record::{CustomerRecord, CustomerRow, READ_COLUMNS as COLUMNS};
use crate::db::Arg;
use crate::{Store, StoreError};

/// What a list is sorted by; ties are broken by id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CustomerOrderField {
    #[default]
    CreatedAt,
    Name,
    Organization,
    Shortname,
    Seller,
    AccountStatus,
    UpdatedAt,
}

impl CustomerOrderField {
    fn expression(self) -> &'static str {
        match self {
            CustomerOrderField::CreatedAt => "created_at",
            CustomerOrderField::Name => "name",
            CustomerOrderField::Organization => "coalesce(organization, '')",
            CustomerOrderField::Shortname => "coalesce(shortname, '')",
            CustomerOrderField::Seller => "coalesce(seller, '')",
            CustomerOrderField::AccountStatus => "account_status",
            CustomerOrderField::UpdatedAt => "updated_at",
        }
    }

    fn key_of(self, record: &CustomerRecord) -> CursorKey {
        let p = &record.profile;
        match self {
            CustomerOrderField::CreatedAt => CursorKey::Int(record.created_at.timestamp_micros()),
            CustomerOrderField::Name => CursorKey::Text(p.name.clone()),
            CustomerOrderField::Organization => {
                CursorKey::Text(p.organization.clone().unwrap_or_default())
            }
            CustomerOrderField::Shortname => {
                CursorKey::Text(p.shortname.clone().unwrap_or_default())
            }
            CustomerOrderField::Seller => CursorKey::Text(p.seller.clone().unwrap_or_default()),
            CustomerOrderField::AccountStatus => {
                CursorKey::Text(record.account_status.as_str().to_string())
            }
            CustomerOrderField::UpdatedAt => CursorKey::Int(record.updated_at.timestamp_micros()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
enum CursorKey {
    Int(i64),
    Text(String),
}

/// A position in a sorted list: the sort key and id of the row it points at. Rows are
/// found by value, so a cursor stays valid while other customers are created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerCursor {
    #[serde(rename = "o")]
    order: CustomerOrderField,
    #[serde(rename = "k")]
    key: CursorKey,
    id: String,
}

impl CustomerCursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).expect("cursors serialise"))
    }

    pub fn decode(cursor: &str) -> Option<Self> {
        let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// A page request: `first`/`after` forwards or `last`/`before` backwards.
#[derive(Debug, Clone, Default)]
pub struct PageRequest {
    pub order: CustomerOrderField,
    pub descending: bool,
    pub first: Option<usize>,
    pub after: Option<CustomerCursor>,
    pub last: Option<usize>,
    pub before: Option<CustomerCursor>,
}

/// Why a page cannot be served.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("this cursor belongs to a list sorted another way")]
    CursorOrderMismatch,
}

/// One page of customers.
#[derive(Debug, Clone)]
pub struct CustomerPage {
    pub items: Vec<(CustomerCursor, CustomerRecord)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
}

impl Store {
    /// How many of the tenant's customers pass the filter.
    pub async fn count_customers(
        &self,
        tenant: &str,
        filter: &CustomerFilter,
    ) -> Result<i64, StoreError> {
        let mut args = Vec::new();
        let sql = format!(
            "SELECT count(*) FROM customers {}",
            filter_sql(tenant, filter, &mut args)
        );
        Ok(self.db().fetch_scalar(&sql, &args).await?.unwrap_or(0))
    }

    /// A page of the tenant's customers, by keyset: no offset, no scan of earlier pages.
    pub async fn list_customers(
        &self,
        tenant: &str,
        filter: &CustomerFilter,
        page: &PageRequest,
    ) -> Result<Result<CustomerPage, PageError>, StoreError> {
        for cursor in [&page.after, &page.before].into_iter().flatten() {
            if cursor.order != page.order {
                return Ok(Err(PageError::CursorOrderMismatch));
            }
        }
        let mut args = Vec::new();
        let mut sql = format!(
            "SELECT {COLUMNS} FROM customers {}",
            filter_sql(tenant, filter, &mut args)
        );
        let expr = page.order.expression();
        // Walking backwards reads in reverse order and flips the page afterwards.
        let backwards = page.last.is_some() && page.first.is_none();
        let ascending = page.descending == backwards;
        let mut bound = |cursor: &CustomerCursor, greater: bool, args: &mut Vec<Arg>| {
            args.push(match &cursor.key {
                CursorKey::Int(v) => Arg::Int(*v),
                CursorKey::Text(v) => Arg::Text(v.clone()),
            });
            args.push(Arg::Text(cursor.id.clone()));
            let op = if greater { ">" } else { "<" };
            sql.push_str(&format!(
                " AND ({expr}, id) {op} (${}, ${})",
                args.len() - 1,
                args.len()
            ));
        };
        if let Some(after) = &page.after {
            bound(after, !page.descending, &mut args);
        }
        if let Some(before) = &page.before {
            bound(before, page.descending, &mut args);
        }
        let limit = if backwards { page.last } else { page.first }.unwrap_or(50);
        let direction = if ascending { "ASC" } else { "DESC" };
        sql.push_str(&format!(
            " ORDER BY {expr} {direction}, id {direction} LIMIT {}",
            limit + 1
        ));
        // A filter on values the caller gave is planned for them each time (a generic plan
        // cannot know whether a seller has ten customers or all of them). The tenant's
        // whole list keeps its prepared statement and plan: no parse or plan per request.
        let rows: Vec<CustomerRow> = if filter.plan_depends_on_values() {
            self.db().fetch_all_planned(&sql, &args).await?
        } else {
            self.db().fetch_all(&sql, &args).await?
        };
        let more = rows.len() > limit;
        let mut items = rows
            .into_iter()
            .take(limit)
            .map(|row| {
                let record = CustomerRecord::try_from(row)?;
                let cursor = CustomerCursor {
                    order: page.order,
                    key: page.order.key_of(&record),
                    id: record.id.clone(),
                };
                Ok((cursor, record))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        if backwards {
            items.reverse();
        }
        Ok(Ok(CustomerPage {
            items,
            has_next_page: if backwards {
                page.before.is_some()
            } else {
                more
            },
            has_previous_page: if backwards {
                more
            } else {
                page.after.is_some()
            },
        }))
    }
}
