//! Meta-commands: backslash lines that talk about the session rather than
//! query it (`\d`, `\format`, `\timing`, `\cache`, `\i`, `\connections`...).
//!
//! Listings go to stdout; confirmations of a changed setting go to stderr, so
//! a script's stdout holds only results.

use std::path::PathBuf;

use clap::ValueEnum;
use skyglue::output::Format;

use super::session::{Flow, Session};
use super::{connections, describe, fit, policy};
use crate::errors::usage;

/// `\?`: every command with what it does. The first word of each is what
/// completion offers.
pub const HELP: &[(&str, &str)] = &[
    ("\\?", "Show this help"),
    ("\\q", "Quit (also Ctrl-D)"),
    ("\\d", "List tables and views"),
    ("\\d TABLE", "Describe a table: columns, types, key columns, descriptions"),
    ("\\format table|csv|json|ndjson", "How results print (without an argument: show it)"),
    ("\\timing [on|off]", "After each statement, print the time, API calls, pages, rows and throttle waits"),
    ("\\maxrows N", "Show at most N rows of a table result (0: all)"),
    ("\\cache", "Show the scan cache: entries, rows, time to live"),
    ("\\cache clear", "Empty the scan cache: the next query calls the APIs again"),
    ("\\i FILE [NAME=VALUE]...", "Run a file of statements; a policy file (-- @action:) runs as a dry run"),
    ("\\connections", "AWS connections (account, the read calls they may make), GitHub's rate limit, Slack"),
];

/// The command names completion offers.
pub const COMMANDS: &[&str] =
    &["\\?", "\\q", "\\d", "\\format", "\\timing", "\\maxrows", "\\cache", "\\i", "\\connections"];

/// A parsed meta-command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `\?`
    Help,
    /// `\q`
    Quit,
    /// `\d`
    Tables,
    /// `\d TABLE`
    Describe(String),
    /// `\format [FORMAT]`
    Format(Option<Format>),
    /// `\timing [on|off]`: `None` toggles.
    Timing(Option<bool>),
    /// `\maxrows N`: `None` shows the setting.
    MaxRows(Option<usize>),
    /// `\cache [clear]`
    Cache {
        /// Empty it.
        clear: bool,
    },
    /// `\i FILE [NAME=VALUE]...`
    Include {
        /// The file.
        path: PathBuf,
        /// Policy parameter overrides.
        params: Vec<String>,
    },
    /// `\connections`
    Connections,
}

impl Command {
    /// Parses a line starting with `\`; the error is a message for the user.
    pub fn parse(line: &str) -> Result<Command, String> {
        let mut words = line.split_whitespace();
        let name = words.next().unwrap_or("");
        let args: Vec<&str> = words.collect();
        let no_args =
            |c: Command| if args.is_empty() { Ok(c) } else { Err(format!("{name} takes no argument")) };
        match (name, args.as_slice()) {
            ("\\?" | "\\h" | "\\help", _) => Ok(Command::Help),
            ("\\q" | "\\quit", _) => no_args(Command::Quit),
            ("\\d", []) => Ok(Command::Tables),
            ("\\d", [table]) => Ok(Command::Describe(table.trim_end_matches(';').to_string())),
            ("\\format", []) => Ok(Command::Format(None)),
            ("\\format", [f]) => Format::from_str(f, true)
                .map(|f| Command::Format(Some(f)))
                .map_err(|_| format!("unknown format {f:?}: use table, csv, json or ndjson")),
            ("\\timing", []) => Ok(Command::Timing(None)),
            ("\\timing", ["on"]) => Ok(Command::Timing(Some(true))),
            ("\\timing", ["off"]) => Ok(Command::Timing(Some(false))),
            ("\\maxrows", []) => Ok(Command::MaxRows(None)),
            ("\\maxrows", [n]) => n
                .parse()
                .map(|n| Command::MaxRows(Some(n)))
                .map_err(|_| format!("\\maxrows takes a number of rows, not {n:?}")),
            ("\\cache", []) => Ok(Command::Cache { clear: false }),
            ("\\cache", ["clear"]) => Ok(Command::Cache { clear: true }),
            ("\\i", [path, params @ ..]) => Ok(Command::Include {
                path: PathBuf::from(path),
                params: params.iter().map(|p| p.to_string()).collect(),
            }),
            ("\\connections", _) => no_args(Command::Connections),
            _ if COMMANDS.contains(&name) => Err(format!("bad arguments to {name}: \\? shows how to use it")),
            _ => Err(format!("unknown command {name}: \\? lists the commands")),
        }
    }
}

/// Runs the meta-command `line` in `session`.
pub async fn run(session: &mut Session, line: &str) -> anyhow::Result<Flow> {
    let command = Command::parse(line).map_err(usage)?;
    match command {
        Command::Help => {
            let rows = HELP.iter().map(|(c, d)| vec![c.to_string(), d.to_string()]);
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
    let flow = session.run_script(&text).await;
    session.include_depth -= 1;
    flow
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_rejects_bad_arguments() {
        assert_eq!(Command::parse("\\d aws_ecs_service;"), Ok(Command::Describe("aws_ecs_service".into())));
        assert_eq!(Command::parse("\\format CSV"), Ok(Command::Format(Some(Format::Csv))));
        assert_eq!(Command::parse("\\timing"), Ok(Command::Timing(None)));
        assert_eq!(Command::parse("\\cache clear"), Ok(Command::Cache { clear: true }));
        assert!(Command::parse("\\format xml").is_err_and(|e| e.contains("unknown format")));
        assert!(Command::parse("\\maxrows lots").is_err_and(|e| e.contains("number")));
        assert!(Command::parse("\\x").is_err_and(|e| e.contains("\\? lists")));
        for (command, _) in HELP {
            let name = command.split_whitespace().next().unwrap_or("");
            assert!(COMMANDS.contains(&name), "{name} is completed");
        }
    }
}
