//! Running input in a session: each unit (a statement, or a meta-command),
//! and the meta-commands themselves: backslash lines that talk about the
//! session rather than query it (`\d`, `\format`, `\timing`, `\cache`,
//! `\i`, `\connections`...).
//!
//! Listings go to stdout; confirmations of a changed setting go to stderr, so
//! a script's stdout holds only results.

use std::path::PathBuf;

use clap::ValueEnum;
use skyglue::output::Format;

use super::command::{Command, Name};
use super::input::{self, Unit};
use super::session::{Flow, Session};
use super::{connections, describe, fit, policy};
use crate::errors::usage;

/// Runs one unit in `session`: a meta-command or SQL.
pub async fn run_unit(session: &mut Session, unit: &Unit) -> anyhow::Result<Flow> {
    match unit {
        Unit::Meta(line) => run(session, line).await,
        Unit::Sql(sql) => session.run_sql(sql).await.map(|()| Flow::Continue),
    }
}

/// Runs every unit of a script (a `\i` file, or piped input) in `session`,
/// stopping at the first error.
pub async fn run_script(session: &mut Session, text: &str) -> anyhow::Result<Flow> {
    for unit in input::units(text) {
        if Box::pin(run_unit(session, &unit)).await? == Flow::Quit {
            return Ok(Flow::Quit);
        }
    }
    Ok(Flow::Continue)
}

/// Runs the meta-command `line` in `session`.
async fn run(session: &mut Session, line: &str) -> anyhow::Result<Flow> {
    let command = Command::parse(line).map_err(usage)?;
    match command {
        Command::Help => {
            let rows = Name::help_rows().map(|(c, d)| vec![c.to_string(), d.to_string()]);
            println!("{}", fit::text_table(&["command", "what it does"], rows, session.width));
        }
        Command::Quit => return Ok(Flow::Quit),
        Command::Tables => println!("{}", describe::tables(session).await),
        Command::Describe(name) => print!("{}", describe::table(session, &name).await?),
        Command::Format(None) => eprintln!("format: {}", format_name(session.settings.format)),
        Command::Format(Some(format)) => {
            session.settings.format = format;
            eprintln!("format: {}", format_name(format));
        }
        Command::Timing(on) => {
            session.settings.timing = on.unwrap_or(!session.settings.timing);
            eprintln!("timing is {}", if session.settings.timing { "on" } else { "off" });
        }
        Command::MaxRows(n) => {
            if let Some(n) = n {
                session.settings.max_rows = (n > 0).then_some(n);
            }
            match session.settings.max_rows {
                Some(n) => eprintln!("table results show at most {n} rows"),
                None => eprintln!("table results show every row"),
            }
        }
        Command::Cache { clear } => cache(session, clear),
        Command::Include { path, params } => return include(session, path, params).await,
        Command::Connections => {
            let (engine, width) = (session.engine.clone(), session.width);
            let table =
                session.cancellable(async move { Ok(connections::table(&engine, width).await) }).await?;
            println!("{table}");
        }
    }
    Ok(Flow::Continue)
}

fn format_name(format: Format) -> String {
    format.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
}

fn cache(session: &Session, clear: bool) {
    let Some(cache) = session.engine.cache() else {
        println!("the scan cache is off (skyglue repl --cache-ttl 0)");
        return;
    };
    let stats = cache.stats();
    if clear {
        cache.clear();
        eprintln!("scan cache cleared");
    } else {
        let entries =
            if stats.entries == 1 { "1 entry".to_string() } else { format!("{} entries", stats.entries) };
        println!(
            "scan cache: {entries}, {} rows; entries live {} s (skyglue repl --cache-ttl SECONDS)",
            stats.rows,
            stats.ttl.as_secs()
        );
    }
}

/// `\i FILE`: a policy (it has an `-- @action:` header) runs as a dry run and
/// prints its report; any other file runs as statements and meta-commands.
async fn include(session: &mut Session, path: PathBuf, params: Vec<String>) -> anyhow::Result<Flow> {
    let text = std::fs::read_to_string(&path)
        .map_err(|e| usage(format!("failed to read {}: {e}", path.display())))?;
    if policy::is_policy(&text) {
        let engine = session.engine.clone();
        let dir = session.state_dir.clone();
        let report = session.cancellable(policy::dry_run(engine, &dir, &path, &params)).await?;
        print!("{report}");
        return Ok(Flow::Continue);
    }
    if !params.is_empty() {
        return Err(usage(format!("{} is not a policy: parameters apply only to policies", path.display())));
    }
    if session.include_depth >= 8 {
        return Err(usage(format!("\\i {}: files include each other too deeply", path.display())));
    }
    session.include_depth += 1;
    let flow = run_script(session, &text).await;
    session.include_depth -= 1;
    flow
}
