//! `skyglue tables check FILE`: validates declared tables (a `tables/*.toml`
//! file or a `skyglue.toml` with `[[table]]` entries) without calling any API.
//! A valid file prints one line per table and exits 0; an invalid one exits 2
//! with `file:line: what is wrong`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

/// `skyglue tables ...`.
#[derive(Debug, Subcommand)]
pub enum TablesCommand {
    /// Validate a declarations file: unknown keys, JSON paths, types, keys, pagination (exit 2 with file:line).
    Check {
        /// The file (`tables/*.toml`, or a skyglue.toml with [[table]] entries).
        file: PathBuf,
    },
}

/// Runs a `tables` subcommand.
pub fn run(command: TablesCommand) -> anyhow::Result<ExitCode> {
    match command {
        TablesCommand::Check { file } => {
            let declared = skyglue_rest::check::check_file(&file, &skyglue::registry())
                .map_err(|e| crate::errors::usage(e.to_string()))?;
            let env = skyglue_rest::process_env();
            let noun = if declared.len() == 1 { "table" } else { "tables" };
            println!("{}: {} {noun} ok", file.display(), declared.len());
            print!("{}", skyglue_rest::check::summary(&declared, &env));
            Ok(ExitCode::SUCCESS)
        }
    }
}
