//! One page's request and where the next page is: the URL a page token
//! stands for, and the token of the page after it, for each pagination style.
//!
//! A token is what [`skyglue_core::paging::pages_at_most`] carries between
//! pages: the `Link` URL, the cursor, the offset or the page number. That loop
//! stops on the last page, and with an error on an API that leads back to a
//! page already read or past `paginate.max_pages`. An empty page is the last
//! (for `link` and `cursor` unless `stop_on_empty = false`).

use http::HeaderMap;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use crate::model::{Declared, KeyParam, Style};

/// Characters escaped in a path parameter: `/` is kept, so
/// `{repo}` = `acme/web` fills `/repos/{repo}/...` as GitHub expects.
const PATH_PARAM: &AsciiSet =
    &NON_ALPHANUMERIC.remove(b'/').remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// The key values one listing is asked for: the key and its value.
pub type Listing = Vec<(KeyParam, String)>;

/// The URL of the page `token` names (`None`: the first page). `base` is the
/// declared URL with its `${VAR}`s filled in.
pub fn page_url(decl: &Declared, base: &str, listing: &Listing, token: Option<&str>) -> String {
    let paginate = decl.paginate.as_ref();
    if let (Some(next), Some(Style::Link)) = (token, paginate.map(|p| &p.style)) {
        return absolute(base, next);
    }
    let mut path = base.to_string();
    for (key, value) in listing.iter().filter(|(k, _)| k.in_path) {
        path =
            path.replace(&format!("{{{}}}", key.param), &utf8_percent_encode(value, PATH_PARAM).to_string());
    }
    let mut query = form_urlencoded::Serializer::new(String::new());
    for (name, value) in &decl.params {
        query.append_pair(name, value);
    }
    for (key, value) in listing.iter().filter(|(k, _)| !k.in_path) {
        query.append_pair(&key.param, value);
    }
    if let Some(p) = paginate {
        if let (Some(param), Some(size)) = (&p.page_size_param, p.page_size) {
            query.append_pair(param, &size.to_string());
        }
        match (&p.style, token) {
            (Style::Cursor { param, .. }, Some(cursor)) => {
                query.append_pair(param, cursor);
            }
            (Style::Offset { param }, _) => {
                query.append_pair(param, token.unwrap_or("0"));
            }
            (Style::Page { param, first }, _) => {
                query.append_pair(param, &token.map_or_else(|| first.to_string(), str::to_string));
            }
            _ => {}
        }
    }
    let query = query.finish();
    match (query.is_empty(), path.contains('?')) {
        (true, _) => path,
        (false, true) => format!("{path}&{query}"),
        (false, false) => format!("{path}?{query}"),
    }
}

/// What a page says about the next one.
#[derive(Debug)]
pub struct PageFacts<'a> {
    /// The response headers.
    pub headers: &'a HeaderMap,
    /// The parsed body.
    pub body: &'a Value,
    /// Rows on this page.
    pub rows: usize,
    /// This page's token.
    pub token: Option<&'a str>,
}

/// The next page's token, `Ok(None)` on the last page, or the JSON path
/// that did not hold what pagination needs (`paginate.more`, `paginate.next`)
/// and what it held instead.
pub fn next_token(decl: &Declared, page: &PageFacts<'_>) -> Result<Option<String>, (String, String)> {
    let Some(p) = &decl.paginate else { return Ok(None) };
    if let Some(more) = &p.more {
        match more.first(page.body) {
            Some(Value::Bool(true)) => {}
            None | Some(Value::Bool(false) | Value::Null) => return Ok(None),
            Some(other) => {
                return Err((more.text().to_string(), format!("expected true or false, found {other}")));
            }
        }
    }
    // A short page is the last, unless the API says otherwise with `more`.
    let short = p.page_size.is_some_and(|size| page.rows < size as usize) && p.more.is_none();
    // An API that keeps handing out next pages with nothing on them would page on for ever.
    let empty_ends = page.rows == 0 && p.stop_on_empty;
    Ok(match &p.style {
        Style::Link | Style::Cursor { .. } if empty_ends => None,
        Style::Link => next_link(page.headers),
        Style::Cursor { next, .. } => match next.first(page.body) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.is_empty()),
            Some(n @ Value::Number(_)) => Some(n.to_string()),
            Some(other) => {
                return Err((next.text().to_string(), format!("expected a cursor string, found {other}")));
            }
        },
        Style::Offset { .. } if page.rows == 0 || short => None,
        Style::Offset { .. } => {
            let offset: u64 = page.token.and_then(|t| t.parse().ok()).unwrap_or(0);
            Some((offset + page.rows as u64).to_string())
        }
        Style::Page { .. } if page.rows == 0 || short => None,
        Style::Page { first, .. } => {
            let current: u64 = page.token.and_then(|t| t.parse().ok()).unwrap_or(*first);
            Some((current + 1).to_string())
        }
    })
}

/// The `rel="next"` target of the `Link` headers (RFC 8288).
pub fn next_link(headers: &HeaderMap) -> Option<String> {
    headers.get_all(http::header::LINK).iter().filter_map(|v| v.to_str().ok()).find_map(|link| {
        link.split(',').find_map(|part| {
            let (target, params) = part.split_once(';')?;
            let next = params.split(';').any(|param| {
                let Some((name, value)) = param.split_once('=') else { return false };
                name.trim().eq_ignore_ascii_case("rel")
                    && value
                        .trim()
                        .trim_matches('"')
                        .split_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            });
            next.then(|| target.trim().trim_start_matches('<').trim_end_matches('>').to_string())
        })
    })
}

/// `next` made absolute against `base` (a `Link` may be a path, or
/// `//host/path` on the same scheme). Whether it may be requested is
/// [`crate::secret::Target::check`]'s decision, not this function's.
fn absolute(base: &str, next: &str) -> String {
    let next = next.trim();
    let scheme = base.split_once("://").map_or("https", |(scheme, _)| scheme);
    let has_scheme = next.split_once("://").is_some_and(|(s, _)| {
        !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    });
    if has_scheme {
        return next.to_string();
    }
    if let Some(elsewhere) = next.strip_prefix("//") {
        return format!("{scheme}://{elsewhere}");
    }
    let origin_end = base.find("://").map(|i| i + 3).and_then(|s| base[s..].find('/').map(|e| s + e));
    let origin = origin_end.map_or(base, |end| &base[..end]);
    format!("{origin}/{}", next.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::from_text;
    use serde_json::json;

    fn decl(paginate: &str) -> Declared {
        let text = format!(
            "[[table]]\nname = \"t\"\nurl = \"https://api.example.com/repos/{{repo}}/items\"\nrows = \"$.items[*]\"\n\
             params = {{ state = \"all\" }}\npaginate = {paginate}\n\
             [[table.column]]\nname = \"repo\"\nkey = {{ param = \"repo\", required = true }}\n\
             [[table.column]]\nname = \"status\"\nkey = {{ param = \"status\" }}\n"
        );
        from_text("t.toml", &text).expect("valid").remove(0)
    }

    fn listing(d: &Declared) -> Listing {
        let key = |i: usize| d.columns[i].key.clone().expect("key");
        vec![(key(0), "acme/web app".into()), (key(1), "open".into())]
    }

    #[test]
    fn keys_fill_the_path_and_the_query() {
        let d =
            decl("{ style = \"offset\", offset_param = \"offset\", limit_param = \"limit\", page_size = 2 }");
        let base = "https://api.example.com/repos/{repo}/items";
        assert_eq!(
            page_url(&d, base, &listing(&d), None),
            "https://api.example.com/repos/acme/web%20app/items?state=all&status=open&limit=2&offset=0"
        );
        assert!(page_url(&d, base, &listing(&d), Some("4")).ends_with("&offset=4"));
    }

    #[test]
    fn each_style_finds_its_next_page() {
        let headers = HeaderMap::new();
        let facts = |body: &'static Value, rows, token| PageFacts { headers: &headers, body, rows, token };
        let d =
            decl("{ style = \"offset\", offset_param = \"offset\", limit_param = \"limit\", page_size = 2 }");
        let body = Box::leak(Box::new(json!({})));
        assert_eq!(next_token(&d, &facts(body, 2, Some("4"))), Ok(Some("6".into())));
        assert_eq!(next_token(&d, &facts(body, 1, Some("4"))), Ok(None), "a short page is the last");
        let d = decl("{ style = \"offset\", offset_param = \"offset\", more = \"$.more\" }");
        let more = Box::leak(Box::new(json!({"more": true})));
        assert_eq!(next_token(&d, &facts(more, 1, None)), Ok(Some("1".into())));
        let done = Box::leak(Box::new(json!({"more": false})));
        assert_eq!(next_token(&d, &facts(done, 1, None)), Ok(None));
        let odd = Box::leak(Box::new(json!({"more": "yes"})));
        assert_eq!(next_token(&d, &facts(odd, 1, None)).map_err(|e| e.0), Err("$.more".to_string()));
        let d = decl("{ style = \"cursor\", cursor_param = \"cursor\", next = \"$.meta.next\" }");
        let next = Box::leak(Box::new(json!({"meta": {"next": "abc"}})));
        assert_eq!(next_token(&d, &facts(next, 5, None)), Ok(Some("abc".into())));
        let last = Box::leak(Box::new(json!({"meta": {"next": ""}})));
        assert_eq!(next_token(&d, &facts(last, 5, None)), Ok(None));
        assert_eq!(next_token(&d, &facts(next, 0, None)), Ok(None), "an empty page is the last");
        let d = decl(
            "{ style = \"cursor\", cursor_param = \"cursor\", next = \"$.meta.next\", stop_on_empty = false }",
        );
        assert_eq!(
            next_token(&d, &facts(next, 0, None)),
            Ok(Some("abc".into())),
            "unless declared otherwise"
        );
        let d = decl("{ style = \"page\", page_param = \"page\" }");
        assert_eq!(next_token(&d, &facts(body, 5, None)), Ok(Some("2".into())));
        assert_eq!(next_token(&d, &facts(body, 0, Some("3"))), Ok(None));
    }

    #[test]
    fn link_headers_name_the_next_page() {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::LINK,
            r#"<https://api.github.com/x?page=2>; rel="next", <https://api.github.com/x?page=9>; rel="last""#
                .parse()
                .expect("header"),
        );
        assert_eq!(next_link(&h).as_deref(), Some("https://api.github.com/x?page=2"));
        h.insert(http::header::LINK, r#"</x?page=1>; rel="prev""#.parse().expect("header"));
        assert_eq!(next_link(&h), None);
        assert_eq!(absolute("http://127.0.0.1:8080/a/b?c", "/x?page=2"), "http://127.0.0.1:8080/x?page=2");
        assert_eq!(absolute("https://api.example.com/a", "//evil.example/x"), "https://evil.example/x");
        assert_eq!(
            absolute("https://api.example.com/a", "ftp://api.example.com/x"),
            "ftp://api.example.com/x"
        );
    }
}
