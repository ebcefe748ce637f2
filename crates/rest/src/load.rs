//! Reading declarations: the `[[table]]` entries of `skyglue.toml` and every
//! `*.toml` file of the `tables_dir` it names.
//!
//! TOML errors (an unknown key, a wrong type) keep the parser's position, so
//! every error reads `file:line: ...`. Table names must be unique across all
//! the files.

use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;
use skyglue_core::Config;

use crate::decl::{ConfigTables, TablesFile};
use crate::error::{Error, Result};
use crate::model::Declared;
use crate::validate::{self, Source};

/// Every table declared by `config`: its own `[[table]]` entries, then the
/// files of its `tables_dir` in name order.
pub fn from_config(config: &Config) -> Result<Vec<Declared>> {
    let mut all = Vec::new();
    if !config.table.is_empty() {
        // A config built in code has no text to point into: its entries are
        // written out as TOML and checked the same way.
        let written;
        let (file, text) = match &config.source {
            Some(source) => (source.origin.as_str(), source.text.as_str()),
            None => {
                written = toml::to_string(&toml::Table::from_iter([(
                    "table".to_string(),
                    toml::Value::Array(config.table.clone()),
                )]))
                .map_err(|e| {
                    Error::Config(format!("failed to read the configured [[table]] entries: {e}"))
                })?;
                ("[[table]] (configuration)", written.as_str())
            }
        };
        let src = Source { file, text };
        let parsed: ConfigTables = parse(src)?;
        for decl in parsed.table {
            all.push(validate::table(src, decl)?);
        }
    }
    if let Some(dir) = &config.tables_dir {
        all.extend(from_dir(dir)?);
    }
    unique(&all)?;
    Ok(all)
}

/// The tables of every `*.toml` file in `dir`, in file-name order.
pub fn from_dir(dir: &Path) -> Result<Vec<Declared>> {
    let read_error = |source| Error::Read { path: dir.display().to_string(), source };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut all = Vec::new();
    for file in files {
        all.extend(from_file(&file)?);
    }
    unique(&all)?;
    Ok(all)
}

/// The tables of one declarations file (only `[[table]]` entries allowed).
pub fn from_file(path: &Path) -> Result<Vec<Declared>> {
    let text = std::fs::read_to_string(path)
        .map_err(|source| Error::Read { path: path.display().to_string(), source })?;
    from_text(&path.display().to_string(), &text)
}

/// The tables of a declarations text; `file` names it in errors.
pub fn from_text(file: &str, text: &str) -> Result<Vec<Declared>> {
    let src = Source { file, text };
    let parsed: TablesFile = parse(src)?;
    let tables =
        parsed.table.into_iter().map(|decl| validate::table(src, decl)).collect::<Result<Vec<_>>>()?;
    unique(&tables)?;
    Ok(tables)
}

fn parse<T: DeserializeOwned>(src: Source<'_>) -> Result<T> {
    toml::from_str(src.text).map_err(|e| {
        let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
        Error::Declaration {
            file: src.file.to_string(),
            line: e.span().map_or(1, |s| src.line(s.start)),
            message,
        }
    })
}

fn unique(tables: &[Declared]) -> Result<()> {
    let mut seen: HashMap<&str, &str> = HashMap::new();
    for t in tables {
        if let Some(first) = seen.insert(&t.name, &t.origin) {
            return Err(at_origin(&t.origin, format!("table {} is already declared at {first}", t.name)));
        }
    }
    Ok(())
}

/// An error at a declaration's `file:line` origin.
pub fn at_origin(origin: &str, message: String) -> Error {
    let (file, line) = origin.rsplit_once(':').unwrap_or((origin, "1"));
    Error::Declaration { file: file.to_string(), line: line.parse().unwrap_or(1), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = r#"
[[table]]
name = "pagerduty_incident"
url = "https://api.pagerduty.com/incidents"
auth = { header = "Authorization", value = "Token token=${PAGERDUTY_TOKEN}" }
rows = "$.incidents[*]"
paginate = { style = "offset", limit_param = "limit", offset_param = "offset", page_size = 100, more = "$.more" }
rate = { per_second = 10 }
[[table.column]]
name = "id"
[[table.column]]
name = "status"
key = { param = "statuses[]" }
"#;

    fn error_of(text: &str) -> String {
        match from_text("t.toml", text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_issue_example_parses() {
        let tables = from_text("t.toml", VALID).expect("valid");
        assert_eq!(tables[0].name, "pagerduty_incident");
        assert_eq!(tables[0].origin, "t.toml:2");
        assert_eq!(tables[0].required_vars(), vec!["PAGERDUTY_TOKEN".to_string()]);
        let keys: Vec<&str> = tables[0].keys().map(|(_, k)| k.param.as_str()).collect();
        assert_eq!(keys, vec!["statuses[]"]);
    }

    #[test]
    fn errors_name_the_line_of_the_fault() {
        let unknown = VALID.replace("name = \"id\"", "name = \"id\"\npth = \"$.id\"");
        assert_eq!(error_of(&unknown).split(": ").next(), Some("t.toml:11"), "{}", error_of(&unknown));
        assert!(error_of(&unknown).contains("pth"));
        let bad_path = VALID.replace("rows = \"$.incidents[*]\"", "rows = \"$.incidents[\"");
        assert!(
            error_of(&bad_path).starts_with("t.toml:6: table pagerduty_incident: rows:"),
            "{}",
            error_of(&bad_path)
        );
        let style = VALID.replace("style = \"offset\"", "style = \"offsets\"");
        assert!(error_of(&style).starts_with("t.toml:7:"), "{}", error_of(&style));
        assert!(error_of(&style).contains("unknown paginate style \"offsets\""));
        let no_param = VALID.replace("key = { param = \"statuses[]\" }", "key = { required = true }");
        assert!(
            error_of(&no_param)
                .starts_with("t.toml:13: table pagerduty_incident: column status: key needs a param")
        );
        let secret = VALID.replace("Token token=${PAGERDUTY_TOKEN}", "Token token=abc123");
        assert!(error_of(&secret).contains("from the environment"), "{}", error_of(&secret));
        let top = format!("{VALID}\n[[tabel]]\nname = \"x\"\n");
        assert!(error_of(&top).starts_with("t.toml:15:"), "{}", error_of(&top));
    }

    #[test]
    fn auth_is_one_header_or_one_query_parameter() {
        let header = "auth = { header = \"Authorization\", value = \"Token token=${PAGERDUTY_TOKEN}\" }";
        let query = VALID.replace(header, "auth = { query = \"api_key\", value = \"${PAGERDUTY_TOKEN}\" }");
        let tables = from_text("t.toml", &query).expect("valid");
        assert!(
            matches!(&tables[0].auth, Some(a) if a.via == crate::model::AuthVia::Query("api_key".into()))
        );
        let both = VALID.replace("{ header = ", "{ query = \"api_key\", header = ");
        assert!(error_of(&both).starts_with("t.toml:5:") && error_of(&both).contains("not both"));
        let clash = query.replace("rows = ", "params = { \"api_key\" = \"x\" }\nrows = ");
        assert!(error_of(&clash).contains("params also sets \"api_key\""), "{}", error_of(&clash));
        let userinfo = VALID.replace("https://api.pagerduty.com", "https://me:secret@api.pagerduty.com");
        assert!(error_of(&userinfo).contains("user name or password"), "{}", error_of(&userinfo));
    }

    #[test]
    fn path_parameters_must_be_required_keys() {
        let text = r#"
[[table]]
name = "runs"
url = "https://api.github.com/repos/{repo}/actions/runs"
rows = "$.workflow_runs[*]"
[[table.column]]
name = "repository_full_name"
key = { param = "repo" }
"#;
        assert!(error_of(text).contains("make column repository_full_name's key required"));
        let ok = text.replace("param = \"repo\"", "param = \"repo\", required = true");
        let tables = from_text("t.toml", &ok).expect("valid");
        assert!(tables[0].columns[0].key.as_ref().is_some_and(|k| k.in_path));
        let stray = ok.replace("{repo}/actions", "{repo}/{workflow}/actions");
        assert!(error_of(&stray).contains("{workflow} is no key column's param"));
    }

    #[test]
    fn config_entries_are_read_with_their_lines_or_without_text() {
        let mut config = Config::parse(VALID, "skyglue.toml").expect("valid config");
        assert_eq!(from_config(&config).expect("declared")[0].origin, "skyglue.toml:2");
        config.source = None;
        assert_eq!(from_config(&config).expect("declared")[0].name, "pagerduty_incident");
        let bad = Config::parse(&VALID.replace("$.incidents[*]", "incidents"), "skyglue.toml").expect("toml");
        let err = from_config(&bad).expect_err("bad rows").to_string();
        assert!(err.starts_with("skyglue.toml:6: table pagerduty_incident: rows:"), "{err}");
    }

    #[test]
    fn a_name_declared_twice_is_refused() {
        let twice = format!("{VALID}{}", VALID.replace("rate = { per_second = 10 }", ""));
        assert!(error_of(&twice).contains("already declared at t.toml:2"), "{}", error_of(&twice));
    }
}
