//! Policy files: a header of `-- @key: value` lines, then one SQL query.
//!
//! ```sql
//! -- @name: ecr-unused-images
//! -- @description: Images of old commits that nothing runs
//! -- @action: delete_ecr_images
//! -- @notify: slack
//! -- @max_deletes: 500
//! -- @param max_age_days: 30
//! SELECT ... WHERE c.committed_date < days_ago($max_age_days)
//! ```
//!
//! Parsing is strict: an unknown key, a repeated key, a malformed value or a
//! missing action is an error naming the file and line, before anything runs.
//!
//! Two policies can share one selection: `-- @query: OTHER.sql` (a path
//! relative to the policy's own file) takes the query and the `@param`
//! declarations of that policy, and the file has no query of its own. Its own
//! `@param` lines override those defaults; its name, description, action,
//! notify and max_deletes are its own. `queries/ecr_archive.sql` archives
//! what `queries/ecr_cleanup.sql` selects this way:
//!
//! ```sql
//! -- @name: ecr-archive
//! -- @action: archive_ecr_images
//! -- @query: ecr_cleanup.sql
//! ```
//!
//! The other file is read as a policy (its own header validated), and must
//! not itself use `@query`: one level, so there is never a cycle.

use std::path::Path;

use crate::params::Param;

/// Where notifications go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyTarget {
    /// Slack, through the webhook or bot token the config names.
    Slack,
    /// Nowhere.
    None,
}

/// A parsed policy file.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyFile {
    /// `@name`, default the file's stem.
    pub name: String,
    /// `@description`.
    pub description: Option<String>,
    /// `@action`, e.g. `delete_ecr_images`.
    pub action: String,
    /// Line of the `@action` header, for messages.
    pub action_line: usize,
    /// `@notify`; without it, Slack when Slack is configured.
    pub notify: Option<NotifyTarget>,
    /// `@max_deletes`, default 500.
    pub max_deletes: usize,
    /// `@param` declarations with defaults.
    pub params: Vec<Param>,
    /// The SQL after the header.
    pub query: String,
}

/// A problem in the file, with its location.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{origin}:{line}: {message}")]
pub struct HeaderError {
    /// The file.
    pub origin: String,
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// The default `@max_deletes`.
pub const DEFAULT_MAX_DELETES: usize = 500;

const KEYS: &str = "name, description, action, notify, max_deletes, param, query";

impl PolicyFile {
    /// Reads and parses a policy file.
    pub fn read(path: &Path) -> Result<Self, HeaderError> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| HeaderError {
            origin: origin.clone(),
            line: 0,
            message: format!("failed to read the policy file: {e}"),
        })?;
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("policy");
        Self::parse(&text, &origin, stem)
    }

    /// Parses policy text; `origin` names it in errors, `default_name` is used without `@name`.
    pub fn parse(text: &str, origin: &str, default_name: &str) -> Result<Self, HeaderError> {
        let err = |line: usize, message: String| HeaderError { origin: origin.to_string(), line, message };
        let mut name = None;
        let mut description = None;
        let mut action: Option<(String, usize)> = None;
        let mut notify = None;
        let mut max_deletes = None;
        let mut params: Vec<Param> = Vec::new();
        let mut query_file: Option<(String, usize)> = None;
        let mut query_start = text.len();
        let mut offset = 0;
        for (i, raw) in text.split_inclusive('\n').enumerate() {
            let line_no = i + 1;
            let line = raw.trim();
            if line.is_empty() {
                offset += raw.len();
                continue;
            }
            let Some(comment) = line.strip_prefix("--") else {
                query_start = offset;
                break;
            };
            offset += raw.len();
            let Some(directive) = comment.trim().strip_prefix('@') else { continue };
            let (key, value) = match directive.split_once(':') {
                Some((k, v)) => (k.trim(), v.trim()),
                None => {
                    let key = directive.split_whitespace().next().unwrap_or("");
                    return Err(err(line_no, format!("header @{key} needs a value: `-- @{key}: VALUE`")));
                }
            };
            let once = |seen: bool| {
                if seen { Err(err(line_no, format!("header @{key} is given twice"))) } else { Ok(()) }
            };
            match key {
                "name" => {
                    once(name.is_some())?;
                    name = Some(value.to_string());
                }
                "description" => {
                    once(description.is_some())?;
                    description = Some(value.to_string());
                }
                "action" => {
                    once(action.is_some())?;
                    action = Some((value.to_string(), line_no));
                }
                "notify" => {
                    once(notify.is_some())?;
                    notify = Some(match value {
                        "slack" => NotifyTarget::Slack,
                        "none" => NotifyTarget::None,
                        other => {
                            return Err(err(
                                line_no,
                                format!("@notify must be slack or none, not {other:?}"),
                            ));
                        }
                    });
                }
                "max_deletes" => {
                    once(max_deletes.is_some())?;
                    let n: usize = value.parse().map_err(|_| {
                        err(line_no, format!("@max_deletes must be a whole number, not {value:?}"))
                    })?;
                    max_deletes = Some(n);
                }
                "query" => {
                    once(query_file.is_some())?;
                    query_file = Some((value.to_string(), line_no));
                }
                k if k == "param" || k.starts_with("param ") => {
                    let param_name = k.strip_prefix("param").unwrap_or("").trim();
                    if !is_identifier(param_name) {
                        return Err(err(
                            line_no,
                            format!(
                                "@param needs a name and a default: `-- @param NAME: DEFAULT`, got {directive:?}"
                            ),
                        ));
                    }
                    if params.iter().any(|p| p.name == param_name) {
                        return Err(err(line_no, format!("parameter {param_name} is declared twice")));
                    }
                    params.push(Param::declare(param_name, value, line_no).map_err(|e| err(line_no, e))?);
                }
                other => {
                    return Err(err(line_no, format!("unknown header key @{other} (known keys: {KEYS})")));
                }
            }
        }
        let mut query = text[query_start..].trim().to_string();
        let Some((action, action_line)) = action else {
            return Err(err(1, "the policy has no `-- @action: ...` header".into()));
        };
        if let Some((file, line)) = query_file {
            if !query.is_empty() {
                return Err(err(
                    line,
                    format!("the policy takes its query from {file} (@query), so it has no query of its own"),
                ));
            }
            let shared = shared_query(origin, &file).map_err(|message| err(line, message))?;
            query = shared.query;
            let own = std::mem::take(&mut params);
            params = shared.params.into_iter().filter(|p| !own.iter().any(|o| o.name == p.name)).collect();
            params.extend(own);
        } else if query.is_empty() {
            return Err(err(text.lines().count().max(1), "the policy has no query after its header".into()));
        }
        Ok(PolicyFile {
            name: name.unwrap_or_else(|| default_name.to_string()),
            description,
            action,
            action_line,
            notify,
            max_deletes: max_deletes.unwrap_or(DEFAULT_MAX_DELETES),
            params,
            query,
        })
    }
}

/// The policy `file` names (relative to the directory of `origin`, the
/// policy that names it), read for its query and parameters.
fn shared_query(origin: &str, file: &str) -> Result<PolicyFile, String> {
    let path = Path::new(origin).parent().unwrap_or(Path::new("")).join(file);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("@query: failed to read {}: {e}", path.display()))?;
    if text.lines().take_while(|l| l.trim().is_empty() || l.trim().starts_with("--")).any(|l| {
        l.trim()
            .trim_start_matches("--")
            .trim()
            .strip_prefix("@query")
            .is_some_and(|rest| rest.trim_start().starts_with(':'))
    }) {
        return Err(format!(
            "@query: {} takes its own query from another file; name that file instead",
            path.display()
        ));
    }
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("policy");
    PolicyFile::parse(&text, &path.display().to_string(), stem).map_err(|e| format!("@query: {e}"))
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::ParamValue;

    const GOOD: &str = "-- @name: demo\n-- @description: old images\n-- plain comment\n-- @action: delete_ecr_images\n\
                        -- @notify: none\n-- @max_deletes: 50\n-- @param max_age_days: 30\n-- @param repo: 'web'\n\n\
                        SELECT 1\nFROM t\n";

    #[test]
    fn parses_every_key() {
        let p = PolicyFile::parse(GOOD, "p.sql", "p").expect("valid");
        assert_eq!(p.name, "demo");
        assert_eq!(p.action, "delete_ecr_images");
        assert_eq!(p.action_line, 4);
        assert_eq!(p.notify, Some(NotifyTarget::None));
        assert_eq!(p.max_deletes, 50);
        assert_eq!(p.params.len(), 2);
        assert_eq!(p.params[0].default, ParamValue::Int(30));
        assert_eq!(p.params[1].default, ParamValue::Text("web".into()));
        assert_eq!(p.query, "SELECT 1\nFROM t");
    }

    #[test]
    fn defaults() {
        let p = PolicyFile::parse("-- @action: delete_ecr_images\nSELECT 1", "x.sql", "x").expect("valid");
        assert_eq!((p.name.as_str(), p.max_deletes, p.notify), ("x", DEFAULT_MAX_DELETES, None));
    }

    #[test]
    fn a_policy_can_take_its_query_and_parameters_from_another() {
        let dir = tempfile::tempdir().expect("tmp");
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).expect("write");
        write(
            "shared.sql",
            "-- @action: delete_ecr_images\n-- @param days: 30\n-- @param keep: 'x'\nSELECT $days",
        );
        write(
            "mine.sql",
            "-- @name: mine\n-- @action: archive_ecr_images\n-- @param days: 7\n-- @query: shared.sql\n",
        );
        let p = PolicyFile::read(&dir.path().join("mine.sql")).expect("valid");
        assert_eq!((p.name.as_str(), p.action.as_str()), ("mine", "archive_ecr_images"));
        assert_eq!(p.query, "SELECT $days");
        let defaults: Vec<(&str, &ParamValue)> =
            p.params.iter().map(|p| (p.name.as_str(), &p.default)).collect();
        assert_eq!(defaults, [("keep", &ParamValue::Text("x".into())), ("days", &ParamValue::Int(7))]);

        let cases = [
            ("-- @action: a\n-- @query: shared.sql\nSELECT 2", "no query of its own"),
            ("-- @action: a\n-- @query: missing.sql\n", "failed to read"),
            ("-- @action: a\n-- @query: chain.sql\n", "takes its own query from another file"),
        ];
        write("chain.sql", "-- @action: a\n-- @query: shared.sql\n");
        for (text, needle) in cases {
            write("bad.sql", text);
            let e = PolicyFile::read(&dir.path().join("bad.sql")).expect_err(text);
            assert_eq!(e.line, 2, "{text}: {e}");
            assert!(e.to_string().contains(needle), "{text}: {e}");
        }
    }

    #[test]
    fn the_shipped_archive_policy_shares_the_cleanup_selection() {
        let queries = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../queries");
        let cleanup = PolicyFile::read(&queries.join("ecr_cleanup.sql")).expect("cleanup");
        let archive = PolicyFile::read(&queries.join("ecr_archive.sql")).expect("archive");
        assert_eq!((archive.action.as_str(), &archive.query), ("archive_ecr_images", &cleanup.query));
        assert_eq!(archive.params, cleanup.params);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            ("-- @action: a\n-- @colour: red\nSELECT 1", 2, "unknown header key @colour"),
            ("-- @action: a\n-- @max_deletes: lots\nSELECT 1", 2, "whole number"),
            ("-- @action: a\n-- @action: b\nSELECT 1", 2, "twice"),
            ("-- @action: a\n-- @notify: email\nSELECT 1", 2, "slack or none"),
            ("-- @action: a\n-- @param: 3\nSELECT 1", 2, "@param needs a name"),
            ("-- @name: x\nSELECT 1", 1, "no `-- @action"),
            ("-- @action: a\n", 1, "no query"),
        ];
        for (text, line, needle) in cases {
            let e = PolicyFile::parse(text, "p.sql", "p").expect_err(text);
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.to_string().contains(needle), "{text}: {e}");
            assert!(e.to_string().starts_with("p.sql:"), "{e}");
        }
    }
}
