//! `skyglue run POLICY.sql`: validate, plan, guard, act (or not), report.
//!
//! Exit codes: 2 when the policy, its parameters or its SQL are invalid
//! (nothing runs, no report); otherwise the report is printed, failed runs
//! included, and the exit code is 0 for `ok`, 1 for `partial` or `failed` or
//! when the notification could not be sent.
//!
//! Every failure reaches Slack: one that happens before the report exists
//! (the config, the policy's validation, credentials, the engine, the state
//! directory) sends one message naming the policy file and the error, with
//! the config's Slack settings, else the environment's (`--notify none` and
//! `@notify: none` silence it). SIGTERM or SIGINT during a run lets the call
//! in flight finish, starts no other, and ends the run `interrupted`
//! (journaled, reported, notified, exit 1); a second signal abandons the call
//! in flight (its targets journaled `unknown`, the lock released, exit 1), a
//! third exits at once. A panic in the run is caught by the runner and ends
//! in the same failed report as any failure, run id and actions included.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use skyglue_core::connection::{SlackSettings, slack_settings};
use skyglue_core::{Config, Engine};
use skyglue_policy::{
    Interrupt, Journal, Locks, Mode, Notifier, PolicyFile, Report, RunOptions, RunOutcome, Runner, TeamTable,
};

use crate::{NotifyFlag, ReportFormat};

/// The `run` subcommand's arguments.
pub struct RunArgs {
    pub policy: PathBuf,
    pub apply: bool,
    pub params: Vec<String>,
    pub format: ReportFormat,
    pub notify: Option<NotifyFlag>,
    /// `--workers`; empty: `[cluster] workers`, else this process alone.
    pub workers: Vec<String>,
    /// `--memory-limit`; `None`: `[engine] memory_limit`.
    pub memory_limit: Option<skyglue_core::config::ByteSize>,
    /// `skyglue restore RUN_ID`: undo that run instead of running `policy`.
    pub restore: Option<String>,
}

impl RunArgs {
    /// The arguments of `skyglue restore RUN_ID`: a run of its own, reported,
    /// journaled and notified like `run`'s (`policy` only names it in messages).
    pub fn restore(run_id: String, apply: bool, format: ReportFormat, notify: Option<NotifyFlag>) -> Self {
        RunArgs {
            policy: PathBuf::from(format!("restore {run_id}")),
            apply,
            params: vec![],
            format,
            notify,
            workers: vec![],
            memory_limit: None,
            restore: Some(run_id),
        }
    }
}

/// Runs a policy with the engine `config` describes.
pub async fn run(config: Option<&Path>, state_dir: Option<&Path>, args: RunArgs) -> anyhow::Result<ExitCode> {
    let format = args.format;
    let interrupt = Interrupt::default();
    let signals = watch_signals(interrupt.clone());
    let outcome = execute_interruptible(config, state_dir, args, interrupt).await;
    signals.abort();
    finish(&outcome?, format)
}

/// `skyglue run` without the printing: loads the config, builds the engine,
/// runs the policy and returns its outcome (`skyglue schedule` runs this),
/// stopped gracefully when `interrupt` is raised. An error is what `run`
/// would have exited 1 or 2 with before any report, and has already been sent
/// to Slack.
pub async fn execute_interruptible(
    config: Option<&Path>,
    state_dir: Option<&Path>,
    args: RunArgs,
    interrupt: Interrupt,
) -> anyhow::Result<RunOutcome> {
    // Until the config parses, the environment's Slack settings.
    let mut slack = slack_settings(&Config::default());
    let policy = args.policy.clone();
    let mode = if args.apply { Mode::Apply } else { Mode::DryRun };
    let silenced = args.notify == Some(NotifyFlag::None);
    let result = configure_and_run(config, state_dir, args, interrupt, &mut slack).await;
    if let Err(e) = &result
        && !silenced
        && !silenced_by_header(&policy)
    {
        notify_early_failure(&slack, &policy.display().to_string(), mode, e).await;
    }
    result
}

/// Sends the one Slack message for a failure before any report exists
/// (`what` names the policy file, or the scheduler); a message that cannot be
/// sent is said on stderr.
pub(crate) async fn notify_early_failure(
    slack: &SlackSettings,
    what: &str,
    mode: Mode,
    error: &anyhow::Error,
) {
    let (_, message) = crate::errors::describe(error);
    if let Some(Err(failed)) = skyglue_policy::notify_failure(slack, what, mode, &message).await {
        eprintln!("error: {failed}");
    }
}

async fn configure_and_run(
    config: Option<&Path>,
    state_dir: Option<&Path>,
    args: RunArgs,
    interrupt: Interrupt,
    slack: &mut SlackSettings,
) -> anyhow::Result<RunOutcome> {
    let (_, config) = Config::discover(config)?;
    let config = crate::errors::with_memory_limit(config, args.memory_limit);
    *slack = slack_settings(&config);
    let dir = self::state_dir(state_dir, &config);
    let engine = crate::cluster::engine(&config, &args.workers).await?;
    let team = team_table(&config, &engine)?;
    let notifier = skyglue::notifier(engine.connections());
    run_on(engine, notifier, &dir, team, interrupt, args).await
}

/// The team table `[state] dynamodb_table` names, reached through the first
/// AWS connection (in `dynamodb_region` when set).
pub fn team_table(config: &Config, engine: &Engine) -> anyhow::Result<Option<TeamTable>> {
    let Some(table) = config.state.dynamodb_table.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let Some(connection) = engine.connections().aws.first() else {
        return Err(crate::errors::usage(format!(
            "[state] dynamodb_table = {table:?} needs an AWS connection to reach it: add an [[aws]] entry"
        )));
    };
    Ok(Some(TeamTable::new(connection, table, config.state.dynamodb_region.as_deref())))
}

/// Whether the policy file's header says `@notify: none` (a file that does
/// not parse says nothing, so its failure is announced).
fn silenced_by_header(policy: &Path) -> bool {
    PolicyFile::read(policy).is_ok_and(|p| p.notify == Some(skyglue_policy::NotifyTarget::None))
}

/// Raises `interrupt` on the first SIGTERM or SIGINT; stops the run at once
/// on the second (the calls in flight journaled unknown, the lock released);
/// exits on the third.
fn watch_signals(interrupt: Interrupt) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        let mut seen = 0;
        loop {
            #[cfg(unix)]
            let terminate = async {
                match term.as_mut() {
                    Some(t) => t.recv().await,
                    None => std::future::pending().await,
                }
            };
            #[cfg(not(unix))]
            let terminate = std::future::pending::<Option<()>>();
            let name = tokio::select! {
                _ = terminate => "SIGTERM",
                r = tokio::signal::ctrl_c() => match r {
                    Ok(()) => "SIGINT",
                    Err(_) => return,
                },
            };
            seen += 1;
            match seen {
                1 => {
                    eprintln!(
                        "skyglue: {name}: finishing the call in flight, then stopping (send it again to stop now)"
                    );
                    interrupt.raise(name);
                }
                2 => {
                    eprintln!(
                        "skyglue: {name} again: stopping now; the call in flight is journaled as unknown \
                         and the lock released (send it again to exit at once)"
                    );
                    interrupt.stop_now(format!("{name} twice"));
                }
                _ => {
                    eprintln!("skyglue: {name} a third time: exiting now (the journal says what was done)");
                    std::process::exit(1);
                }
            }
        }
    })
}

/// The state directory: `--state-dir`, else `$SKYGLUE_STATE_DIR`, else the
/// config's `[state] dir`, else the user's state directory.
pub fn state_dir(flag: Option<&Path>, config: &Config) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SKYGLUE_STATE_DIR").filter(|d| !d.is_empty()).map(PathBuf::from))
        .or_else(|| config.state.dir.clone())
        .unwrap_or_else(Journal::default_dir)
}

/// Runs a policy on a ready engine with its journal and locks in `dir` (and
/// the team table), stopping when `interrupt` is raised.
async fn run_on(
    engine: Engine,
    notifier: Option<Arc<dyn Notifier>>,
    dir: &Path,
    team: Option<TeamTable>,
    interrupt: Interrupt,
    args: RunArgs,
) -> anyhow::Result<RunOutcome> {
    let mut journal = Journal::open(dir)?;
    let mut locks = Locks::new(dir);
    if let Some(team) = team {
        journal = journal.with_team(team.clone());
        locks = locks.with_team(team);
    }
    let runner = Runner::new(engine, Arc::new(journal), skyglue_aws::sinks::all(), notifier.clone())
        .with_locks(locks)
        .with_interrupt(interrupt.clone());
    let mut overrides = Vec::new();
    for p in &args.params {
        overrides.push(skyglue_policy::params::split_override(p).map_err(crate::errors::usage)?);
    }
    let options = RunOptions {
        apply: args.apply,
        params: overrides,
        notify: args.notify.map(|n| n == NotifyFlag::Slack),
    };
    let prepared = match &args.restore {
        Some(run_id) => runner.prepare_restore(run_id, &options).await,
        None => runner.prepare(&args.policy, &options).await,
    };
    let prepared = prepared.map_err(|e| crate::errors::usage(e.to_string()))?;
    if !prepared.notifies() && options.notify.is_none() && prepared.policy.notify.is_none() {
        eprintln!("note: no Slack is configured, so this run notifies nobody (set SLACK_WEBHOOK_URL)");
    }
    if let Some(signal) = interrupt.reason() {
        anyhow::bail!("interrupted ({signal}) before the run started: nothing was done");
    }
    let policy_name = prepared.policy.name.clone();
    let mode = prepared.mode;
    let notifies = prepared.notifies();

    // A panic in the runner still ends in a report and a notification.
    let runner = Arc::new(runner);
    let task = {
        let runner = runner.clone();
        tokio::spawn(async move { runner.run(prepared).await })
    };
    let progress = crate::progress::Progress::start(runner.engine().connections().counters.clone());
    let joined = task.await;
    progress.finish();
    let outcome = match joined {
        Ok(outcome) => outcome,
        Err(e) => {
            let mut report = Report::new("unknown", &policy_name, mode);
            report.fail(format!("internal error in the policy runner: {}", panic_message(e)));
            let notify_error = match (&notifier, notifies) {
                (Some(n), true) => n.notify(&report).await.err(),
                _ => None,
            };
            RunOutcome { report, notify_error }
        }
    };
    Ok(outcome)
}

/// Prints the report and the errors of a run; its exit code.
fn finish(outcome: &RunOutcome, format: ReportFormat) -> anyhow::Result<ExitCode> {
    print(&outcome.report, format)?;
    if let Some(e) = &outcome.notify_error {
        eprintln!("error: {e}");
    }
    if let Some(e) = &outcome.report.error {
        eprintln!("error: {e}");
    }
    Ok(ExitCode::from(outcome.exit_code()))
}

fn print(report: &Report, format: ReportFormat) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        ReportFormat::Json => writeln!(out, "{}", report.to_json())?,
        ReportFormat::Text => write!(out, "{}", report.to_text_styled(skyglue::output::stdout_colour()))?,
    }
    out.flush()?;
    Ok(())
}

fn panic_message(e: tokio::task::JoinError) -> String {
    if !e.is_panic() {
        return e.to_string();
    }
    let payload = e.into_panic();
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}
