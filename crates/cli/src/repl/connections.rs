//! `\connections`: what skyglue talks to, and whether it answers.
//!
//! Each AWS connection is asked for its account id (STS, once per session,
//! bounded by a short timeout so a dead endpoint cannot hang the prompt).
//! GitHub and Slack show their settings; no request is made to them.

use std::time::Duration;

use comfy_table::Table;
use skyglue_core::Engine;

use super::fit;

/// How long an AWS connection may take to say who it is.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

/// The connections table.
pub async fn table(engine: &Engine, width: Option<u16>) -> Table {
    let connections = engine.connections();
    let checks = connections.aws.iter().map(|conn| async move {
        let (account, status) = match tokio::time::timeout(ANSWER_WITHIN, conn.account_id()).await {
            Ok(Ok(account)) => (account, "ok".to_string()),
            Ok(Err(e)) => (String::new(), e.to_string()),
            Err(_) => (String::new(), format!("no answer within {} s", ANSWER_WITHIN.as_secs())),
        };
        vec!["aws".to_string(), conn.label(), account, status]
    });
    let mut rows = futures::future::join_all(checks).await;

    let github = &connections.github;
    let token = if github.token.is_some() {
        "token set"
    } else {
        "no token (GITHUB_TOKEN): public data, low rate limit"
    };
    rows.push(vec!["github".into(), github.api_url.clone(), String::new(), token.into()]);

    let slack = &connections.slack;
    let (how, status) = match (&slack.webhook_url, &slack.bot_token) {
        (Some(_), _) => ("webhook", "configured".to_string()),
        (None, Some(_)) => {
            ("bot token", format!("configured, channel {}", slack.channel.as_deref().unwrap_or("(none)")))
        }
        (None, None) => ("", "not configured (SLACK_WEBHOOK_URL)".to_string()),
    };
    rows.push(vec!["slack".into(), how.into(), String::new(), status]);
    fit::text_table(&["service", "connection", "account", "status"], rows, width)
}
