//! The REPL's meta-commands, declared once: [`Name`] is every command, and
//! its exhaustive matches give the help table (`\?`), the names and argument
//! values completion offers, and the parser ([`Command::parse`]). Adding a
//! command is one variant; the compiler then asks for its word, help and
//! arguments, as datafusion-cli's `command.rs` does.
//!
//! A leaf module: completion and the dispatcher ([`super::meta`]) both read
//! it, and it reads neither.

use std::path::PathBuf;

use clap::ValueEnum;
use skyglue::output::Format;

/// Every meta-command, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Name {
    /// `\?`
    Help,
    /// `\q`
    Quit,
    /// `\d [TABLE]`
    Describe,
    /// `\format [FORMAT]`
    Format,
    /// `\timing [on|off]`
    Timing,
    /// `\maxrows [N]`
    MaxRows,
    /// `\cache [clear]`
    Cache,
    /// `\i FILE [NAME=VALUE]...`
    Include,
    /// `\connections`
    Connections,
}

/// What completion offers after a command's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arguments {
    /// Nothing.
    None,
    /// The names of the registered tables and views.
    Tables,
    /// File names (the line editor's file completer offers them).
    Files,
    /// One of these words.
    Words(&'static [&'static str]),
}

impl Name {
    /// Every command, in the order `\?` lists them.
    pub const ALL: [Name; 9] = [
        Name::Help,
        Name::Quit,
        Name::Describe,
        Name::Format,
        Name::Timing,
        Name::MaxRows,
        Name::Cache,
        Name::Include,
        Name::Connections,
    ];

    /// The word that runs it, as completion offers it.
    pub fn word(self) -> &'static str {
        match self {
            Name::Help => "\\?",
            Name::Quit => "\\q",
            Name::Describe => "\\d",
            Name::Format => "\\format",
            Name::Timing => "\\timing",
            Name::MaxRows => "\\maxrows",
            Name::Cache => "\\cache",
            Name::Include => "\\i",
            Name::Connections => "\\connections",
        }
    }

    /// Other words that run it.
    fn aliases(self) -> &'static [&'static str] {
        match self {
            Name::Help => &["\\h", "\\help"],
            Name::Quit => &["\\quit"],
            _ => &[],
        }
    }

    /// Its lines of `\?`: a usage and what it does.
    pub fn help(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Name::Help => &[("\\?", "Show this help")],
            Name::Quit => &[("\\q", "Quit (also Ctrl-D)")],
            Name::Describe => &[
                ("\\d", "List tables and views"),
                ("\\d TABLE", "Describe a table: columns, types, key columns, descriptions"),
            ],
            Name::Format => {
                &[("\\format table|csv|json|ndjson", "How results print (without an argument: show it)")]
            }
            Name::Timing => &[(
                "\\timing [on|off]",
                "After each statement, print the time, API calls, pages, rows and throttle waits",
            )],
            Name::MaxRows => &[("\\maxrows N", "Show at most N rows of a table result (0: all)")],
            Name::Cache => &[
                ("\\cache", "Show the scan cache: entries, rows, time to live"),
                ("\\cache clear", "Empty the scan cache: the next query calls the APIs again"),
            ],
            Name::Include => &[(
                "\\i FILE [NAME=VALUE]...",
                "Run a file of statements; a policy file (-- @action:) runs as a dry run",
            )],
            Name::Connections => &[(
                "\\connections",
                "AWS connections (account, the read calls they may make), GitHub's rate limit, Slack",
            )],
        }
    }

    /// What completion offers after it.
    pub fn arguments(self) -> Arguments {
        match self {
            Name::Help | Name::Quit | Name::MaxRows | Name::Connections => Arguments::None,
            Name::Describe => Arguments::Tables,
            Name::Format => Arguments::Words(&["table", "csv", "json", "ndjson"]),
            Name::Timing => Arguments::Words(&["on", "off"]),
            Name::Cache => Arguments::Words(&["clear"]),
            Name::Include => Arguments::Files,
        }
    }

    /// The command `word` runs, aliases included.
    pub fn from_word(word: &str) -> Option<Name> {
        Name::ALL.into_iter().find(|name| name.word() == word || name.aliases().contains(&word))
    }

    /// The help table's rows, in order.
    pub fn help_rows() -> impl Iterator<Item = (&'static str, &'static str)> {
        Name::ALL.into_iter().flat_map(|name| name.help().iter().copied())
    }
}

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
        let word = words.next().unwrap_or("");
        let args: Vec<&str> = words.collect();
        let Some(name) = Name::from_word(word) else {
            return Err(format!("unknown command {word}: \\? lists the commands"));
        };
        let no_args =
            |c: Command| if args.is_empty() { Ok(c) } else { Err(format!("{word} takes no argument")) };
        let bad = || Err(format!("bad arguments to {word}: \\? shows how to use it"));
        match (name, args.as_slice()) {
            (Name::Help, _) => Ok(Command::Help),
            (Name::Quit, _) => no_args(Command::Quit),
            (Name::Describe, []) => Ok(Command::Tables),
            (Name::Describe, [table]) => Ok(Command::Describe(table.trim_end_matches(';').to_string())),
            (Name::Describe, _) => bad(),
            (Name::Format, []) => Ok(Command::Format(None)),
            (Name::Format, [f]) => Format::from_str(f, true)
                .map(|f| Command::Format(Some(f)))
                .map_err(|_| format!("unknown format {f:?}: use table, csv, json or ndjson")),
            (Name::Format, _) => bad(),
            (Name::Timing, []) => Ok(Command::Timing(None)),
            (Name::Timing, ["on"]) => Ok(Command::Timing(Some(true))),
            (Name::Timing, ["off"]) => Ok(Command::Timing(Some(false))),
            (Name::Timing, _) => bad(),
            (Name::MaxRows, []) => Ok(Command::MaxRows(None)),
            (Name::MaxRows, [n]) => n
                .parse()
                .map(|n| Command::MaxRows(Some(n)))
                .map_err(|_| format!("\\maxrows takes a number of rows, not {n:?}")),
            (Name::MaxRows, _) => bad(),
            (Name::Cache, []) => Ok(Command::Cache { clear: false }),
            (Name::Cache, ["clear"]) => Ok(Command::Cache { clear: true }),
            (Name::Cache, _) => bad(),
            (Name::Include, [path, params @ ..]) => Ok(Command::Include {
                path: PathBuf::from(path),
                params: params.iter().map(|p| p.to_string()).collect(),
            }),
            (Name::Include, []) => bad(),
            (Name::Connections, _) => no_args(Command::Connections),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ALL` holds every variant once, in declaration order: a variant
    /// added to the enum but not to `ALL` fails here.
    #[test]
    fn all_lists_every_command_once() {
        for (i, name) in Name::ALL.iter().enumerate() {
            assert_eq!(*name as usize, i, "{name:?} is at its place in Name::ALL");
        }
        assert_eq!(Name::ALL.len(), Name::Connections as usize + 1);
    }

    #[test]
    fn parses_commands_and_rejects_bad_arguments() {
        assert_eq!(Command::parse("\\d aws_ecs_service;"), Ok(Command::Describe("aws_ecs_service".into())));
        assert_eq!(Command::parse("\\format CSV"), Ok(Command::Format(Some(Format::Csv))));
        assert_eq!(Command::parse("\\timing"), Ok(Command::Timing(None)));
        assert_eq!(Command::parse("\\cache clear"), Ok(Command::Cache { clear: true }));
        assert_eq!(Command::parse("\\help"), Ok(Command::Help));
        assert!(Command::parse("\\format xml").is_err_and(|e| e.contains("unknown format")));
        assert!(Command::parse("\\maxrows lots").is_err_and(|e| e.contains("number")));
        assert!(Command::parse("\\cache everything").is_err_and(|e| e.contains("bad arguments")));
        assert!(Command::parse("\\x").is_err_and(|e| e.contains("\\? lists")));
    }

    /// Every usage line in `\?` starts with its command's word, so what the
    /// help shows is what completion offers and the parser accepts.
    #[test]
    fn help_completion_and_parser_agree() {
        for name in Name::ALL {
            for (usage, _) in name.help() {
                assert_eq!(usage.split_whitespace().next(), Some(name.word()), "{usage}");
            }
            assert!(Command::parse(name.word()).is_ok() || name == Name::Include, "{} parses", name.word());
        }
        let listed: Vec<&str> = Name::help_rows().map(|(usage, _)| usage).collect();
        assert!(listed.contains(&"\\cache clear"));
    }
}
