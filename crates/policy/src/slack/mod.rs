//! Slack notifications: one message per run, dry run or applied, and always
//! one when a run fails.
//!
//! [`message`] builds the Block Kit message from a [`Report`](crate::Report)
//! (a pure function, snapshot-tested); [`SlackWebhook`] posts it to an
//! incoming webhook and [`SlackApi`] with `chat.postMessage` as a bot. Both
//! honour Slack's 429 `Retry-After`, retry a 5xx a couple of times, and never
//! print a webhook's secret path. [`from_settings`] picks one from the
//! connections' [`SlackSettings`].
//!
//! ```no_run
//! # async fn example(report: &skyglue_policy::Report) -> Result<(), skyglue_policy::slack::SendError> {
//! use skyglue_policy::slack::{SlackWebhook, message};
//!
//! let hook = SlackWebhook::new("https://hooks.slack.com/services/T000/B000/XXXX");
//! hook.send(&message(report)).await?;
//! # Ok(())
//! # }
//! ```

use std::sync::Arc;

use skyglue_core::connection::SlackSettings;

use crate::notify::Notifier;
use crate::report::{Mode, Report};

mod api;
mod http;
mod message;
mod table;
mod text;
mod webhook;

pub use api::{DEFAULT_API_URL, SlackApi};
pub use http::SendError;
pub use message::message;
pub use text::{MAX_BLOCKS, MAX_HEADER_CHARS, MAX_SECTION_CHARS, MAX_TEXT_CHARS, MAX_TOTAL_CHARS};
pub use webhook::SlackWebhook;

/// The notifier `settings` configure: `chat.postMessage` when both a bot token
/// and a channel are set, else the incoming webhook, else none.
pub fn from_settings(settings: &SlackSettings) -> Option<Arc<dyn Notifier>> {
    let nonempty =
        |v: &Option<String>| v.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    match (nonempty(&settings.bot_token), nonempty(&settings.channel), nonempty(&settings.webhook_url)) {
        (Some(token), Some(channel), _) => Some(Arc::new(SlackApi::new(token, channel))),
        (_, _, Some(url)) => Some(Arc::new(SlackWebhook::new(url))),
        _ => None,
    }
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
    let notifier = from_settings(settings)?;
    let mut report = Report::new("none (failed before it started)", policy, mode);
    report.fail(error);
    Some(notifier.notify(&report).await.map_err(|e| format!("failed to notify {}: {e}", notifier.name())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(webhook: Option<&str>, token: Option<&str>, channel: Option<&str>) -> SlackSettings {
        SlackSettings {
            webhook_url: webhook.map(str::to_string),
            bot_token: token.map(str::to_string),
            channel: channel.map(str::to_string),
        }
    }

    #[test]
    fn the_bot_wins_when_complete_else_the_webhook() {
        let name = |s: SlackSettings| from_settings(&s).map(|n| n.name().to_string());
        let hook = Some("https://hooks.slack.com/services/T/B/X");
        assert_eq!(
            name(settings(hook, Some("xoxb-1"), Some("ops"))).as_deref(),
            Some("slack chat.postMessage #ops")
        );
        assert_eq!(name(settings(hook, Some("xoxb-1"), None)).as_deref(), Some("slack webhook"));
        assert_eq!(name(settings(hook, None, Some("ops"))).as_deref(), Some("slack webhook"));
        assert_eq!(name(settings(None, Some("xoxb-1"), None)), None);
        assert_eq!(name(settings(Some(" "), None, None)), None);
        assert_eq!(name(SlackSettings::default()), None);
    }
}
