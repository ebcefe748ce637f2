//! `\d` and `\d TABLE`: what the tables are, from their specs.
//!
//! skyglue's tables describe themselves ([`TableSpec`]: a line per table and
//! per column, and which columns are keys the API filters on); views carry a
//! description and readable SQL; anything else registered on the session
//! (the journal, a `CREATE VIEW`) shows its schema.

use std::fmt::Write;

use skyglue::reference::type_name;
use skyglue_core::{ColumnSpec, Key, TableSpec};

use super::complete::Catalog;
use super::fit;
use super::session::Session;
use crate::errors::usage;

/// What `\d` says about the journal table, which has no spec.
const JOURNAL: &str = "Every step of every policy run, from the journal in the state directory";

/// `\d`: every table and view with its description.
pub async fn tables(session: &Session) -> comfy_table::Table {
    let registry = session.engine.registry();
    let catalog = Catalog::load(&session.ctx).await;
    let rows = catalog.table_names().map(|name| {
        let (kind, description) = if let Some(spec) = spec(session, name) {
            ("table", spec.description)
        } else if let Some(view) = registry.views().iter().find(|v| v.name == name) {
            ("view", view.description)
        } else if name == "skyglue_journal" {
            ("table", JOURNAL)
        } else {
            ("", "")
        };
        vec![name.to_string(), kind.to_string(), description.to_string()]
    });
    fit::text_table(&["name", "kind", "description"], rows, session.width)
}

/// `\d TABLE`: its columns with types, key roles and descriptions.
pub async fn table(session: &Session, name: &str) -> anyhow::Result<String> {
    let mut out = String::new();
    if let Some(spec) = spec(session, name) {
        writeln!(out, "{}: {}", spec.name, spec.description)?;
        let columns = spec.all_columns();
        let rows = columns.iter().map(|c| {
            vec![
                c.name.to_string(),
                type_name(&c.data_type),
                key_name(c.key).to_string(),
                c.description.to_string(),
            ]
        });
        writeln!(out, "{}", fit::text_table(&["column", "type", "key", "description"], rows, session.width))?;
        write!(out, "{}", key_note(&spec, &columns))?;
        return Ok(out);
    }
    let df = session
        .ctx
        .table(name)
        .await
        .map_err(|_| usage(format!("no table or view named {name}: \\d lists them")))?;
    let view = session.engine.registry().views().iter().find(|v| v.name == name);
    match view {
        Some(view) => writeln!(out, "{name} (view): {}", view.description)?,
        None if name == "skyglue_journal" => writeln!(out, "{name}: {JOURNAL}")?,
        None => writeln!(out, "{name}")?,
    }
    let rows = df.schema().fields().iter().map(|f| vec![f.name().clone(), type_name(f.data_type())]);
    writeln!(out, "{}", fit::text_table(&["column", "type"], rows, session.width))?;
    if let Some(view) = view {
        writeln!(out, "Defined as:\n{}", view.sql_for(session.engine.connections()).trim())?;
    }
    Ok(out)
}

fn spec(session: &Session, name: &str) -> Option<TableSpec> {
    session.engine.registry().tables().iter().map(|t| t.spec()).find(|s| s.name == name).cloned()
}

fn key_name(key: Key) -> &'static str {
    match key {
        Key::No => "",
        Key::Optional => "key",
        Key::Required => "required key",
    }
}

/// How to use the keys, naming them.
fn key_note(spec: &TableSpec, columns: &[ColumnSpec]) -> String {
    let names = |key: Key| columns.iter().filter(|c| c.key == key).map(|c| c.name).collect::<Vec<_>>();
    let (optional, required) = (names(Key::Optional), names(Key::Required));
    let mut note = String::new();
    if !required.is_empty() {
        note.push_str(&format!(
            "{} needs {} in the query: WHERE {} = '...', IN (...), or a join on it.\n",
            spec.name,
            required.join(", "),
            required[0]
        ));
    }
    if !optional.is_empty() {
        note.push_str(&format!(
            "Filtering on {} (=, IN, or a join) becomes an API parameter and fetches less.\n",
            optional.join(", ")
        ));
    }
    note
}
