//! `skyglue tables`: the built-in tables (a list, or with `--markdown` the
//! reference page `docs/guide/tables.md` is generated from), and
//! `skyglue tables check FILE`, which validates declared tables (a
//! `tables/*.toml` file or a `skyglue.toml` with `[[table]]` entries) without
//! calling any API. A valid file prints one line per table and exits 0; an
//! invalid one exits 2 with `file:line: what is wrong`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

/// `skyglue tables [--markdown]`, or `skyglue tables check FILE`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct TablesArgs {
    /// Print the reference of every built-in table and view in Markdown (docs/guide/tables.md).
    #[arg(long)]
    markdown: bool,
    #[command(subcommand)]
    command: Option<TablesCommand>,
}

/// `skyglue tables ...`.
#[derive(Debug, Subcommand)]
pub enum TablesCommand {
    /// Validate a declarations file: unknown keys, JSON paths, types, keys, pagination (exit 2 with file:line).
    #[command(after_help = "Example:\n  skyglue tables check tables/pagerduty_incident.toml")]
    Check {
        /// The file (`tables/*.toml`, or a skyglue.toml with [[table]] entries).
        file: PathBuf,
    },
}

/// Runs `skyglue tables`.
pub async fn run(args: TablesArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(TablesCommand::Check { file }) => {
            let declared = skyglue_rest::check::check_file(&file, &skyglue::registry())
                .map_err(|e| crate::errors::usage(e.to_string()))?;
            let env = skyglue_rest::process_env();
            let noun = if declared.len() == 1 { "table" } else { "tables" };
            println!("{}: {} {noun} ok", file.display(), declared.len());
            print!("{}", skyglue_rest::check::summary(&declared, &env));
        }
        None if args.markdown => print!("{}", skyglue::reference::markdown(&skyglue::registry()).await?),
        None => {
            let registry = skyglue::registry();
            let tables = registry.tables().iter().map(|t| (t.spec().name, "table", t.spec().description));
            let views = registry.views().iter().map(|v| (v.name, "view", v.description));
            for (name, kind, description) in tables.chain(views) {
                println!("{name:<32} {kind:<5} {description}");
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
