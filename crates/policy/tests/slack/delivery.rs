//! Delivery: Slack's rate limit is waited out, failures end in an error that
//! says what failed (and not the webhook's secret path), and the Web API's
//! `chat.postMessage` is called as a bot, its `"ok": false` an error.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::http::HeaderMap;
use axum::routing::post;
use skyglue_core::sink::Status;
use skyglue_policy::slack::{SlackApi, SlackWebhook};
use skyglue_policy::{Mode, Notifier};
use skyglue_sandbox::SandboxConfig;

use crate::support::*;

#[tokio::test]
async fn a_rate_limited_message_is_sent_after_retry_after() {
    let sandbox = sandbox(SandboxConfig { slack_rate_limited_first: 1, ..SandboxConfig::default() }).await;
    let hook = SlackWebhook::new(sandbox.slack_webhook_url());
    hook.notify(&images_report(Mode::DryRun, 3, Status::Planned)).await.unwrap();
    assert_eq!(calls(&sandbox, "slack:Webhook"), 2, "one 429, then the message");
    assert_eq!(sandbox.slack_messages().len(), 1);
}

#[tokio::test]
async fn a_rate_limit_that_never_lifts_fails_after_three_attempts() {
    let sandbox = sandbox(SandboxConfig { slack_rate_limited_first: 10, ..SandboxConfig::default() }).await;
    let hook = SlackWebhook::new(sandbox.slack_webhook_url());
    let err = hook.notify(&images_report(Mode::DryRun, 3, Status::Planned)).await.unwrap_err();
    assert!(err.contains("still rate limited (HTTP 429) after 3 attempts"), "{err}");
    assert_eq!(calls(&sandbox, "slack:Webhook"), 3);
    assert!(sandbox.slack_messages().is_empty());
}

#[tokio::test]
async fn a_500_is_retried_then_reported_without_the_secret_path() {
    let sandbox = sandbox(SandboxConfig { slack_fail: Some(500), ..SandboxConfig::default() }).await;
    let hook = SlackWebhook::new(sandbox.slack_webhook_url());
    let err = hook.notify(&images_report(Mode::Apply, 3, Status::Done)).await.unwrap_err();
    assert_eq!(err, format!("failed to post to {}: HTTP 500: invalid_token", sandbox.endpoint_url()));
    assert!(!err.contains("/slack/webhook"), "the webhook's path is its secret: {err}");
    assert_eq!(calls(&sandbox, "slack:Webhook"), 3, "a 5xx is retried");
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let sandbox = sandbox(SandboxConfig { slack_fail: Some(404), ..SandboxConfig::default() }).await;
    let hook = SlackWebhook::new(sandbox.slack_webhook_url());
    let err = hook.notify(&images_report(Mode::Apply, 3, Status::Done)).await.unwrap_err();
    assert!(err.ends_with("HTTP 404: invalid_token"), "{err}");
    assert_eq!(calls(&sandbox, "slack:Webhook"), 1);
}

#[tokio::test]
async fn unreachable_slack_is_an_error() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let hook = SlackWebhook::new(format!("http://127.0.0.1:{port}/services/T0/B0/secret"));
    let err = hook.notify(&images_report(Mode::DryRun, 3, Status::Planned)).await.unwrap_err();
    assert!(err.starts_with(&format!("failed to reach http://127.0.0.1:{port}: ")), "{err}");
    assert!(!err.contains("secret"), "{err}");
}

#[tokio::test]
async fn a_bad_webhook_url_is_an_error() {
    let hook = SlackWebhook::new("hooks.slack.com/services/T0/B0/secret");
    let err = hook.notify(&images_report(Mode::DryRun, 3, Status::Planned)).await.unwrap_err();
    assert!(err.starts_with("failed to parse the Slack URL"), "{err}");
    assert!(!err.contains("secret"), "{err}");
}

#[tokio::test]
async fn chat_post_message_posts_to_the_channel() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let api = SlackApi::new("xoxb-sandbox", "ops").with_api_url(format!("{}/api", sandbox.endpoint_url()));
    assert_eq!(api.name(), "slack chat.postMessage #ops");
    api.notify(&images_report(Mode::DryRun, 3, Status::Planned)).await.unwrap();
    assert_eq!(calls(&sandbox, "slack:PostMessage"), 1);
    let messages = sandbox.slack_messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0]["channel"], "ops");
    assert_eq!(messages[0]["blocks"][0]["text"]["text"], "✅ ecr-cleanup: dry run");
}

/// A Web API that records the `Authorization` header and refuses every message
/// with HTTP 200 `{"ok": false, "error": "channel_not_found"}`.
async fn refusing_api() -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = Router::new().route(
        "/api/chat.postMessage",
        post(move |headers: HeaderMap| {
            let record = record.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
                record.lock().unwrap().push(auth.to_string());
                axum::Json(serde_json::json!({"ok": false, "error": "channel_not_found"}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, seen)
}

#[tokio::test]
async fn chat_post_message_ok_false_is_an_error() {
    let (url, seen) = refusing_api().await;
    let api = SlackApi::new("xoxb-secret-token", "C0123456789").with_api_url(url);
    let err = api.notify(&images_report(Mode::Apply, 3, Status::Done)).await.unwrap_err();
    assert!(err.ends_with("Slack answered channel_not_found"), "{err}");
    assert!(!err.contains("xoxb"), "{err}");
    assert_eq!(*seen.lock().unwrap(), vec!["Bearer xoxb-secret-token".to_string()], "sent as the bot, once");
}

#[tokio::test]
async fn a_token_that_is_no_header_value_is_an_error() {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let api = SlackApi::new("xoxb-secret\n", "ops").with_api_url(format!("{}/api", sandbox.endpoint_url()));
    let err = api.notify(&images_report(Mode::DryRun, 3, Status::Planned)).await.unwrap_err();
    assert!(err.ends_with("the bot token is not a valid HTTP header value"), "{err}");
    assert!(!err.contains("xoxb"), "{err}");
    assert_eq!(calls(&sandbox, "slack:PostMessage"), 0);
}
