//! The declaration format as written: `[[table]]` entries and their
//! `[[table.column]]`s, deserialized with every unknown key refused.
//!
//! Values that are checked after parsing (JSON paths, types, styles) are kept
//! [`Spanned`], so [`crate::validate`] can name their line. The meaning of
//! each key is in docs/guide/declared-tables.md.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

/// A file of declarations (`tables/*.toml`): only `[[table]]` entries.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TablesFile {
    /// The declared tables.
    #[serde(default)]
    pub table: Vec<Spanned<TableDecl>>,
}

/// The `[[table]]` entries of a `skyglue.toml`, whose other keys the core
/// config checks.
#[derive(Debug, Deserialize)]
pub struct ConfigTables {
    /// The declared tables.
    #[serde(default)]
    pub table: Vec<Spanned<TableDecl>>,
}

/// One `[[table]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableDecl {
    /// SQL name.
    pub name: Spanned<String>,
    /// One line shown by `\d`.
    #[serde(default)]
    pub description: String,
    /// The list endpoint; `{param}` placeholders are path parameters of
    /// required keys, `${VAR}` / `${VAR:-default}` read the environment.
    pub url: Spanned<String>,
    /// The credential: one header, or one query parameter.
    pub auth: Option<Spanned<AuthDecl>>,
    /// Fixed query parameters sent with every request.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// JSON path to the array of rows.
    pub rows: Spanned<String>,
    /// How the API pages; absent: one request.
    pub paginate: Option<Spanned<PaginateDecl>>,
    /// Client-side rate limit.
    pub rate: Option<Spanned<RateDecl>>,
    /// How long one request may take, in seconds (default 30).
    pub timeout_seconds: Option<Spanned<f64>>,
    /// The columns.
    #[serde(default)]
    pub column: Vec<Spanned<ColumnDecl>>,
}

/// `auth = { header, value }` or `auth = { query, value }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthDecl {
    /// Header name, e.g. `Authorization`.
    pub header: Option<String>,
    /// Query parameter name, e.g. `api_key`, for APIs that take the key in
    /// the URL.
    pub query: Option<String>,
    /// The value; its secret must come from `${VAR}`.
    pub value: Spanned<String>,
}

/// `paginate = { style, ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaginateDecl {
    /// `link`, `cursor`, `offset` or `page`.
    pub style: Spanned<String>,
    /// Rows per page: asked for with `page_size_param`, else the API's own.
    pub page_size: Option<u32>,
    /// The query parameter carrying `page_size` (`limit_param` is a synonym).
    #[serde(alias = "limit_param")]
    pub page_size_param: Option<String>,
    /// `cursor`: the query parameter carrying the cursor.
    pub cursor_param: Option<Spanned<String>>,
    /// `cursor`: JSON path to the next cursor in the body.
    pub next: Option<Spanned<String>>,
    /// `offset`: the query parameter carrying the offset.
    pub offset_param: Option<Spanned<String>>,
    /// `page`: the query parameter carrying the page number.
    pub page_param: Option<Spanned<String>>,
    /// `page`: the number of the first page (default 1).
    pub first_page: Option<u64>,
    /// JSON path to a boolean saying whether more pages exist.
    pub more: Option<Spanned<String>>,
    /// The most pages one listing reads (default 10,000).
    pub max_pages: Option<Spanned<i64>>,
    /// Whether an empty page ends `link` and `cursor` paging (default true).
    pub stop_on_empty: Option<bool>,
}

/// `rate = { per_second, burst }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateDecl {
    /// Sustained requests per second.
    pub per_second: u32,
    /// Requests allowed at once (default `per_second`).
    pub burst: Option<u32>,
}

/// One `[[table.column]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnDecl {
    /// SQL name.
    pub name: Spanned<String>,
    /// JSON path into one row (default `$.<name>`).
    pub path: Option<Spanned<String>>,
    /// `text` (default), `integer`, `float`, `boolean`, `timestamp` or `json`.
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    /// Timestamp format: `rfc3339` (default), `unix`, `unix_ms`, or a
    /// chrono `strftime` pattern.
    pub format: Option<Spanned<String>>,
    /// One line shown by `\d`.
    #[serde(default)]
    pub description: String,
    /// Pushes filters on this column into a query (or path) parameter.
    pub key: Option<Spanned<KeyDecl>>,
}

/// `key = { param, required }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyDecl {
    /// The query parameter (or `{param}` in the URL) values are sent as.
    pub param: Option<String>,
    /// Whether a query must constrain the column.
    #[serde(default)]
    pub required: bool,
}
