//! [`SlackApi`]: posts the run's message with the Web API's
//! `chat.postMessage`, as a bot (`Authorization: Bearer xoxb-...`) to a channel.
//!
//! The Web API answers HTTP 200 even when it refuses a message, with
//! `{"ok": false, "error": "channel_not_found"}`; that is an error here.

use async_trait::async_trait;
use serde_json::Value;

use super::http::{self, Endpoint, SendError};
use crate::notify::Notifier;
use crate::report::Report;

/// Slack's Web API base URL.
pub const DEFAULT_API_URL: &str = "https://slack.com/api";

/// A [`Notifier`] that posts with `chat.postMessage` as a bot.
#[derive(Clone)]
pub struct SlackApi {
    token: String,
    channel: String,
    api_url: String,
    name: String,
}

impl SlackApi {
    /// Posts to `channel` (`#ops`, `ops` or an id like `C0123456`) with a bot token.
    pub fn new(token: impl Into<String>, channel: impl Into<String>) -> Self {
        let channel = channel.into();
        let shown = if channel.starts_with('#') || is_channel_id(&channel) {
            channel.clone()
        } else {
            format!("#{channel}")
        };
        SlackApi {
            token: token.into(),
            channel,
            api_url: DEFAULT_API_URL.into(),
            name: format!("slack chat.postMessage {shown}"),
        }
    }

    /// Uses another Web API base URL (a proxy, or a fake in tests) instead of
    /// [`DEFAULT_API_URL`].
    pub fn with_api_url(mut self, api_url: impl Into<String>) -> Self {
        self.api_url = api_url.into();
        self
    }

    /// Posts an already built message (see [`message`](super::message)).
    pub async fn send(&self, message: &Value) -> Result<(), SendError> {
        let url = format!("{}/chat.postMessage", self.api_url.trim_end_matches('/'));
        let endpoint = Endpoint::parse(&url)?;
        let mut body = message.clone();
        if let Some(fields) = body.as_object_mut() {
            fields.insert("channel".into(), Value::String(self.channel.trim_start_matches('#').into()));
        }
        let answer = http::post_json(&endpoint, Some(&self.token), body.to_string()).await?;
        let refused = |error: String| SendError::Refused { target: endpoint.target.clone(), error };
        let parsed: Value = serde_json::from_str(&answer)
            .map_err(|_| refused(format!("something that is not JSON: {}", http::snippet(&answer))))?;
        match parsed.get("ok").and_then(Value::as_bool) {
            Some(true) => Ok(()),
            _ => Err(refused(
                parsed
                    .get("error")
                    .and_then(Value::as_str)
                    .map_or_else(|| http::snippet(&answer), str::to_string),
            )),
        }
    }
}

/// `C0123456` and the like: Slack's conversation ids.
fn is_channel_id(channel: &str) -> bool {
    channel.len() >= 9
        && channel.starts_with(['C', 'G', 'D'])
        && channel.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl std::fmt::Debug for SlackApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlackApi")
            .field("channel", &self.channel)
            .field("api_url", &self.api_url)
            .field("token", &"(hidden)")
            .finish()
    }
}

#[async_trait]
impl Notifier for SlackApi {
    fn name(&self) -> &str {
        &self.name
    }

    async fn notify(&self, report: &Report) -> Result<(), String> {
        self.send(&super::message(report)).await.map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_show_the_channel_but_not_the_token() {
        let api = SlackApi::new("xoxb-secret", "ops");
        assert_eq!(api.name(), "slack chat.postMessage #ops");
        assert_eq!(SlackApi::new("t", "#ops").name(), "slack chat.postMessage #ops");
        assert_eq!(SlackApi::new("t", "C0123456789").name(), "slack chat.postMessage C0123456789");
        assert!(!format!("{api:?}").contains("xoxb-secret"));
    }
}
