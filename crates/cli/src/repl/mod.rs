//! `skyglue repl`: interactive SQL over the cloud APIs.
//!
//! On a terminal it is a line editor (rustyline) with history, tab completion
//! and multi-line statements that end at `;`; Ctrl-C cancels the running
//! query, Ctrl-D quits. With piped input (`echo "SELECT 1;" | skyglue repl`)
//! it runs the statements and meta-commands without prompts, colour or a
//! progress line, reports each error as one line, and exits 1 if any failed.
//!
//! The session keeps a scan cache (`--cache-ttl`, 5 minutes by default) so
//! rerunning a query makes no API calls; `\cache clear` empties it.

mod command;
mod complete;
mod connections;
mod describe;
mod fit;
mod helper;
mod input;
mod interactive;
mod interrupt;
mod meta;
mod policy;
mod session;

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use skyglue_core::Config;

use session::Session;

/// The scan cache's default time to live.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(300);

/// How the REPL was started.
#[derive(Debug, Clone, Copy)]
pub struct ReplArgs {
    /// How long scan results are reused; zero turns the cache off.
    pub cache_ttl: Duration,
    /// Started as a bare `skyglue`: piped input with no statements is then a
    /// usage error rather than an empty session.
    pub bare: bool,
    /// `--memory-limit`; `None`: `[engine] memory_limit`.
    pub memory_limit: Option<skyglue_core::config::ByteSize>,
}

/// Runs the REPL on the engine `config` describes, with the journal in `state_dir`.
pub async fn run(
    config: Option<&Path>,
    state_dir: Option<&Path>,
    args: ReplArgs,
) -> anyhow::Result<ExitCode> {
    let interactive = std::io::stdin().is_terminal();
    // Piped input is a script: read it before connecting, so an empty one
    // fails fast without touching any configuration.
    let script = if interactive {
        None
    } else {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("failed to read statements from stdin")?;
        if args.bare && text.trim().is_empty() {
            return Err(crate::errors::usage(
                "no command given: try `skyglue repl`, `skyglue query \"SELECT ...\"` or `skyglue --help`",
            ));
        }
        Some(text)
    };

    let (_, config) = Config::discover(config)?;
    let config = crate::errors::with_memory_limit(config, args.memory_limit);
    let mut engine = skyglue::engine(&config).await?;
    if !args.cache_ttl.is_zero() {
        engine = engine.with_cache(args.cache_ttl);
    }
    let ctx = engine.session().await?;
    let state_dir = crate::run::state_dir(state_dir, &config);
    let team = crate::run::team_table(&config, &engine)?;
    skyglue::register_team_journal(&ctx, &state_dir, team)?;
    let session = Session::new(engine, ctx, state_dir, interactive);

    match script {
        None => interactive::run(session).await,
        Some(text) => Ok(piped(session, &text).await),
    }
}

/// Runs a script without prompts: every unit in turn, errors as one line
/// each, exit code 1 if any failed.
async fn piped(mut session: Session, text: &str) -> ExitCode {
    let mut failed = false;
    for unit in input::units(text) {
        match meta::run_unit(&mut session, &unit).await {
            Ok(session::Flow::Continue) => {}
            Ok(session::Flow::Quit) => break,
            Err(e) => {
                failed = true;
                session::report_error(&e, false);
            }
        }
    }
    if failed { ExitCode::from(1) } else { ExitCode::SUCCESS }
}
