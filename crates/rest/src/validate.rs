//! From a declaration as written ([`crate::decl`]) to a checked one
//! ([`crate::model`]): every error names the file and the line of the value
//! at fault, and says what to write instead.

use std::collections::HashSet;
use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use crate::decl::{AuthDecl, ColumnDecl, PaginateDecl, TableDecl};
use crate::env::Template;
use crate::error::{Error, Result};
use crate::model::{Auth, AuthVia, Column, DEFAULT_MAX_PAGES, Declared, KeyParam, Paginate, Rate, Style};
use crate::path::JsonPath;
use crate::types::ColumnType;

/// A declarations text and its name, to turn byte offsets into lines.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The file name errors show.
    pub file: &'a str,
    /// Its text.
    pub text: &'a str,
}

impl Source<'_> {
    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.text.get(..offset).unwrap_or(self.text).matches('\n').count() + 1
    }

    /// An error at `span`.
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> Error {
        Error::Declaration {
            file: self.file.to_string(),
            line: self.line(span.start),
            message: message.into(),
        }
    }
}

/// Checks one `[[table]]`.
pub fn table(src: Source<'_>, decl: Spanned<TableDecl>) -> Result<Declared> {
    let span = decl.span();
    let decl = decl.into_inner();
    let name_span = decl.name.span();
    let name = decl.name.into_inner();
    let at = |span: Range<usize>, message: String| src.error(span, format!("table {name}: {message}"));
    if !is_identifier(&name) {
        return Err(
            src.error(name_span, format!("table name {name:?} must be lower-case letters, digits and _"))
        );
    }
    let url = checked_url(&decl.url).map_err(|m| at(decl.url.span(), m))?;
    let auth = decl.auth.map(|a| auth(a, &at)).transpose()?;
    if let Some(Auth { via: AuthVia::Query(param), .. }) = &auth
        && decl.params.contains_key(param)
    {
        return Err(at(decl.url.span(), format!("params also sets {param:?}, the auth query parameter")));
    }
    let timeout = decl
        .timeout_seconds
        .map(|t| {
            let (span, seconds) = (t.span(), t.into_inner());
            match seconds {
                s if s.is_finite() && s > 0.0 && s <= 3600.0 => Ok(Duration::from_secs_f64(s)),
                _ => Err(at(
                    span,
                    format!("timeout_seconds must be more than 0 and at most 3600, not {seconds}"),
                )),
            }
        })
        .transpose()?;
    let rows =
        JsonPath::parse(decl.rows.get_ref()).map_err(|m| at(decl.rows.span(), format!("rows: {m}")))?;
    let paginate = decl.paginate.map(|p| paginate(p, &at)).transpose()?;
    let rate = decl
        .rate
        .map(|r| {
            let (span, r) = (r.span(), r.into_inner());
            match r.per_second {
                0 => Err(at(span, "rate.per_second must be at least 1".into())),
                n => Ok(Rate { per_second: n, burst: r.burst.unwrap_or(n).max(1) }),
            }
        })
        .transpose()?;
    if decl.column.is_empty() {
        return Err(at(span, "declares no columns: add [[table.column]] entries".into()));
    }
    let mut names = HashSet::new();
    let mut columns = Vec::new();
    for c in decl.column {
        let span = c.span();
        let column = column(c.into_inner(), &at)?;
        if !names.insert(column.name.clone()) {
            return Err(at(span, format!("two columns are named {}", column.name)));
        }
        columns.push(column);
    }
    let mut params_in_path = placeholders(decl.url.get_ref());
    for column in &mut columns {
        if let Some(key) = column.key.as_mut() {
            key.in_path = params_in_path.remove(&key.param);
            if key.in_path && !key.required {
                return Err(at(
                    decl.url.span(),
                    format!(
                        "the url's {{{}}} needs a value: make column {}'s key required",
                        key.param, column.name
                    ),
                ));
            }
        }
    }
    if let Some(unused) = params_in_path.into_iter().next() {
        return Err(at(decl.url.span(), format!("the url's {{{unused}}} is no key column's param")));
    }
    if let Some(Auth { via: AuthVia::Query(param), .. }) = &auth
        && let Some(column) = columns.iter().find(|c| c.key.as_ref().is_some_and(|k| &k.param == param))
    {
        return Err(at(
            decl.url.span(),
            format!("column {}'s key param {param:?} is also the auth query parameter", column.name),
        ));
    }
    Ok(Declared {
        description: if decl.description.is_empty() {
            format!("Rows of {}.", decl.url.get_ref())
        } else {
            decl.description
        },
        name,
        origin: format!("{}:{}", src.file, src.line(span.start)),
        url,
        auth,
        params: decl.params.into_iter().collect(),
        rows,
        paginate,
        rate,
        columns,
        timeout,
    })
}

/// `auth = { header | query, value }`: one place to send it, and a secret
/// from the environment.
fn auth(auth: Spanned<AuthDecl>, at: &impl Fn(Range<usize>, String) -> Error) -> Result<Auth> {
    let (span, auth) = (auth.span(), auth.into_inner());
    let value = Template::parse(auth.value.get_ref()).map_err(|m| at(auth.value.span(), m))?;
    if !value.has_vars() {
        return Err(at(
            span,
            "auth.value must take its secret from the environment, e.g. \"Bearer ${API_TOKEN}\"; \
             never write a secret in the file"
                .into(),
        ));
    }
    let via = match (auth.header, auth.query) {
        (Some(header), None) if !header.is_empty() => AuthVia::Header(header),
        (None, Some(query)) if !query.is_empty() => AuthVia::Query(query),
        _ => {
            return Err(at(
                span,
                "auth needs either header (a request header, e.g. \"Authorization\") or query (a query \
                 parameter, e.g. \"api_key\"), not both"
                    .into(),
            ));
        }
    };
    Ok(Auth { via, value })
}

/// The url as a template: absolute (or starting with `${VAR}`, the API's
/// base), with `${VAR}` only before its query string and never in a
/// `user:password@` part, so no secret ends up in a URL that errors print.
fn checked_url(url: &Spanned<String>) -> Result<Template, String> {
    let template = Template::parse(url.get_ref())?;
    let (skeleton, names) = template.skeleton();
    let Some(after_scheme) = skeleton.strip_prefix("https://").or_else(|| skeleton.strip_prefix("http://"))
    else {
        return match names.first().filter(|_| skeleton.starts_with(Template::MARK)) {
            Some(name) => Err(host_variable(name)),
            None => Err(format!("url {:?} must start with http:// or https://", url.get_ref())),
        };
    };
    // The credential goes to the url's origin only, so the origin is
    // written out: a variable may fill the path, never the scheme or host.
    let authority_end = after_scheme.find(['/', '?', '#']).unwrap_or(after_scheme.len());
    if let Some(first) = after_scheme[..authority_end].find(Template::MARK) {
        let before = skeleton.len() - after_scheme.len();
        let index = skeleton[..before + first].matches(Template::MARK).count();
        return Err(host_variable(names.get(index).copied().unwrap_or("VAR")));
    }
    if let Some(query) = skeleton.find(['?', '#']) {
        let before = skeleton[..query].matches(Template::MARK).count();
        if let Some(name) = names.get(before) {
            return Err(format!(
                "${{{name}}} is in the url's query string; ${{VAR}} may fill the url's path only \
                 (URLs are printed in errors). A key the API takes as a query parameter is \
                 auth = {{ query = \"<parameter>\", value = \"${{{name}}}\" }}"
            ));
        }
    }
    let after_scheme = skeleton.split_once("://").map_or("", |(_, rest)| rest);
    let authority = &after_scheme[..after_scheme.find(['/', '?', '#']).unwrap_or(after_scheme.len())];
    if authority.contains('@') {
        return Err(
            "the url must not carry a user name or password (user:password@host): send the credential \
             with auth = { header, value }"
                .into(),
        );
    }
    Ok(template)
}

/// The error for `${name}` in a url's scheme, host or port.
fn host_variable(name: &str) -> String {
    format!(
        "${{{name}}} is in the url's scheme, host or port; ${{VAR}} may fill the url's path only, \
         so that the credential's destination is written in the file (for another host, such as a \
         GitHub Enterprise server, write its url)"
    )
}

/// The `{name}` placeholders of a URL (not `${VAR}` references).
fn placeholders(url: &str) -> HashSet<String> {
    let mut found = HashSet::new();
    let bytes = url.as_bytes();
    for (i, _) in url.match_indices('{') {
        if i > 0 && bytes[i - 1] == b'$' {
            continue;
        }
        if let Some(end) = url[i + 1..].find('}') {
            found.insert(url[i + 1..i + 1 + end].to_string());
        }
    }
    found
}

fn paginate(p: Spanned<PaginateDecl>, at: &impl Fn(Range<usize>, String) -> Error) -> Result<Paginate> {
    let (span, p) = (p.span(), p.into_inner());
    let style_span = p.style.span();
    let needs = |field: &str, value: Option<Spanned<String>>| {
        value
            .map(Spanned::into_inner)
            .ok_or_else(|| at(span.clone(), format!("paginate style {:?} needs {field}", p.style.get_ref())))
    };
    let path = |what: &str, v: &Spanned<String>| {
        JsonPath::parse(v.get_ref()).map_err(|m| at(v.span(), format!("{what}: {m}")))
    };
    let style = match p.style.get_ref().as_str() {
        "link" => Style::Link,
        "cursor" => {
            let next = p.next.as_ref().map(|n| path("paginate.next", n)).transpose()?;
            let next = next.ok_or_else(|| {
                at(
                    span.clone(),
                    "paginate style \"cursor\" needs next (the JSON path of the next cursor)".into(),
                )
            })?;
            Style::Cursor { param: needs("cursor_param", p.cursor_param)?, next }
        }
        "offset" => Style::Offset { param: needs("offset_param", p.offset_param)? },
        "page" => Style::Page { param: needs("page_param", p.page_param)?, first: p.first_page.unwrap_or(1) },
        other => {
            return Err(at(
                style_span,
                format!("unknown paginate style {other:?}: use link, cursor, offset or page"),
            ));
        }
    };
    let more = p.more.as_ref().map(|m| path("paginate.more", m)).transpose()?;
    // `page_size` alone still tells a short (last) page; a parameter without a size says nothing.
    if p.page_size_param.is_some() && p.page_size.is_none() {
        return Err(at(span, "paginate.page_size_param (or limit_param) needs page_size".into()));
    }
    let max_pages = match p.max_pages {
        None => DEFAULT_MAX_PAGES,
        Some(m) => match u64::try_from(*m.get_ref()) {
            Ok(n) if n >= 1 => n,
            _ => {
                return Err(at(
                    m.span(),
                    format!("paginate.max_pages must be at least 1, not {}", m.get_ref()),
                ));
            }
        },
    };
    Ok(Paginate {
        style,
        page_size: p.page_size,
        page_size_param: p.page_size_param,
        more,
        max_pages,
        stop_on_empty: p.stop_on_empty.unwrap_or(true),
    })
}

fn column(c: ColumnDecl, at: &impl Fn(Range<usize>, String) -> Error) -> Result<Column> {
    let name_span = c.name.span();
    let name = c.name.into_inner();
    if !is_identifier(&name) {
        return Err(at(name_span, format!("column name {name:?} must be lower-case letters, digits and _")));
    }
    let column_at = |span: Range<usize>, message: String| at(span, format!("column {name}: {message}"));
    let path = match &c.path {
        Some(p) => JsonPath::parse(p.get_ref()).map_err(|m| column_at(p.span(), m))?,
        None => JsonPath::parse(&format!("$.{name}")).map_err(|m| column_at(name_span.clone(), m))?,
    };
    let (kind_text, kind_span) = match &c.kind {
        Some(k) => (k.get_ref().as_str(), k.span()),
        None => ("text", name_span.clone()),
    };
    let format_span = c.format.as_ref().map(Spanned::span).unwrap_or(kind_span.clone());
    let kind = ColumnType::parse(kind_text, c.format.as_ref().map(|f| f.get_ref().as_str()))
        .map_err(|m| column_at(if m.contains("format") { format_span } else { kind_span }, m))?;
    let key = match c.key {
        Some(key) => {
            let (span, key) = (key.span(), key.into_inner());
            let param = key.param.filter(|p| !p.is_empty()).ok_or_else(|| {
                column_at(
                    span.clone(),
                    "key needs a param: the query parameter its values are sent as".into(),
                )
            })?;
            if kind != ColumnType::Text {
                return Err(column_at(span, "a key column must be of type text".into()));
            }
            Some(KeyParam { param, required: key.required, in_path: false })
        }
        None => None,
    };
    Ok(Column { name, description: c.description, kind, path, key })
}

/// A SQL name that needs no quoting.
fn is_identifier(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
