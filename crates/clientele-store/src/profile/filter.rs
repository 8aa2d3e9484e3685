//! Which customers a list shows: the filter and the `WHERE` clause it becomes.

use chrono::{DateTime, Utc};
use clientele_domain::customer::CustomerType;
use clientele_domain::AccountStatus;

use super::search::fold;
use crate::db::{enum_text, Arg};
use crate::tree::subtree_range;

/// Which customers a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// Substring of any text field (`search::search_text`), without case or accents.
    pub text: Option<String>,
    pub customer_type: Option<CustomerType>,
    /// Only customers of one of these types (with `customer_type`: of both).
    pub customer_types: Option<Vec<CustomerType>>,
    /// This seller exactly: the reach of a seller principal (`within_reach`).
    pub seller: Option<String>,
    /// This seller in any case: the filter a caller gives.
    pub seller_any_case: Option<String>,
    pub account_status: Option<AccountStatus>,
    /// Only customers in one of these statuses (with `account_status`: in both). Deleted
    /// customers are listed when DELETED is among them.
    pub account_statuses: Option<Vec<AccountStatus>>,
    /// Created at or after this instant.
    pub created_from: Option<DateTime<Utc>>,
    /// Created before this instant.
    pub created_before: Option<DateTime<Utc>>,
    /// `None` or `Some(false)`: real customers only; `Some(true)`: test accounts only.
    pub test_account: Option<bool>,
    /// Deleted customers are left out unless this is set or `account_status` is DELETED.
    pub include_deleted: bool,
    /// Only this customer (for principals bound to one customer).
    pub only_id: Option<String>,
    /// `Some(false)` leaves the tenant's own company out; `Some(true)` shows only it.
    pub own_company: Option<bool>,
    /// Test accounts and real customers together (for exports); overrides `test_account`.
    pub include_test_accounts: bool,
    /// Only this customer (id, ancestry) and the customers below it (for customer-bound
    /// principals, who see their customer's subtree).
    pub subtree_of: Option<(String, String)>,
    /// `Some(true)`: only customers with an open deletion request; `Some(false)`: only
    /// customers without one.
    pub deletion_requested: Option<bool>,
}

impl CustomerFilter {
    /// Whether the best plan depends on a value the caller gave (a text, a seller, a
    /// status, a type, a range, a subtree): such lists are planned for their values each
    /// time. The others (the tenant's whole list, in any order, a page after a cursor) have
    /// one good plan, which PostgreSQL keeps with the prepared statement.
    pub(crate) fn plan_depends_on_values(&self) -> bool {
        self.text.is_some()
            || self.customer_type.is_some()
            || self.customer_types.is_some()
            || self.seller.is_some()
            || self.seller_any_case.is_some()
            || self.account_status.is_some()
            || self.account_statuses.is_some()
            || self.created_from.is_some()
            || self.created_before.is_some()
            || self.subtree_of.is_some()
            || self.deletion_requested.is_some()
    }
}

/// Builds `WHERE …` and its arguments for a tenant's filtered customers.
pub(crate) fn filter_sql(tenant: &str, filter: &CustomerFilter, args: &mut Vec<Arg>) -> String {
    args.push(tenant.into());
    let mut clauses = vec!["tenant_id = $1".to_string()];
    let push = |clauses: &mut Vec<String>, clause: &str, arg: Arg, args: &mut Vec<Arg>| {
        args.push(arg);
        clauses.push(clause.replace('?', &format!("${}", args.len())));
    };
    if let Some(text) = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        // Folded as `search_text` is (lower case, no accents); % and _ match literally.
        let like = |t: &str| {
            let escaped = t
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            Arg::Text(format!("%{escaped}%"))
        };
        let typed = fold(text);
        // A name is stored normalised ("Customer title 1" as "customer-title-1"), so the
        // text also matches as the domain would normalise it, beside as typed.
        let normalised = fold(&clientele_domain::customer::normalise_name(text));
        if normalised == typed {
            push(
                &mut clauses,
                "search_text LIKE ? ESCAPE '\\'",
                like(&typed),
                args,
            );
        } else {
            args.push(like(&typed));
            let raw = args.len();
            push(
                &mut clauses,
                &format!("(search_text LIKE ${raw} ESCAPE '\\' OR search_text LIKE ? ESCAPE '\\')"),
                like(&normalised),
                args,
            );
        }
    }
    if let Some(kind) = filter.customer_type {
        push(
            &mut clauses,
            "customer_type = ?",
            Arg::Text(enum_text(&kind)),
            args,
        );
    }
    if let Some(kinds) = &filter.customer_types {
        let kinds = kinds.iter().map(|k| Arg::Text(enum_text(k))).collect();
        clauses.push(any_of("customer_type", kinds, args));
    }
    if let Some(from) = filter.created_from {
        push(
            &mut clauses,
            "created_at >= ?",
            Arg::Int(from.timestamp_micros()),
            args,
        );
    }
    if let Some(before) = filter.created_before {
        push(
            &mut clauses,
            "created_at < ?",
            Arg::Int(before.timestamp_micros()),
            args,
        );
    }
    // Values fixed by the code, not given by the caller, are literals: PostgreSQL's generic
    // plan then knows them (a parameter in `account_status <> $2` over a column with one
    // distinct value is estimated to match nothing, and the plan sorts the whole table).
    if let Some(own) = filter.own_company {
        clauses.push(format!("own_company = {}", sql_bool(own)));
    }
    if let Some(id) = &filter.only_id {
        push(&mut clauses, "id = ?", id.as_str().into(), args);
    }

    if let Some(seller) = &filter.seller {
        push(&mut clauses, "seller = ?", seller.as_str().into(), args);
    }
    if let Some(seller) = &filter.seller_any_case {
        push(
            &mut clauses,
            "lower(seller) = lower(?)",
            seller.trim().into(),
            args,
        );
    }
    if let Some(statuses) = &filter.account_statuses {
        let statuses = statuses.iter().map(|s| s.as_str().into()).collect();
        clauses.push(any_of("account_status", statuses, args));
    }
    if let Some(status) = filter.account_status {
        push(
            &mut clauses,
            "account_status = ?",
            status.as_str().into(),
            args,
        );
    } else if !filter.include_deleted && filter.account_statuses.is_none() {
        clauses.push(format!(
            "account_status <> '{}'",
            AccountStatus::Deleted.as_str()
        ));
    }
    if !filter.include_test_accounts {
        let test = filter.test_account.unwrap_or(false);
        clauses.push(format!("test_account = {}", sql_bool(test)));
    }
    if let Some(requested) = filter.deletion_requested {
        let exists =
            "EXISTS (SELECT 1 FROM deletion_requests d WHERE d.tenant_id = customers.tenant_id \
                      AND d.customer_id = customers.id AND d.status = 'OPEN')";
        clauses.push(if requested {
            exists.to_string()
        } else {
            format!("NOT {exists}")
        });
    }
    if let Some((id, ancestry)) = &filter.subtree_of {
        let (start, end) = subtree_range(ancestry, id);
        args.push(id.as_str().into());
        args.push(Arg::Text(start));
        args.push(Arg::Text(end));
        let n = args.len();
        clauses.push(format!(
            "(id = ${} OR (ancestry >= ${} AND ancestry < ${}))",
            n - 2,
            n - 1,
            n
        ));
    }
    format!("WHERE {}", clauses.join(" AND "))
}

/// A boolean literal both backends read (SQLite 3.23 and later knows TRUE and FALSE).
fn sql_bool(value: bool) -> &'static str {
    if value {
        "TRUE"
    } else {
        "FALSE"
    }
}

/// `column IN (…)` over `values`; nothing matches an empty list.
fn any_of(column: &str, values: Vec<Arg>, args: &mut Vec<Arg>) -> String {
    if values.is_empty() {
        return "1 = 0".into();
    }
    let first = args.len() + 1;
    args.extend(values);
    let placeholders: Vec<String> = (first..=args.len()).map(|i| format!("${i}")).collect();
    format!("{column} IN ({})", placeholders.join(", "))
}
