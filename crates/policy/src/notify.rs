//! Notifiers: where a run's report is announced (Slack, or a caller's own).
//! Only the trait lives here, so the notifiers that implement it (`slack`)
//! import nothing that imports them; a run that failed before it had a
//! report is announced by [`notify_failure`](crate::notify_failure).

use async_trait::async_trait;

use crate::report::Report;

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
