//! The `skyglue` command: query cloud APIs with SQL.
//!
//! `main` parses the command line, runs the command, and maps every error to
//! one line on stderr and an exit code: 0 success, 1 the run failed, 2 bad
//! usage, bad SQL or a bad config.

mod cluster;
mod commands;
mod connections;
mod demo_s3;
mod errors;
#[cfg(test)]
mod help_tests;
mod history;
mod progress;
mod repl;
mod run;
mod schedule;
mod shell;
mod tables;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use skyglue::output::Format;
use skyglue_core::config::ByteSize;

/// How `run` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// For people.
    Text,
    /// The JSON report a scheduler parses.
    Json,
}

/// `--notify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum NotifyFlag {
    /// Send no notification this run.
    None,
    /// Notify Slack (fails validation when Slack is not configured).
    Slack,
}

/// What `skyglue --help` ends with.
const EXAMPLES: &str = "Examples:
  skyglue demo                            # a dry run against the built-in sandbox cloud, no account needed
  skyglue query \"SELECT account_id, region, service_name FROM aws_ecs_service\"

The guide: docs/guide/README.md in the repository.";

/// `--version`: skyglue's version and DataFusion's.
static VERSION: std::sync::LazyLock<String> = std::sync::LazyLock::new(shell::version);

/// SQL for cloud APIs: query AWS ECS/ECR with SQL, across every account and region.
#[derive(Debug, Parser)]
#[command(name = "skyglue", version = VERSION.as_str(), about, propagate_version = true, after_help = EXAMPLES)]
struct Cli {
    /// Configuration file (default: $SKYGLUE_CONFIG, else ./skyglue.toml, else the standard AWS chain).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Where the journal lives (default: $SKYGLUE_STATE_DIR, else the user's state directory).
    #[arg(long, global = true, value_name = "DIR")]
    state_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run SQL statements and print their results.
    #[command(
        after_help = "Examples:\n  skyglue query \"SELECT repository_name, image_tags, image_pushed_at FROM aws_ecr_image WHERE repository_name = 'web'\"\n  skyglue query \"SELECT source, used_by, repository_name, digest FROM image_in_use\" --format json"
    )]
    Query {
        /// One or more statements separated by `;`.
        sql: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Run the scans on these `skyglue worker`s (HOST:PORT,...); default: `[cluster] workers`.
        #[arg(long, value_delimiter = ',', value_name = "HOST:PORT,...")]
        workers: Vec<String>,
        /// Cap the memory DataFusion's operators hold (e.g. 512MiB, 2G); sorts, joins and aggregations spill to disk past it. Default: `[engine] memory_limit`, else no cap.
        #[arg(long, value_name = "SIZE")]
        memory_limit: Option<ByteSize>,
    },
    /// Run a policy file: a dry run unless --apply.
    #[command(
        after_help = "Examples:\n  skyglue run queries/ecr_cleanup.sql                         # dry run: prints what it would do\n  skyglue run queries/ecr_cleanup.sql --apply --param max_age_days=60"
    )]
    Run {
        /// The policy (.sql with an @action header).
        policy: PathBuf,
        /// Act on the rows; without it nothing is changed.
        #[arg(long)]
        apply: bool,
        /// Override a parameter declared with `-- @param NAME: DEFAULT`.
        #[arg(long = "param", value_name = "NAME=VALUE")]
        params: Vec<String>,
        /// Report format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Override the policy's @notify for this run.
        #[arg(long, value_enum)]
        notify: Option<NotifyFlag>,
        /// Run the query's scans on these `skyglue worker`s (deletes stay here); default: `[cluster] workers`.
        #[arg(long, value_delimiter = ',', value_name = "HOST:PORT,...")]
        workers: Vec<String>,
        /// Cap the memory DataFusion's operators hold (e.g. 512MiB, 2G); sorts, joins and aggregations spill to disk past it. Default: `[engine] memory_limit`, else no cap.
        #[arg(long, value_name = "SIZE")]
        memory_limit: Option<ByteSize>,
    },
    /// Undo an applying run (restore what an archive_ecr_images run archived): a dry run unless --apply.
    #[command(
        after_help = "Examples:\n  skyglue restore RUN_ID                                     # dry run: what would be restored\n  skyglue restore RUN_ID --apply --format json              # RUN_ID as the archive run's report names it"
    )]
    Restore {
        /// The run to undo, as its report and the journal name it.
        run_id: String,
        /// Restore; without it nothing is changed.
        #[arg(long)]
        apply: bool,
        /// Report format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
        /// Notify (slack) or not (none); default: Slack when it is configured.
        #[arg(long, value_enum)]
        notify: Option<NotifyFlag>,
    },
    /// Serve this config's tables to `query`/`run --workers` coordinators that present the cluster token ($SKYGLUE_CLUSTER_TOKEN), until SIGTERM or Ctrl-C.
    #[command(
        after_help = "Examples (SKYGLUE_CLUSTER_TOKEN set to the same secret on every machine):\n  skyglue worker --listen 10.0.1.11:50051                     # on each worker machine\n  skyglue run queries/ecr_cleanup.sql --workers 10.0.1.11:50051,10.0.1.12:50051   # on the coordinator"
    )]
    Worker {
        /// Address to listen on (port 0: any free port; the real one is printed).
        #[arg(long, value_name = "HOST:PORT")]
        listen: String,
    },
    /// Interactive SQL: completion, history, meta-commands (`\?`); reads statements from a pipe too.
    #[command(
        after_help = "Examples:\n  skyglue repl                                               # then \\d, \\d aws_ecr_image, SELECT ...;\n  echo \"SELECT count(*) FROM aws_ecr_image;\" | skyglue repl"
    )]
    Repl {
        /// Reuse API results for this many seconds, so a rerun makes no calls (0: off).
        #[arg(long, value_name = "SECONDS", default_value_t = repl::DEFAULT_CACHE_TTL.as_secs())]
        cache_ttl: u64,
        /// Cap the memory DataFusion's operators hold (e.g. 512MiB, 2G); sorts, joins and aggregations spill to disk past it. Default: `[engine] memory_limit`, else no cap.
        #[arg(long, value_name = "SIZE")]
        memory_limit: Option<ByteSize>,
    },
    /// Run the [[schedule]] entries of skyglue.toml on their crons until SIGTERM or Ctrl-C.
    #[command(
        after_help = "Examples:\n  skyglue schedule --list                                    # each entry's next three fire times\n  skyglue schedule --once                                    # every entry now, then exit"
    )]
    Schedule {
        /// Run every entry once now, one after the other, and exit with the worst exit code.
        #[arg(long, conflicts_with = "list")]
        once: bool,
        /// Print each entry's next three fire times and exit.
        #[arg(long)]
        list: bool,
    },
    /// Dry-run the shipped cleanup policy against the built-in sandbox cloud: no account needed.
    #[command(
        after_help = "Examples:\n  skyglue demo\n  skyglue demo --serve                                       # keep the sandbox up; prints the exports"
    )]
    Demo {
        /// Keep the sandbox running and print the environment that points skyglue at it.
        #[arg(long)]
        serve: bool,
    },
    /// Check the setup: AWS accounts and the calls they allow, GitHub's rate limit, Slack (exit 1 when something is missing).
    #[command(after_help = "Examples:\n  skyglue connections\n  skyglue connections --format json")]
    Connections {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
        format: ReportFormat,
    },
    /// Render the journal as one self-contained HTML page: runs over time, bytes reclaimed per repository, the latest failures.
    #[command(
        after_help = "Examples:\n  skyglue report                                             # writes skyglue-report.html\n  skyglue report --out -"
    )]
    Report {
        /// Where to write the page (`-` for stdout).
        #[arg(long, value_name = "FILE.html", default_value = "skyglue-report.html")]
        out: PathBuf,
    },
    /// The built-in tables (`--markdown`: the reference page), and `check` for declared REST tables.
    #[command(
        after_help = "Examples:\n  skyglue tables --markdown > docs/guide/tables.md\n  skyglue tables check tables/pagerduty_incident.toml"
    )]
    Tables(tables::TablesArgs),
    /// Print a completion script for a shell (see docs/guide/install.md for where to put it).
    #[command(
        after_help = "Examples:\n  skyglue completions bash > ~/.local/share/bash-completion/completions/skyglue\n  skyglue completions zsh > ~/.zfunc/_skyglue"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: shell::Shell,
    },
    /// Print skyglue's man page (roff), e.g. `skyglue man > /usr/local/share/man/man1/skyglue.1`.
    #[command(after_help = "Example:\n  skyglue man > ~/.local/share/man/man1/skyglue.1")]
    Man,
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
    let result: anyhow::Result<ExitCode> = runtime.block_on(async {
        let ok = |r: anyhow::Result<()>| r.map(|()| ExitCode::SUCCESS);
        match cli.command {
            Some(Command::Query { sql, format, workers, memory_limit }) => {
                let (config, state_dir) = (cli.config.as_deref(), cli.state_dir.as_deref());
                ok(commands::query(config, state_dir, &sql, format, &workers, memory_limit).await)
            }
            Some(Command::Run { policy, apply, params, format, notify, workers, memory_limit }) => {
                let args = run::RunArgs {
                    policy,
                    apply,
                    params,
                    format,
                    notify,
                    workers,
                    memory_limit,
                    restore: None,
                };
                run::run(cli.config.as_deref(), cli.state_dir.as_deref(), args).await
            }
            Some(Command::Restore { run_id, apply, format, notify }) => {
                let args = run::RunArgs::restore(run_id, apply, format, notify);
                run::run(cli.config.as_deref(), cli.state_dir.as_deref(), args).await
            }
            Some(Command::Schedule { once, list }) => {
                let args = schedule::ScheduleArgs { once, list };
                schedule::schedule(cli.config.as_deref(), cli.state_dir.as_deref(), args).await
            }
            Some(Command::Worker { listen }) => ok(cluster::worker(cli.config.as_deref(), &listen).await),
            Some(Command::Demo { serve }) => ok(commands::demo(cli.state_dir.as_deref(), serve).await),
            Some(Command::Connections { format }) => {
                connections::command(cli.config.as_deref(), format).await
            }
            Some(Command::Report { out }) => {
                ok(history::command(cli.config.as_deref(), cli.state_dir.as_deref(), &out).await)
            }
            Some(Command::Tables(args)) => tables::run(args).await,
            Some(Command::Completions { shell }) => {
                shell::completions(Cli::command(), shell, &mut std::io::stdout());
                Ok(ExitCode::SUCCESS)
            }
            Some(Command::Man) => ok(shell::man(Cli::command(), &mut std::io::stdout()).map_err(Into::into)),
            Some(Command::Repl { cache_ttl, memory_limit }) => {
                let cache_ttl = std::time::Duration::from_secs(cache_ttl);
                let args = repl::ReplArgs { cache_ttl, bare: false, memory_limit };
                repl::run(cli.config.as_deref(), cli.state_dir.as_deref(), args).await
            }
            None => {
                let args =
                    repl::ReplArgs { cache_ttl: repl::DEFAULT_CACHE_TTL, bare: true, memory_limit: None };
                repl::run(cli.config.as_deref(), cli.state_dir.as_deref(), args).await
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            let (code, message) = errors::describe(&e);
            eprintln!("error: {message}");
            ExitCode::from(code)
        }
    }
}
