//! The line editor's helper: completion ([`super::complete`]), file names
//! after `\i`, and multi-line input until a statement ends with `;`.

use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{Context, Helper};

use super::command::{Arguments, Name};
use super::complete::{self, Catalog};
use super::input;

/// Completion and validation for the REPL's editor.
pub struct ReplHelper {
    catalog: Catalog,
    files: FilenameCompleter,
}

impl ReplHelper {
    /// A helper completing from `catalog`.
    pub fn new(catalog: Catalog) -> Self {
        Self { catalog, files: FilenameCompleter::new() }
    }

    /// Replaces the catalog (after `CREATE VIEW`, say).
    pub fn set_catalog(&mut self, catalog: Catalog) {
        self.catalog = catalog;
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let current = line[..pos].rsplit(';').next().unwrap_or("").trim_start();
        let command = current.split_once(char::is_whitespace).and_then(|(word, _)| Name::from_word(word));
        if command.map(Name::arguments) == Some(Arguments::Files) {
            return self.files.complete(line, pos, ctx);
        }
        Ok(complete::complete(&self.catalog, line, pos))
    }
}

impl Validator for ReplHelper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if input::is_complete(ctx.input()) {
            ValidationResult::Valid(None)
        } else {
            ValidationResult::Incomplete
        })
    }
}

impl Hinter for ReplHelper {
    type Hint = String;
}

impl Highlighter for ReplHelper {}

impl Helper for ReplHelper {}
