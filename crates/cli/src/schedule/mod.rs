//! `skyglue schedule [--once] [--list]`: runs the `[[schedule]]` entries of
//! `skyglue.toml` on their crons, in one long-running process.
//!
//! Each run goes through the same code as `skyglue run`
//! ([`crate::run::execute_interruptible`]):
//! the config is read again, the policy validated, journaled and notified
//! exactly as by hand. The loop itself ([`scheduler`]) is generic over a
//! [`clock::Clock`] and a run function, so its tests need no cloud and no
//! waiting. Each run's outcome is one line on stderr:
//!
//! ```text
//! 2026-11-30T03:00:04Z ecr-cleanup dry_run ok planned=7 done=0 skipped=2 failed=0
//! ```

pub mod clock;
pub mod entry;
pub mod scheduler;
pub mod state;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use skyglue_core::Config;
use skyglue_core::config::NotifyChoice;
use skyglue_policy::{Interrupt, RunOutcome};

use self::clock::{Clock, SystemClock};
use self::entry::Entry;
use self::scheduler::{Finished, LogFn, RunFn, Scheduler, stamp};
use crate::{NotifyFlag, ReportFormat};

/// The `schedule` subcommand's flags.
#[derive(Debug, Clone, Copy, Default)]
pub struct ScheduleArgs {
    /// Run every entry once now, one after the other, and exit with the worst exit code.
    pub once: bool,
    /// Print each entry's next fire times and exit.
    pub list: bool,
}

/// Runs `skyglue schedule`. A scheduler that cannot start (a config that does
/// not parse, no entries, an unreadable state file) says so on Slack too, with
/// whatever Slack settings the environment has: it would otherwise fail
/// silently on a host nobody watches.
pub async fn schedule(
    config: Option<&Path>,
    state_dir: Option<&Path>,
    args: ScheduleArgs,
) -> anyhow::Result<ExitCode> {
    let result = start(config, state_dir, args).await;
    if let Err(e) = &result
        && !args.list
    {
        let slack = match Config::discover(config) {
            Ok((_, loaded)) => skyglue_core::connection::slack_settings(&loaded),
            Err(_) => skyglue_core::connection::slack_settings(&Config::default()),
        };
        let what = format!(
            "skyglue schedule ({})",
            config.map_or("skyglue.toml".into(), |c| c.display().to_string())
        );
        crate::run::notify_early_failure(&slack, &what, skyglue_policy::Mode::DryRun, e).await;
    }
    result
}

async fn start(
    config: Option<&Path>,
    state_dir: Option<&Path>,
    args: ScheduleArgs,
) -> anyhow::Result<ExitCode> {
    let (file, loaded) = Config::discover(config)?;
    let origin = file.as_ref().map_or_else(|| "the configuration".to_string(), |f| f.display().to_string());
    if loaded.schedule.is_empty() {
        return Err(crate::errors::usage(format!(
            "no [[schedule]] entries in {origin}: add one (policy = \"queries/x.sql\", cron = \"0 3 * * *\") \
             or point --config at the file that has them"
        )));
    }
    let entries = loaded
        .schedule
        .iter()
        .map(Entry::from_config)
        .map(|e| e.map(Arc::new))
        .collect::<Result<Vec<_>, _>>()?;
    if args.list {
        print!("{}", list(&entries, SystemClock.now()));
        return Ok(ExitCode::SUCCESS);
    }
    // Every run reads the same file again, so an edit to [[aws]] applies at the next run.
    // A stop interrupts the run in flight as SIGTERM does `skyglue run`: its
    // batch finishes, no new one starts, the journal says `interrupted`.
    let interrupt = Interrupt::default();
    let run = run_fn(file.clone(), state_dir.map(Path::to_path_buf), interrupt.clone());
    let log: LogFn = Arc::new(|line| eprintln!("{line}"));
    if args.once {
        return Ok(ExitCode::from(once(&SystemClock, &run, &log, &entries).await));
    }
    let dir = crate::run::state_dir(state_dir, &loaded);
    let state = Arc::new(state::StateFile::load(&dir)?);
    let seed = u64::from(std::process::id()) ^ SystemClock.now().timestamp_subsec_nanos() as u64;
    let scheduler = Scheduler::new(Arc::new(SystemClock), run, state, log.clone(), seed);
    // The handlers are installed here, before the start line below is logged.
    // The first signal stops the scheduler (the run in flight finishes its
    // call); a second stops that run at once, its calls in flight journaled
    // unknown and its lock released.
    let mut signals = Signals::install();
    let (stopped, stop) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        signals.next().await;
        interrupt.raise("the scheduler was stopped (SIGTERM or SIGINT)");
        let _ = stopped.send(());
        signals.next().await;
        interrupt.stop_now("the scheduler was stopped twice (SIGTERM or SIGINT)");
    });
    let stop = async move {
        let _ = stop.await;
    };
    log(format!(
        "{} schedule: {} entries from {origin}; state in {}",
        stamp(SystemClock.now()),
        entries.len(),
        dir.display()
    ));
    scheduler.run_until(entries, stop).await;
    log(format!("{} schedule: stopped", stamp(SystemClock.now())));
    Ok(ExitCode::SUCCESS)
}

/// `--list`: each entry and its next three fire times, in its time zone.
pub fn list(entries: &[Arc<Entry>], now: chrono::DateTime<chrono::Utc>) -> String {
    let mut out = String::new();
    for e in entries {
        let notify = match e.notify {
            Some(NotifyChoice::Slack) => " notify=slack",
            Some(NotifyChoice::None) => " notify=none",
            None => "",
        };
        let params =
            if e.params.is_empty() { String::new() } else { format!(" params={}", e.params.join(",")) };
        out += &format!(
            "{} ({}) cron=\"{}\" timezone={} {} jitter={}s{params}{notify}\n",
            e.label,
            e.policy.display(),
            e.cron_text,
            e.tz.name(),
            e.mode(),
            e.jitter.as_secs()
        );
        for t in e.upcoming(now, 3) {
            out += &format!("  {}\n", t.to_rfc3339());
        }
    }
    out
}

/// `--once`: every entry now, one after the other; the worst exit code.
pub async fn once(clock: &impl Clock, run: &RunFn, log: &LogFn, entries: &[Arc<Entry>]) -> u8 {
    let mut worst = 0;
    for e in entries {
        let finished = scheduler::run_caught(run, e.clone()).await;
        log(format!("{} {} {}", stamp(clock.now()), e.label, finished.summary));
        worst = worst.max(finished.exit_code);
    }
    worst
}

/// Runs an entry as `skyglue run` would, without printing the report.
fn run_fn(config: Option<PathBuf>, state_dir: Option<PathBuf>, interrupt: Interrupt) -> RunFn {
    Arc::new(move |entry: Arc<Entry>| {
        let (config, state_dir, interrupt) = (config.clone(), state_dir.clone(), interrupt.clone());
        Box::pin(async move {
            let args = crate::run::RunArgs {
                policy: entry.policy.clone(),
                apply: entry.apply,
                params: entry.params.clone(),
                format: ReportFormat::Json,
                notify: entry.notify.map(|n| match n {
                    NotifyChoice::Slack => NotifyFlag::Slack,
                    NotifyChoice::None => NotifyFlag::None,
                }),
                workers: Vec::new(),
                memory_limit: None,
                restore: None,
            };
            match crate::run::execute_interruptible(config.as_deref(), state_dir.as_deref(), args, interrupt)
                .await
            {
                Ok(outcome) => Finished { exit_code: outcome.exit_code(), summary: summary(&outcome) },
                Err(e) => {
                    let (code, message) = crate::errors::describe(&e);
                    Finished {
                        exit_code: code,
                        summary: format!("{} error exit={code}: {message}", entry.mode()),
                    }
                }
            }
        })
    })
}

/// `dry_run ok planned=7 done=0 skipped=2 failed=0`, then any error.
pub fn summary(outcome: &RunOutcome) -> String {
    let r = &outcome.report;
    let word = |v: serde_json::Result<serde_json::Value>| v.ok().and_then(|v| v.as_str().map(str::to_string));
    let mut line = format!(
        "{} {} planned={} done={} skipped={} failed={}",
        word(serde_json::to_value(r.mode)).unwrap_or_default(),
        word(serde_json::to_value(r.status)).unwrap_or_default(),
        r.summary.planned,
        r.summary.done,
        r.summary.skipped,
        r.summary.failed
    );
    if let Some(e) = &r.error {
        line += &format!(" error: {e}");
    }
    if let Some(e) = &outcome.notify_error {
        line += &format!(" notify error: {e}");
    }
    line
}

/// SIGTERM and SIGINT, each received as it comes; the handlers are in
/// place once [`Signals::install`] returns.
struct Signals {
    #[cfg(unix)]
    handles: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Signals {
    fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let handles = signal(SignalKind::terminate()).ok().zip(signal(SignalKind::interrupt()).ok());
            Signals { handles }
        }
        #[cfg(not(unix))]
        Signals {}
    }

    /// The next SIGTERM or SIGINT.
    async fn next(&mut self) {
        #[cfg(unix)]
        if let Some((term, int)) = self.handles.as_mut() {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            return;
        }
        let _ = tokio::signal::ctrl_c().await;
    }
}
