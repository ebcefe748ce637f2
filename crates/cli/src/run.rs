//! `skyglue run POLICY.sql`: validate, plan, guard, act (or not), report.
//!
//! Exit codes: 2 when the policy, its parameters or its SQL are invalid
//! (nothing runs, no report); otherwise the report is printed, failed runs
//! included, and the exit code is 0 for `ok`, 1 for `partial` or `failed` or
//! when the notification could not be sent.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use skyglue_core::{Config, Engine};
use skyglue_policy::{Journal, Notifier, Report, RunOptions, RunOutcome, Runner};

use crate::{NotifyFlag, ReportFormat};

/// The `run` subcommand's arguments.
pub struct RunArgs {
    pub policy: PathBuf,
    pub apply: bool,
    pub params: Vec<String>,
    pub format: ReportFormat,
    pub notify: Option<NotifyFlag>,
}

/// Runs a policy with the engine `config` describes.
pub async fn run(config: Option<&Path>, state_dir: Option<&Path>, args: RunArgs) -> anyhow::Result<ExitCode> {
    let format = args.format;
    let outcome = execute(config, state_dir, args).await?;
    finish(&outcome, format)
}

/// `skyglue run` without the printing: loads the config, builds the engine,
/// runs the policy and returns its outcome (`skyglue schedule` runs this).
/// An error is what `run` would have exited 1 or 2 with before any report.
pub async fn execute(
    config: Option<&Path>,
    state_dir: Option<&Path>,
    args: RunArgs,
) -> anyhow::Result<RunOutcome> {
    let (_, config) = Config::discover(config)?;
    let dir = self::state_dir(state_dir, &config);
    let engine = skyglue::engine(&config).await?;
    let notifier = skyglue::notifier(engine.connections());
    execute_with(engine, notifier, Some(&dir), args).await
}

/// The state directory: `--state-dir`, else `$SKYGLUE_STATE_DIR`, else the
/// config's `[state] dir`, else the user's state directory.
pub fn state_dir(flag: Option<&Path>, config: &Config) -> PathBuf {
    flag.map(Path::to_path_buf)
        .or_else(|| std::env::var_os("SKYGLUE_STATE_DIR").filter(|d| !d.is_empty()).map(PathBuf::from))
        .or_else(|| config.state.dir.clone())
        .unwrap_or_else(Journal::default_dir)
}

/// Runs a policy on a ready engine, without printing: the outcome.
pub async fn execute_with(
    engine: Engine,
    notifier: Option<Arc<dyn Notifier>>,
    state_dir: Option<&Path>,
    args: RunArgs,
) -> anyhow::Result<RunOutcome> {
    let dir = state_dir.map(Path::to_path_buf).unwrap_or_else(Journal::default_dir);
    let journal = Arc::new(Journal::open(&dir)?);
    let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), notifier.clone());
    let mut overrides = Vec::new();
    for p in &args.params {
        overrides.push(skyglue_policy::params::split_override(p).map_err(crate::errors::usage)?);
    }
    let options = RunOptions {
        apply: args.apply,
        params: overrides,
        notify: args.notify.map(|n| n == NotifyFlag::Slack),
    };
    let prepared = runner.prepare(&args.policy, &options).await.map_err(crate::errors::usage)?;
    if !prepared.notifies() && options.notify.is_none() && prepared.policy.notify.is_none() {
        eprintln!("note: no Slack is configured, so this run notifies nobody (set SLACK_WEBHOOK_URL)");
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
        ReportFormat::Text => write!(out, "{}", report.to_text())?,
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
