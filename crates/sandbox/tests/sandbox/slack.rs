//! Slack: messages are recorded; failure and 429 modes.

use serde_json::json;
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::client::post_json;

#[tokio::test]
async fn webhook_and_post_message_record_messages() {
    let sb = Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap();
    let r = post_json(&sb, "/slack/webhook", &json!({"text": "deleted 3 images"})).await;
    assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    let r = post_json(&sb, "/api/chat.postMessage", &json!({"channel": "C1", "text": "hi"})).await;
    assert_eq!(r.json()["ok"], true);
    let texts: Vec<_> = sb.slack_messages().iter().map(|m| m["text"].clone()).collect();
    assert_eq!(texts, [json!("deleted 3 images"), json!("hi")]);
    assert!(sb.slack_webhook_url().ends_with("/slack/webhook"));
    assert_eq!(sb.calls().get("slack:Webhook"), Some(&1));
}

#[tokio::test]
async fn rate_limit_mode_answers_429_for_the_first_messages() {
    let config = SandboxConfig { slack_rate_limited_first: 2, ..SandboxConfig::default() };
    let sb = Sandbox::start(World::demo(), config).await.unwrap();
    for _ in 0..2 {
        let r = post_json(&sb, "/slack/webhook", &json!({"text": "x"})).await;
        assert_eq!((r.status, r.header("retry-after")), (429, Some("1")));
    }
    assert!(sb.slack_messages().is_empty());
    assert_eq!(post_json(&sb, "/slack/webhook", &json!({"text": "x"})).await.status, 200);
    assert_eq!(sb.slack_messages().len(), 1);
}

#[tokio::test]
async fn failure_mode_answers_the_configured_status() {
    let config = SandboxConfig { slack_fail: Some(500), ..SandboxConfig::default() };
    let sb = Sandbox::start(World::demo(), config).await.unwrap();
    assert_eq!(post_json(&sb, "/slack/webhook", &json!({"text": "x"})).await.status, 500);
    assert!(sb.slack_messages().is_empty());
}
