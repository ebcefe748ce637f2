//! A declared table once checked: every path parsed, every type known, every
//! key mapped to its parameter. [`crate::validate`] builds it from the
//! declaration as written; [`crate::table`] serves it.

use std::time::Duration;

use crate::env::Template;
use crate::path::JsonPath;
use crate::types::ColumnType;

/// One checked `[[table]]`.
#[derive(Debug, Clone)]
pub struct Declared {
    /// SQL name.
    pub name: String,
    /// One line shown by `\d`.
    pub description: String,
    /// Where it was declared (`file:line`), for errors found later.
    pub origin: String,
    /// The list endpoint, with `${VAR}` and `{param}` still to fill in
    /// (`${VAR}` never in its query string).
    pub url: Template,
    /// The credential and where it is sent.
    pub auth: Option<Auth>,
    /// Fixed query parameters.
    pub params: Vec<(String, String)>,
    /// Where the rows are.
    pub rows: JsonPath,
    /// How the API pages; `None`: one request.
    pub paginate: Option<Paginate>,
    /// Client-side rate limit.
    pub rate: Option<Rate>,
    /// The columns, in order.
    pub columns: Vec<Column>,
    /// How long one request may take; `None`: the retry policy's default.
    pub timeout: Option<Duration>,
}

/// `auth = { header | query, value }`: the credential, sent only to the
/// url's scheme, host and port.
#[derive(Debug, Clone)]
pub struct Auth {
    /// Where it goes.
    pub via: AuthVia,
    /// Its value, the secret from `${VAR}`.
    pub value: Template,
}

/// Where a credential is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthVia {
    /// A request header, e.g. `Authorization`.
    Header(String),
    /// A query parameter, e.g. `api_key`: redacted (`***`) wherever a URL
    /// is printed.
    Query(String),
}

/// `rate = { per_second, burst }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests allowed at once.
    pub burst: u32,
}

/// One checked column.
#[derive(Debug, Clone)]
pub struct Column {
    /// SQL name.
    pub name: String,
    /// One line shown by `\d`.
    pub description: String,
    /// Its type.
    pub kind: ColumnType,
    /// Where its value is in one row.
    pub path: JsonPath,
    /// The parameter filters on it are sent as.
    pub key: Option<KeyParam>,
}

/// A key column's parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParam {
    /// The query parameter name, or the `{name}` placeholder in the URL.
    pub param: String,
    /// Whether a query must constrain the column.
    pub required: bool,
    /// Whether the value goes into the URL's path rather than the query.
    pub in_path: bool,
}

/// How the API pages.
#[derive(Debug, Clone)]
pub struct Paginate {
    /// The style.
    pub style: Style,
    /// Rows asked for per page.
    pub page_size: Option<u32>,
    /// The query parameter carrying `page_size`.
    pub page_size_param: Option<String>,
    /// A boolean saying whether more pages exist.
    pub more: Option<JsonPath>,
    /// The most pages one listing reads; a next page after the last is an
    /// error naming the table.
    pub max_pages: u64,
    /// Whether an empty page ends `link` and `cursor` paging (offset and page
    /// paging always end there).
    pub stop_on_empty: bool,
}

/// `paginate.max_pages` when the declaration does not say.
pub const DEFAULT_MAX_PAGES: u64 = 10_000;

/// The pagination styles.
#[derive(Debug, Clone)]
pub enum Style {
    /// RFC 8288 `Link: <...>; rel="next"` headers.
    Link,
    /// A cursor from the body, sent back as `param`.
    Cursor {
        /// The query parameter.
        param: String,
        /// Where the next cursor is.
        next: JsonPath,
    },
    /// A row offset, sent as `param`.
    Offset {
        /// The query parameter.
        param: String,
    },
    /// A page number, sent as `param`, starting at `first`.
    Page {
        /// The query parameter.
        param: String,
        /// The first page's number.
        first: u64,
    },
}

impl Style {
    /// The style's name as declarations write it.
    pub fn name(&self) -> &'static str {
        match self {
            Style::Link => "link",
            Style::Cursor { .. } => "cursor",
            Style::Offset { .. } => "offset",
            Style::Page { .. } => "page",
        }
    }
}

impl Declared {
    /// The key columns.
    pub fn keys(&self) -> impl Iterator<Item = (&Column, &KeyParam)> {
        self.columns.iter().filter_map(|c| c.key.as_ref().map(|k| (c, k)))
    }

    /// The environment variables the table needs that have no default.
    pub fn required_vars(&self) -> Vec<String> {
        let mut vars: Vec<String> = self
            .url
            .required_vars()
            .into_iter()
            .chain(self.auth.iter().flat_map(|a| a.value.required_vars()))
            .map(str::to_string)
            .collect();
        vars.dedup();
        vars
    }
}
