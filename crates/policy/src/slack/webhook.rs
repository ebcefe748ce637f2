//! [`SlackWebhook`]: posts the run's message to an incoming webhook.
//!
//! An incoming webhook is a URL whose path is its secret: anyone holding it
//! can post to the channel. So this type never prints it, not in `Debug`, not
//! in errors; only its scheme and host.

use async_trait::async_trait;
use serde_json::Value;

use super::http::{self, Endpoint, SendError};
use crate::notify::Notifier;
use crate::report::Report;

/// A [`Notifier`] that posts to a Slack incoming webhook
/// (`https://hooks.slack.com/services/...`).
#[derive(Clone)]
pub struct SlackWebhook {
    url: String,
}

impl SlackWebhook {
    /// A notifier posting to `url`. The URL is checked when a message is sent,
    /// so a bad one surfaces as that run's notification error.
    pub fn new(url: impl Into<String>) -> Self {
        SlackWebhook { url: url.into() }
    }

    /// Posts an already built message (see [`message`](super::message)).
    pub async fn send(&self, message: &Value) -> Result<(), SendError> {
        let endpoint = Endpoint::parse(&self.url)?;
        http::post_json(&endpoint, None, message.to_string()).await.map(drop)
    }
}

impl std::fmt::Debug for SlackWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackWebhook").field("url", &http::redact(&self.url)).finish()
    }
}

#[async_trait]
impl Notifier for SlackWebhook {
    fn name(&self) -> &str {
        "slack webhook"
    }

    async fn notify(&self, report: &Report) -> Result<(), String> {
        self.send(&super::message(report)).await.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret_path() {
        let hook = SlackWebhook::new("https://hooks.slack.com/services/T0/B0/very-secret");
        let shown = format!("{hook:?}");
        assert!(!shown.contains("very-secret"), "{shown}");
        assert!(shown.contains("https://hooks.slack.com"), "{shown}");
    }
}
