//! JSON paths (RFC 9535) in declarations, parsed once when the declaration
//! is loaded and kept with their text for error messages.
//!
//! jsonpath-rust does the parsing and querying; kube already builds it, so
//! declared tables add no new parser to the build.

use jsonpath_rust::parser::model::JpQuery;
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use serde_json::Value;

/// A parsed JSON path and the text it was written as.
#[derive(Debug, Clone)]
pub struct JsonPath {
    text: String,
    query: JpQuery,
    /// For a path of member names only (`$.service.id`, the common case):
    /// the names, walked directly instead of through the query engine,
    /// which matters at thousands of rows per scan.
    names: Option<Vec<String>>,
}

impl JsonPath {
    /// Parses `text`; the error is one line saying why it is not a JSON path.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.starts_with('$') {
            return Err(format!("{text:?} is not a JSON path: it must start with $ (e.g. \"$.items[*]\")"));
        }
        let query = parse_json_path(text).map_err(|e| {
            let why = e.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
            format!("{text:?} is not a valid JSON path: {why}")
        })?;
        Ok(Self { text: text.to_string(), query, names: member_names(text) })
    }

    /// The path as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Every value the path selects in `value`.
    pub fn select<'a>(&self, value: &'a Value) -> Vec<&'a Value> {
        if let Some(names) = &self.names {
            return names.iter().try_fold(value, |v, name| v.get(name)).into_iter().collect();
        }
        js_path_process(&self.query, value)
            .map(|found| found.into_iter().map(|r| r.val()).collect())
            .unwrap_or_default()
    }

    /// The first value the path selects, if any.
    pub fn first<'a>(&self, value: &'a Value) -> Option<&'a Value> {
        self.select(value).into_iter().next()
    }

    /// The array of rows the path names: a path ending in `[*]` selects the
    /// elements of one array, which must exist (an empty array is no rows);
    /// any other path must select one array. `None` when there is no array.
    pub fn rows<'a>(&self, body: &'a Value) -> Option<Vec<&'a Value>> {
        match self.text.strip_suffix("[*]") {
            Some("$") => body.as_array().map(|a| a.iter().collect()),
            Some(parent) => {
                let parent = JsonPath::parse(parent).ok()?;
                parent.first(body)?.as_array().map(|a| a.iter().collect())
            }
            None => self.first(body)?.as_array().map(|a| a.iter().collect()),
        }
    }
}

/// The member names of `$.a.b.c` (letters, digits, `_`), or `None` for
/// any other path.
fn member_names(text: &str) -> Option<Vec<String>> {
    let rest = text.strip_prefix('$')?;
    if rest.is_empty() {
        return Some(vec![]);
    }
    let names: Vec<String> = rest.strip_prefix('.')?.split('.').map(str::to_string).collect();
    let plain = |n: &String| {
        n.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    names.iter().all(plain).then_some(names)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rows_distinguish_an_empty_array_from_a_missing_one() {
        let rows = JsonPath::parse("$.incidents[*]").expect("path");
        assert_eq!(rows.rows(&json!({"incidents": [1, 2]})).map(|r| r.len()), Some(2));
        assert_eq!(rows.rows(&json!({"incidents": []})).map(|r| r.len()), Some(0));
        assert_eq!(rows.rows(&json!({"error": "nope"})), None);
        assert_eq!(JsonPath::parse("$").expect("path").rows(&json!([1])).map(|r| r.len()), Some(1));
        assert_eq!(
            JsonPath::parse("$.data").expect("path").rows(&json!({"data": [1, 2, 3]})).map(|r| r.len()),
            Some(3)
        );
    }

    #[test]
    fn member_paths_are_walked_directly_and_agree_with_the_query_engine() {
        assert_eq!(member_names("$.service.id"), Some(vec!["service".to_string(), "id".to_string()]));
        assert_eq!(member_names("$.items[*]"), None);
        assert_eq!(member_names("$..id"), None);
        assert_eq!(member_names("$.2fa"), None);
        let row = json!({"service": {"id": "P1"}, "list": [1, 2]});
        for path in ["$.service.id", "$.service", "$.missing.id", "$.list"] {
            let fast = JsonPath::parse(path).expect("path");
            assert!(fast.names.is_some(), "{path}");
            let slow = JsonPath { names: None, ..fast.clone() };
            assert_eq!(fast.select(&row), slow.select(&row), "{path}");
        }
    }

    #[test]
    fn nested_values_and_bad_paths() {
        let p = JsonPath::parse("$.service.id").expect("path");
        assert_eq!(p.first(&json!({"service": {"id": "P1"}})), Some(&json!("P1")));
        assert_eq!(p.first(&json!({"service": null})), None);
        assert!(JsonPath::parse("service.id").expect_err("an error").contains("must start with $"));
        assert!(JsonPath::parse("$.a[").expect_err("an error").contains("not a valid JSON path"));
    }
}
