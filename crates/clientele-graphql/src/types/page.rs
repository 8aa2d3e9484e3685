//! Pages and cursors: `PageInfo`, the page-size checks every list shares, and the checks of
//! each kind of cursor the API gives out (customer lists, a customer's history, the log).

use async_graphql::SimpleObject;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use clientele_domain::Rule;
use clientele_store::{CustomerCursor, LogPosition};

use crate::error::{ApiError, ApiResult};

/// The largest page any list serves.
pub const MAX_PAGE_SIZE: i32 = 100;
/// The page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: i32 = 20;

/// Where a page sits in its list. Pass `endCursor` as `after` for the next page (and `startCursor` as `before` for the previous one, where the list takes it).
#[derive(SimpleObject, Debug, Clone)]
pub struct PageInfo {
    /// True when more items follow this page.
    pub has_next_page: bool,
    /// True when items come before this page.
    pub has_previous_page: bool,
    /// The cursor of the first item; null on an empty page.
    pub start_cursor: Option<String>,
    /// The cursor of the last item; null on an empty page.
    pub end_cursor: Option<String>,
}

impl PageInfo {
    /// The page info of a page of `edges`, whose cursors `cursor` gives.
    pub fn of<E>(
        edges: &[E],
        cursor: impl Fn(&E) -> String,
        has_next_page: bool,
        has_previous_page: bool,
    ) -> Self {
        PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: edges.first().map(&cursor),
            end_cursor: edges.last().map(&cursor),
        }
    }
}

/// Checks a page-size argument (`first` or `last`): 0 to `MAX_PAGE_SIZE`.
pub fn page_size(name: &str, value: Option<i32>) -> ApiResult<Option<usize>> {
    match value {
        Some(n) if !(0..=MAX_PAGE_SIZE).contains(&n) => Err(ApiError::argument(
            name,
            Rule::Range,
            format!("{name} must be between 0 and {MAX_PAGE_SIZE}"),
        )),
        other => Ok(other.map(|n| n as usize)),
    }
}

/// The size of a forward-only page: `first`, checked, or `DEFAULT_PAGE_SIZE`.
pub fn first(value: Option<i32>) -> ApiResult<usize> {
    Ok(page_size("first", value)?.unwrap_or(DEFAULT_PAGE_SIZE as usize))
}

/// A cursor of a customer list (`after` or `before`).
pub fn customer_cursor(name: &str, value: Option<String>) -> ApiResult<Option<CustomerCursor>> {
    value
        .map(|c| {
            CustomerCursor::decode(&c).ok_or_else(|| {
                ApiError::argument(
                    name,
                    Rule::Format,
                    format!("{name} is not a cursor this list gave out"),
                )
            })
        })
        .transpose()
}

/// A cursor of a customer's history: the version after which the page starts (0 without one).
pub fn history_cursor(after: Option<String>) -> ApiResult<i64> {
    match after {
        None => Ok(0),
        Some(c) => c.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
            ApiError::argument(
                "after",
                Rule::Format,
                "after is not a cursor this history gave out",
            )
        }),
    }
}

/// A cursor as subscriptions give it out: `<transaction>-<position>` in the global log.
pub fn encode_cursor(position: LogPosition) -> String {
    format!("{}-{}", position.tx, position.position)
}

/// A subscription's `after`: a cursor it gave out.
pub fn decode_cursor(cursor: &str) -> ApiResult<LogPosition> {
    let invalid = || {
        ApiError::argument(
            "after",
            Rule::Format,
            "after is not a cursor a subscription gave out",
        )
    };
    let (tx, position) = cursor.split_once('-').ok_or_else(invalid)?;
    let tx = tx.parse::<i64>().map_err(|_| invalid())?;
    let position = position.parse::<i64>().map_err(|_| invalid())?;
    if tx < 0 || position < 0 {
        return Err(invalid());
    }
    Ok(LogPosition { tx, position })
}

/// A cursor of a list sorted by a text key and then by id (users by email, inner customers
/// by name): the base64url of the JSON pair `[key, id]`.
pub fn encode_key_cursor(key: &str, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(key, id)).unwrap_or_default())
}

/// A cursor `encode_key_cursor` gave out, checked: the `(key, id)` to start after.
pub fn key_cursor(name: &str, value: Option<&str>) -> ApiResult<Option<(String, String)>> {
    value
        .map(|c| {
            URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|bytes| serde_json::from_slice::<(String, String)>(&bytes).ok())
                .ok_or_else(|| {
                    ApiError::argument(
                        name,
                        Rule::Format,
                        format!("{name} is not a cursor this list gave out"),
                    )
                })
        })
        .transpose()
}
