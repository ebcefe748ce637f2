//! `--help` teaches: the top level and every subcommand end with examples,
//! and every example that is a plain `skyglue ...` command line parses.

use clap::{CommandFactory, Parser};

use crate::Cli;

/// Every command, as the path of names that reaches it (`["tables", "check"]`).
fn all_commands() -> Vec<(Vec<String>, clap::Command)> {
    fn walk(path: Vec<String>, cmd: &clap::Command, out: &mut Vec<(Vec<String>, clap::Command)>) {
        out.push((path.clone(), cmd.clone()));
        for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            let mut next = path.clone();
            next.push(sub.get_name().to_string());
            walk(next, sub, out);
        }
    }
    let mut out = Vec::new();
    walk(vec![], &Cli::command(), &mut out);
    out
}

/// The words of an example line, shell-style for the plain cases: double
/// quotes group, a `#` comment ends it; `None` for a line that pipes or
/// redirects (it is a shell command, not only skyglue's).
fn words(line: &str) -> Option<Vec<String>> {
    let line = line.split(" #").next().unwrap_or(line).trim();
    let (mut words, mut word, mut quoted) = (Vec::new(), String::new(), false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            '|' | '>' | '<' if !quoted => return None,
            ' ' if !quoted => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    Some(words)
}

#[test]
fn every_help_ends_with_examples_that_parse() {
    let mut parsed = 0;
    for (path, mut cmd) in all_commands() {
        let name = format!("skyglue {}", path.join(" "));
        let help = cmd.render_long_help().to_string();
        let (_, examples) =
            help.rsplit_once("Example").unwrap_or_else(|| panic!("`{name} --help` has no examples:\n{help}"));
        assert!(examples.contains("skyglue"), "`{name} --help`'s examples name no command:\n{help}");
        for line in examples.lines().map(str::trim).filter(|l| l.starts_with("skyglue ")) {
            let Some(args) = words(line) else { continue };
            if let Err(e) = Cli::try_parse_from(&args) {
                panic!("`{name} --help` shows an example that does not parse: {line}\n{e}");
            }
            parsed += 1;
        }
    }
    assert!(parsed >= 10, "only {parsed} examples were checked");
}

#[test]
fn example_words_split_like_a_shell() {
    assert_eq!(
        words("skyglue query \"SELECT 1, 'a b'\" --format json   # a comment"),
        Some(vec![
            "skyglue".into(),
            "query".into(),
            "SELECT 1, 'a b'".into(),
            "--format".into(),
            "json".into()
        ])
    );
    assert_eq!(words("skyglue man > skyglue.1"), None);
}
