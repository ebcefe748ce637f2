//! Notifiers: where a run's report is announced (Slack, or a caller's own),
//! and [`notify_failure`] for a run that failed before it had a report.

use async_trait::async_trait;
use skyglue_core::connection::SlackSettings;

use crate::report::{Mode, Report};

/// Sends one message per run, on success and on failure alike.
///
/// Pass one to [`Runner::new`](crate::Runner::new) to announce runs somewhere
/// other than Slack:
///
/// ```
/// use skyglue_policy::{Notifier, Report};
///
/// /// Prints each run's report to stderr.
/// struct Stderr;
///
/// #[async_trait::async_trait]
/// impl Notifier for Stderr {
///     fn name(&self) -> &str {
///         "stderr"
///     }
///
///     async fn notify(&self, report: &Report) -> Result<(), String> {
///         eprintln!("{}", report.to_text());
///         Ok(())
///     }
/// }
/// ```
#[async_trait]
pub trait Notifier: Send + Sync {
    /// A short name for messages and the journal (`slack webhook`).
    fn name(&self) -> &str;

    /// Announces `report`; an error says why the message could not be sent.
    async fn notify(&self, report: &Report) -> Result<(), String>;
}

/// Announces a run of the policy file `policy` that failed before it had a
/// report (its config, the policy's validation, credentials, the engine, the
/// state directory): one message naming the file and `error`, sent with
/// whatever Slack `settings` name. `None` when they name no Slack at all.
///
/// `skyglue run` and `skyglue schedule` call this for every such failure, so
/// an unattended run is never silent.
///
/// ```no_run
/// # async fn example() {
/// use skyglue_core::connection::slack_settings;
/// use skyglue_policy::{Mode, notify_failure};
///
/// // No config could be read: the environment's SLACK_* settings.
/// let settings = slack_settings(&skyglue_core::Config::default());
/// let sent = notify_failure(&settings, "queries/ecr_cleanup.sql", Mode::Apply, "skyglue.toml: bad key").await;
/// if let Some(Err(e)) = sent {
///     eprintln!("error: failed to notify Slack: {e}");
/// }
/// # }
/// ```
pub async fn notify_failure(
    settings: &SlackSettings,
    policy: &str,
    mode: Mode,
    error: &str,
) -> Option<Result<(), String>> {
    let notifier = crate::slack::from_settings(settings)?;
    let mut report = Report::new("none (failed before it started)", policy, mode);
    report.fail(error);
    Some(notifier.notify(&report).await.map_err(|e| format!("failed to notify {}: {e}", notifier.name())))
}
