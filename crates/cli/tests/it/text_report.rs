//! The text report reads like a plan: per repository the targets with the
//! policy's columns, then what the policy kept and why. Snapshots of the
//! shipped `ecr_cleanup.sql` on the demo world (dry run, applied, partial,
//! failed; the run id and calendar dates redacted, ages kept), and the
//! guard behind it: a row with a `keep_reason` is never acted on.

use std::process::Command;

use skyglue_policy::{RunOptions, RunStatus};
use skyglue_sandbox::demo::demo_digest;
use skyglue_sandbox::{Fault, SandboxConfig, World};

use crate::policy_runner::{policy_env, write_policy};

const SHIPPED: &str = include_str!("../../../../queries/ecr_cleanup.sql");

/// The shipped policy's text report on the demo world, redacted.
async fn report(apply: bool, config: SandboxConfig) -> (String, RunStatus) {
    let env = policy_env(World::demo(), config).await;
    let path = write_policy(env.dir.path(), "ecr_cleanup.sql", SHIPPED);
    let options = RunOptions { apply, params: vec![], notify: Some(false) };
    let outcome = env.runner.run(env.runner.prepare(&path, &options).await.unwrap()).await;
    (redacted(&outcome.report.to_text(), &outcome.report.run_id), outcome.report.status)
}

/// The run id, calendar dates and the checks' ages in seconds out (they
/// change every run and day); the ages in days stay, since the demo world is
/// built relative to now.
fn redacted(text: &str, run_id: &str) -> String {
    let text = check_ages_redacted(&text.replace(run_id, "[run id]"));
    let mut out = String::with_capacity(text.len());
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let date = bytes.len() >= i + 10
            && text.is_char_boundary(i)
            && text.is_char_boundary(i + 10)
            && text[i..i + 10]
                .char_indices()
                .all(|(j, c)| if j == 4 || j == 7 { c == '-' } else { c.is_ascii_digit() });
        if date {
            out.push_str("YYYY-MM-DD");
            i += 10;
        } else {
            let c = text[i..].chars().next().unwrap_or_default();
            out.push(c);
            i += c.len_utf8();
        }
    }
    out
}

/// `(check 0.4 s old)` and `was 0.4 s old` read `[age]` for the seconds.
fn check_ages_redacted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) =
        ["(check ", "relied on was "].iter().filter_map(|m| rest.find(m).map(|i| i + m.len())).min()
    {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let number = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if number > 0 && rest[number..].starts_with(" s old") {
            out.push_str("[age]");
            rest = &rest[number..];
        }
    }
    out.push_str(rest);
    out
}

fn in_snapshots(f: impl FnOnce()) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(f);
}

#[tokio::test]
async fn a_dry_run_reads_like_a_plan() {
    let (text, status) = report(false, SandboxConfig::default()).await;
    assert_eq!(status, RunStatus::Ok, "{text}");
    // every reason the demo world has, each named once at least
    for reason in [
        "in account 222222222222 (eu-west-1)", // another account, another region
        ", by digest",                         // a digest pin
        "in use by task jobs/",                // a running task
        "in use by service prod/web-batch",    // a service scaled to zero
        "recent commit (3 days)",
        "untagged, pushed 2 days ago",
        "no tag is a commit of acme/web",
    ] {
        assert!(text.contains(reason), "no {reason:?} in:\n{text}");
    }
    in_snapshots(|| insta::assert_snapshot!("text_report_dry_run", text));
}

#[tokio::test]
async fn an_applied_run() {
    let (text, status) = report(true, SandboxConfig::default()).await;
    assert_eq!(status, RunStatus::Ok, "{text}");
    assert!(text.contains("111111111111/us-east-1/web: deleted 9 of 9; keeps 13"), "{text}");
    in_snapshots(|| insta::assert_snapshot!("text_report_applied", text));
}

/// Two repositories, so two BatchDeleteImage calls (one per repository, in
/// order): the first fails, the second deletes.
#[tokio::test]
async fn a_partial_run_shows_its_failures_first() {
    let config = SandboxConfig {
        faults: vec![Fault::nth_call("ecr:BatchDeleteImage", 1).error(400, "InvalidParameterException")],
        ..SandboxConfig::default()
    };
    let env = policy_env(World::demo(), config).await;
    let path = write_policy(
        env.dir.path(),
        "two_repositories.sql",
        &format!(
            "-- @name: two-repositories\n-- @action: delete_ecr_images\n\
             SELECT account_id, region, registry_id, repository_name, image_digest, image_tags,\n\
                    image_pushed_at, image_size_in_bytes\n\
             FROM aws_ecr_image\n\
             WHERE image_digest IN ('{}', '{}', '{}')\n\
             ORDER BY repository_name, image_pushed_at",
            demo_digest("alpine"),
            demo_digest("aaa0001"),
            demo_digest("aaa0002")
        ),
    );
    let options = RunOptions { apply: true, params: vec![], notify: Some(false) };
    let outcome = env.runner.run(env.runner.prepare(&path, &options).await.unwrap()).await;
    let text = redacted(&outcome.report.to_text(), &outcome.report.run_id);
    assert_eq!(outcome.report.status, RunStatus::Partial, "{text}");
    assert!(text.contains("base-images: deleted 0 of 1, 1 failed"), "{text}");
    assert!(text.contains("web: deleted 4 of 4"), "{text}");
    in_snapshots(|| insta::assert_snapshot!("text_report_partial", text));
}

#[tokio::test]
async fn a_failed_run_says_why_first() {
    let config = SandboxConfig {
        faults: vec![Fault::nth_call("ecr:DescribeImages", 1).error(400, "AccessDeniedException")],
        ..SandboxConfig::default()
    };
    let (text, status) = report(true, config).await;
    assert_eq!(status, RunStatus::Failed, "{text}");
    assert!(text.lines().nth(1).is_some_and(|l| l.starts_with("FAILED: ")), "{text}");
    in_snapshots(|| insta::assert_snapshot!("text_report_failed", text));
}

/// A policy that selects every image, and keeps one by its reason: only
/// `keep_reason` stands between that image and the delete.
#[tokio::test]
async fn a_kept_row_is_never_acted_on() {
    let env = policy_env(World::demo(), SandboxConfig::default()).await;
    let kept = demo_digest("aaa0002");
    let path = write_policy(
        env.dir.path(),
        "keep_one.sql",
        &format!(
            "-- @name: keep-one\n-- @action: delete_ecr_images\n\
             SELECT account_id, region, registry_id, repository_name, image_digest,\n\
                    CASE WHEN image_digest = '{kept}' THEN 'kept by the test' END AS keep_reason\n\
             FROM aws_ecr_image WHERE repository_name = 'web'\n\
             UNION ALL\n\
             -- the same image again, without a reason: a kept row still wins\n\
             SELECT account_id, region, registry_id, repository_name, image_digest, NULL AS keep_reason\n\
             FROM aws_ecr_image WHERE image_digest = '{kept}'"
        ),
    );
    let options = RunOptions { apply: true, params: vec![], notify: Some(false) };
    let outcome = env.runner.run(env.runner.prepare(&path, &options).await.unwrap()).await;
    assert!(outcome.report.actions.iter().all(|a| a.target.get("image_digest") != Some(kept.as_str())));
    assert!(outcome.report.summary.done > 0, "the others went: {:?}", outcome.report.summary);
    let left = env.sandbox.world_snapshot();
    let web = left
        .region("111111111111", "us-east-1")
        .and_then(|r| r.repositories.iter().find(|r| r.name == "web"));
    assert!(web.is_some_and(|r| r.images.iter().any(|i| i.digest == kept)), "the kept image is still there");
    assert!(outcome.report.to_text().contains("kept by the test"));
}

#[test]
fn the_demo_shows_what_it_keeps_and_why() {
    let state = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_skyglue"))
        .args(["demo", "--state-dir"])
        .arg(state.path())
        .env("NO_COLOR", "1")
        .env_remove("SLACK_WEBHOOK_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stdout.contains('\x1b'), "no colour in a pipe");
    for shown in [
        "would delete 9 of 9; keeps 13",
        "in account 222222222222 (eu-west-1)",
        ", by digest",
        "in use by task",
        "recent commit (",
        "among the newest builds of ",
        "The Slack message it sent",
        "skyglue demo --serve",
        "skyglue repl",
        "--apply",
    ] {
        assert!(stdout.contains(shown), "no {shown:?} in:\n{stdout}");
    }
}
