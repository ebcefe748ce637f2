//! The terminal loop: read a statement with the line editor, run it, repeat.
//!
//! History persists in `$SKYGLUE_HISTORY`, else `<data dir>/skyglue/history`.
//! Ctrl-C at the prompt clears the line; during a query it cancels the query
//! ([`super::interrupt`]); Ctrl-D or `\q` leaves.

use std::path::PathBuf;
use std::process::ExitCode;

use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use super::complete::Catalog;
use super::helper::ReplHelper;
use super::input::Unit;
use super::meta;
use super::session::{Flow, Session, report_error};

const PROMPT: &str = "skyglue> ";

/// Runs the REPL on the terminal until `\q` or Ctrl-D.
pub async fn run(mut session: Session) -> anyhow::Result<ExitCode> {
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .max_history_size(10_000)?
        .history_ignore_dups(true)?
        .build();
    let mut editor: Editor<ReplHelper, FileHistory> = Editor::with_config(config)?;
    editor.set_helper(Some(ReplHelper::new(Catalog::load(&session.ctx).await)));
    let mut history = History::open(&mut editor);

    println!(
        "skyglue {}: SQL over your cloud APIs. \\? for help, \\q or Ctrl-D to quit.",
        env!("CARGO_PKG_VERSION")
    );
    loop {
        // The editor blocks this thread, which is not one of the runtime's
        // workers: queries only run while the loop is not reading.
        let line = match editor.readline(PROMPT) {
            Ok(line) => line,
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => return Err(e.into()),
        };
        if line.trim().is_empty() {
            continue;
        }
        history.add(&mut editor, &line);
        session.width = editor.dimensions().map(|(cols, _)| cols);
        match meta::run_unit(&mut session, &Unit::classify(&line)).await {
            Ok(Flow::Continue) => {}
            Ok(Flow::Quit) => break,
            Err(e) => report_error(&e, true),
        }
        if session.take_catalog_changed() {
            let catalog = Catalog::load(&session.ctx).await;
            if let Some(helper) = editor.helper_mut() {
                helper.set_catalog(catalog);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The history file, appended to after every entry so a killed session
/// keeps what it ran.
struct History {
    path: Option<PathBuf>,
}

impl History {
    fn open(editor: &mut Editor<ReplHelper, FileHistory>) -> Self {
        let path = std::env::var_os("SKYGLUE_HISTORY")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| dirs::data_dir().map(|d| d.join("skyglue").join("history")));
        if let Some(dir) = path.as_ref().and_then(|p| p.parent()) {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Some(path) = path.as_ref().filter(|p| p.exists())
            && let Err(e) = editor.load_history(path)
        {
            eprintln!("warning: failed to read history {}: {e}", path.display());
        }
        Self { path }
    }

    /// Adds `line`; a file that cannot be written is reported once, then left alone.
    fn add(&mut self, editor: &mut Editor<ReplHelper, FileHistory>, line: &str) {
        let _ = editor.add_history_entry(line);
        if let Some(path) = &self.path
            && let Err(e) = editor.append_history(path)
        {
            eprintln!("warning: failed to save history to {}: {e}", path.display());
            self.path = None;
        }
    }
}
