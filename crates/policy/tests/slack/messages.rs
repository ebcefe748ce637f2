//! What Slack receives for each kind of run, sent through the webhook to the
//! sandbox: one message, within Slack's limits, saying what happened, and
//! snapshotted as Block Kit JSON (the run id redacted).

use serde_json::Value;
use skyglue_core::sink::Status;
use skyglue_policy::slack::{SlackWebhook, message};
use skyglue_policy::{Mode, Notifier, Report, RunStatus};
use skyglue_sandbox::SandboxConfig;

use crate::support::*;

/// Sends `report` to a fresh sandbox's webhook; returns what Slack received.
async fn received(report: &Report) -> Value {
    let sandbox = sandbox(SandboxConfig::default()).await;
    let hook = SlackWebhook::new(sandbox.slack_webhook_url());
    hook.notify(report).await.unwrap();
    let mut messages = sandbox.slack_messages();
    assert_eq!(messages.len(), 1, "one message per run");
    assert_eq!(calls(&sandbox, "slack:Webhook"), 1);
    let got = messages.remove(0);
    assert_eq!(got, message(report), "Slack receives the message as built");
    assert_within_limits(&got);
    got
}

#[tokio::test]
async fn an_applied_run() {
    let report = images_report(Mode::Apply, 10, Status::Done);
    assert_eq!(report.status, RunStatus::Ok);
    let got = received(&report).await;
    let texts = block_texts(&got);
    assert_eq!(texts[0], "✅ ecr-cleanup: applied");
    assert!(texts.contains(&"*Deleted*\n8".to_string()), "{texts:#?}");
    assert!(texts.contains(&"*Reclaimed*\n368.7 MiB".to_string()), "{texts:#?}");
    assert!(section(&texts, "*Deleted* (8 images)").contains("web         sha256:"));
    assert!(section(&texts, "*Skipped* (2 images)").contains("in use by arn:aws:ecs:"));
    in_snapshots(|| insta::assert_json_snapshot!("applied", redacted(&got, RUN_ID)));
}

#[tokio::test]
async fn a_dry_run() {
    let report = images_report(Mode::DryRun, 10, Status::Planned);
    let got = received(&report).await;
    let texts = block_texts(&got);
    assert_eq!(texts[0], "✅ ecr-cleanup: dry run");
    assert!(texts.contains(&"*Mode*\nDry run: nothing was changed".to_string()));
    assert!(texts.contains(&"*Would delete*\n8".to_string()), "{texts:#?}");
    assert!(texts.contains(&"*Would reclaim*\n368.7 MiB".to_string()), "{texts:#?}");
    assert!(texts.contains(&"*Accounts/regions*\nprod/us-east-1, prod/eu-west-1".to_string()));
    assert!(texts.iter().any(|t| t.contains(RUN_ID)), "the run id is shown");
    section(&texts, "*Would delete* (8 images)");
    in_snapshots(|| insta::assert_json_snapshot!("dry_run", redacted(&got, RUN_ID)));
}

#[tokio::test]
async fn a_failed_run_shows_the_error() {
    let mut report = Report::new(RUN_ID, "ecr-cleanup", Mode::Apply);
    report.connections = vec!["prod/us-east-1".into(), "staging/us-east-1".into()];
    report.fail(
        "failed to call ecr:DescribeImages on staging/us-east-1: AccessDeniedException: \
         User: arn:aws:iam::222222222222:user/ci is not authorized to perform ecr:DescribeImages",
    );
    let got = received(&report).await;
    let texts = block_texts(&got);
    assert_eq!(texts[0], "❌ ecr-cleanup failed");
    assert!(section(&texts, "*Error*").contains("is not authorized to perform ecr:DescribeImages"));
    assert!(got["text"].as_str().unwrap().contains("\nError: failed to call ecr:DescribeImages"));
    in_snapshots(|| insta::assert_json_snapshot!("failed", redacted(&got, RUN_ID)));
}

#[tokio::test]
async fn a_partial_run_lists_the_failures_first() {
    let mut report = images_report(Mode::Apply, 10, Status::Done);
    let mut outcomes: Vec<_> = report
        .actions
        .iter()
        .map(|a| skyglue_core::sink::Outcome {
            target: a.target.clone(),
            status: a.status,
            reason: a.reason.clone(),
        })
        .collect();
    outcomes[1].status = Status::Failed;
    outcomes[1].reason =
        Some("ImageReferencedByManifestList: the image is referenced by an image index".into());
    report.set_outcomes("delete_ecr_images", outcomes);
    assert_eq!(report.status, RunStatus::Partial);
    let got = received(&report).await;
    let texts = block_texts(&got);
    assert_eq!(texts[0], "⚠️ ecr-cleanup: partly failed");
    let tables: Vec<&String> = texts.iter().filter(|t| t.contains("```")).collect();
    assert!(tables[0].starts_with("*Failed to delete* (1 image)"), "{tables:#?}");
    assert!(tables[0].contains("ImageReferencedByManifestList"));
    assert!(tables[1].starts_with("*Deleted* (7 images)"));
    in_snapshots(|| insta::assert_json_snapshot!("partial", redacted(&got, RUN_ID)));
}

#[tokio::test]
async fn a_thousand_images_are_truncated_within_slack_limits() {
    let report = images_report(Mode::Apply, 1000, Status::Done);
    let got = received(&report).await;
    let texts = block_texts(&got);
    let blocks = got["blocks"].as_array().unwrap().len();
    let chars: usize = texts.iter().map(|t| t.chars().count()).sum();
    assert!(blocks <= 50 && chars <= 10_000, "{blocks} blocks, {chars} chars");

    let deleted = section(&texts, "*Deleted* (800 images)");
    let shown = deleted.lines().filter(|l| l.contains("sha256:")).count();
    assert!(shown >= 20, "a useful part of the table is shown: {shown} rows");
    assert!(deleted.ends_with(&format!("… and {} more\n```", 800 - shown)), "{deleted}");
    let skipped = section(&texts, "*Skipped* (200 images)");
    let shown = skipped.lines().filter(|l| l.contains("sha256:")).count();
    assert!(skipped.ends_with(&format!("… and {} more\n```", 200 - shown)), "{skipped}");
    in_snapshots(|| insta::assert_json_snapshot!("thousand_images", redacted(&got, RUN_ID)));
}
