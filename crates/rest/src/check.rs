//! `skyglue tables check FILE`: validates a declarations file (or a
//! `skyglue.toml` with `[[table]]` entries) and summarises each table.

use std::path::Path;

use skyglue_core::{Config, Registry};

use crate::error::{Error, Result};
use crate::load;
use crate::model::Declared;

/// Checks `path` against the built-in tables' names; returns the declared
/// tables.
pub fn check_file(path: &Path, builtin: &Registry) -> Result<Vec<Declared>> {
    let read = |source| Error::Read { path: path.display().to_string(), source };
    let text = std::fs::read_to_string(path).map_err(read)?;
    // A declarations file holds `[[table]]` only; any other top-level key
    // makes it a `skyglue.toml`, checked whole (naming an unknown key).
    let is_config = text.parse::<toml::Table>().is_ok_and(|t| t.keys().any(|k| k != "table"));
    let declared = if is_config {
        let config = Config::from_file(path).map_err(|e| Error::Config(e.to_string()))?;
        load::from_config(&config)?
    } else {
        load::from_file(path)?
    };
    crate::refuse_builtin_names(&declared, builtin)?;
    Ok(declared)
}

/// One line per table: name, columns, keys, paging, rate, variables.
pub fn summary(declared: &[Declared], env: &crate::Env) -> String {
    let mut out = String::new();
    for d in declared {
        let keys: Vec<String> = d
            .keys()
            .map(|(c, k)| if k.required { format!("{} (required)", c.name) } else { c.name.clone() })
            .collect();
        let paging = d
            .paginate
            .as_ref()
            .map_or("one request".to_string(), |p| format!("{} pagination", p.style.name()));
        let rate = d.rate.map_or(String::new(), |r| format!(", {} req/s", r.per_second));
        let vars: Vec<String> = d
            .required_vars()
            .into_iter()
            .map(|v| if env(&v).is_some() { v } else { format!("{v} (not set)") })
            .collect();
        out.push_str(&format!(
            "{}: {} columns, keys: {}, {paging}{rate}{} ({})\n",
            d.name,
            d.columns.len(),
            if keys.is_empty() { "none".to_string() } else { keys.join(", ") },
            if vars.is_empty() { String::new() } else { format!(", needs {}", vars.join(", ")) },
            d.origin,
        ));
    }
    out
}
