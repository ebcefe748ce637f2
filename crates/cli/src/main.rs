//! The `skyglue` command: query cloud APIs with SQL.
//!
//! `main` parses the command line, runs the command, and maps every error to
//! one line on stderr and an exit code: 0 success, 1 the run failed, 2 bad
//! usage, bad SQL or a bad config.

mod commands;
mod errors;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use skyglue::output::Format;

/// SQL for cloud APIs: query AWS ECS/ECR with SQL, across every account and region.
#[derive(Debug, Parser)]
#[command(name = "skyglue", version, about, propagate_version = true)]
struct Cli {
    /// Configuration file (default: $SKYGLUE_CONFIG, else ./skyglue.toml, else the standard AWS chain).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run SQL statements and print their results.
    Query {
        /// One or more statements separated by `;`.
        sql: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Run the shipped cleanup query against the built-in sandbox cloud: no account needed.
    Demo {
        /// Keep the sandbox running and print the environment that points skyglue at it.
        #[arg(long)]
        serve: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Some(Command::Query { sql, format }) => commands::query(cli.config.as_deref(), &sql, format).await,
            Some(Command::Demo { serve }) => commands::demo(serve).await,
            None => Err(errors::usage("no command given: try `skyglue query \"SELECT ...\"` or `skyglue --help`")),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let (code, message) = errors::describe(&e);
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}
