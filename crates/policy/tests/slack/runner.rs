//! The policy runner over the sandbox notifies Slack exactly once per run:
//! a dry run, an applied run and a failed run each send one message, and a
//! Slack that answers 500 makes the run's `notify_error` and the journal's
//! `notified` entry say so.

use std::path::PathBuf;
use std::sync::Arc;

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use skyglue_core::{AwsConnection, Connections, Engine};
use skyglue_policy::journal::Entry;
use skyglue_policy::slack::from_settings;
use skyglue_policy::{Journal, RunOptions, RunOutcome, RunStatus, Runner};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig, World};

use crate::support::*;

pub const OLD_WEB_IMAGES: &str = "-- @name: old-web-images\n-- @action: delete_ecr_images\n-- @notify: slack\n\
    SELECT repository_name, image_digest FROM aws_ecr_image \
    WHERE repository_name = 'web' AND image_pushed_at < days_ago(30)";

/// Connections to every account x region of `world`, the sandbox's webhook as
/// Slack (as `skyglue::sandbox::connections` makes them).
pub async fn connections(sandbox: &Sandbox, world: &World) -> Connections {
    let mut aws = Vec::new();
    for account in &world.accounts {
        for region in &account.regions {
            let creds = Credentials::new(&account.access_key_id, "sandbox", None, None, "sandbox");
            let sdk = aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new(region.region.clone()))
                .endpoint_url(sandbox.endpoint_url())
                .credentials_provider(creds)
                .load()
                .await;
            aws.push(AwsConnection::new(account.name.clone(), sdk).unwrap());
        }
    }
    let mut connections = Connections::from_aws(aws);
    connections.slack.webhook_url = Some(sandbox.slack_webhook_url());
    connections
}

struct Env {
    sandbox: Sandbox,
    runner: Runner,
    dir: tempfile::TempDir,
}

/// A runner over the demo world whose notifier comes from the connections'
/// Slack settings, as the CLI builds it.
async fn env(config: SandboxConfig) -> Env {
    let world = World::demo();
    let sandbox = Sandbox::start(world.clone(), config).await.unwrap();
    let connections = connections(&sandbox, &world).await;
    let notifier = from_settings(&connections.slack);
    assert_eq!(notifier.as_ref().map(|n| n.name().to_string()).as_deref(), Some("slack webhook"));
    let engine = Engine::new(connections, skyglue_aws::registry());
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
    let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), notifier);
    Env { sandbox, runner, dir }
}

impl Env {
    fn policy(&self, text: &str) -> PathBuf {
        let path = self.dir.path().join("old-web-images.sql");
        std::fs::write(&path, text).unwrap();
        path
    }

    async fn run(&self, apply: bool) -> RunOutcome {
        let options = RunOptions { apply, params: vec![], notify: None };
        let prepared = self.runner.prepare(&self.policy(OLD_WEB_IMAGES), &options).await.unwrap();
        assert!(prepared.notifies());
        self.runner.run(prepared).await
    }

    fn notified(&self, run_id: &str) -> Vec<Entry> {
        let entries = Journal::read_all(self.runner.journal().path()).unwrap();
        entries.into_iter().filter(|e| e.run_id == run_id && e.event == "notified").collect()
    }
}

#[tokio::test]
async fn a_dry_run_sends_one_message() {
    let env = env(SandboxConfig::default()).await;
    let outcome = env.run(false).await;
    assert_eq!(outcome.report.status, RunStatus::Ok, "{:?}", outcome.report.error);
    assert_eq!(outcome.notify_error, None);
    let messages = env.sandbox.slack_messages();
    assert_eq!(messages.len(), 1, "exactly one message per run");
    assert_within_limits(&messages[0]);
    let texts = block_texts(&messages[0]);
    assert_eq!(texts[0], "✅ old-web-images: dry run");
    let planned =
        outcome.report.actions.iter().filter(|a| a.status == skyglue_core::sink::Status::Planned).count();
    assert!(planned > 0);
    section(&texts, &format!("*Would delete* ({planned} images)"));
    section(&texts, "*Skipped*");
    let notified = env.notified(&outcome.report.run_id);
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0].status.as_deref(), Some("done"));
    in_snapshots(|| {
        insta::assert_json_snapshot!("runner_dry_run", redacted(&messages[0], &outcome.report.run_id))
    });
}

#[tokio::test]
async fn an_applied_run_sends_one_message() {
    let env = env(SandboxConfig::default()).await;
    let outcome = env.run(true).await;
    assert_eq!(outcome.notify_error, None);
    let messages = env.sandbox.slack_messages();
    assert_eq!(messages.len(), 1);
    let texts = block_texts(&messages[0]);
    assert!(
        texts[0].starts_with(if outcome.report.status == RunStatus::Ok { "✅" } else { "⚠️" }),
        "{texts:?}"
    );
    assert!(texts.contains(&format!("*Deleted*\n{}", outcome.report.summary.done)), "{texts:#?}");
}

#[tokio::test]
async fn a_failed_run_sends_one_message_with_the_error() {
    let fault = Fault::nth_call("ecr:DescribeImages", 1).times(u64::MAX).error(400, "AccessDeniedException");
    let env = env(SandboxConfig { faults: vec![fault], ..SandboxConfig::default() }).await;
    let outcome = env.run(false).await;
    assert_eq!(outcome.report.status, RunStatus::Failed);
    let error = outcome.report.error.clone().unwrap();
    assert_eq!(outcome.notify_error, None);
    let messages = env.sandbox.slack_messages();
    assert_eq!(messages.len(), 1, "a failed run is never silent, and says it once");
    let texts = block_texts(&messages[0]);
    assert_eq!(texts[0], "❌ old-web-images: dry run failed");
    assert!(section(&texts, "*Error*").contains("AccessDeniedException"), "{texts:#?}\n{error}");
}

#[tokio::test]
async fn a_slack_500_is_the_runs_notify_error_and_journaled() {
    let env = env(SandboxConfig { slack_fail: Some(500), ..SandboxConfig::default() }).await;
    let outcome = env.run(false).await;
    assert_eq!(outcome.report.status, RunStatus::Ok);
    let error = outcome.notify_error.clone().unwrap();
    assert!(
        error.starts_with("failed to notify slack webhook: failed to post to http://127.0.0.1:"),
        "{error}"
    );
    assert!(error.ends_with("HTTP 500: invalid_token"), "{error}");
    assert_eq!(outcome.exit_code(), 1);
    let notified = env.notified(&outcome.report.run_id);
    assert_eq!(notified.len(), 1);
    assert_eq!(notified[0].status.as_deref(), Some("failed"));
    assert!(notified[0].reason.as_deref().is_some_and(|r| r.contains("HTTP 500")), "{:?}", notified[0]);
    assert!(env.sandbox.slack_messages().is_empty());
}
