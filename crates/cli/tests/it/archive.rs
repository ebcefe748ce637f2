//! Archive first: `archive_ecr_images` with a select-everything policy (only
//! its check can save an image), `skyglue restore RUN_ID` (a run of its own,
//! doing only what is still archived), and the shipped
//! `ecr_delete_archived.sql`.

use std::path::PathBuf;
use std::time::Duration;

use chrono::Utc;
use skyglue_core::sink::Status;
use skyglue_policy::{Report, RunOptions, RunStatus};
use skyglue_sandbox::world::{StorageState, task_definition_arn};
use skyglue_sandbox::{Fault, SandboxConfig, World};

use crate::guards::{GuardEnv, guard_env};
use crate::support::*;

const US: &str = "us-east-1";

const ARCHIVE_EVERY_IMAGE: &str = "-- @name: archive-every-image\n-- @action: archive_ecr_images\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image";

/// Images 1-4 in `web` of 111/us-east-1; a service runs image 1 by its tag.
fn web_world(images: usize) -> World {
    let uri = format!("{ACCOUNT}.dkr.ecr.{US}.amazonaws.com/web:t1");
    let td_arn = task_definition_arn(US, ACCOUNT, "web", 1);
    let mut us = region(US);
    us.repositories.push(skyglue_sandbox::world::Repository {
        images: (1..=images).map(|n| image(n, &[&format!("t{n}")])).collect(),
        ..repository("web", 0)
    });
    us.task_definitions.push(task_definition("web", 1, "ACTIVE", &uri));
    us.clusters.push(cluster("main", vec![service("web", &td_arn)], vec![]));
    world(vec![account(ACCOUNT, vec![us])])
}

/// A sandbox whose restores stay ACTIVATING for the whole test.
fn slow_restores() -> SandboxConfig {
    SandboxConfig { ecr_restore_delay: Duration::from_secs(3600), ..SandboxConfig::default() }
}

/// The ECR status of image `n` in the sandbox now.
fn status(env: &GuardEnv, n: usize) -> &'static str {
    let world = env.sandbox.world_snapshot();
    let repo = &world.region(ACCOUNT, US).unwrap().repositories[0];
    let image = repo.images.iter().find(|i| i.digest == digest(n)).unwrap();
    image.storage.status(Utc::now())
}

/// The digests of the report's actions with `status`, sorted.
fn digests(report: &Report, status: Status) -> Vec<String> {
    let mut out: Vec<String> = report
        .actions
        .iter()
        .filter(|a| a.status == status)
        .filter_map(|a| a.target.get("image_digest").map(str::to_string))
        .collect();
    out.sort();
    out
}

async fn restore(env: &GuardEnv, run_id: &str, apply: bool) -> Report {
    let options = RunOptions { apply, params: vec![], notify: Some(true) };
    let prepared = env.runner.prepare_restore(run_id, &options).await.unwrap();
    env.runner.run(prepared).await.report
}

#[tokio::test]
async fn archive_then_restore_everything_but_the_image_in_use() {
    let env = guard_env(web_world(4), slow_restores()).await;
    let archived = env.run("archive.sql", ARCHIVE_EVERY_IMAGE, true).await;
    assert_eq!(archived.status, RunStatus::Ok, "{archived:?}");
    assert_eq!(digests(&archived, Status::Done), [digest(2), digest(3), digest(4)]);
    let kept: Vec<_> = archived.actions.iter().filter(|a| a.status == Status::Skipped).collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].target.get("image_digest"), Some(&*digest(1)));
    assert!(kept[0].reason.as_deref().is_some_and(|r| r.starts_with("in use by")), "{kept:?}");
    assert_eq!(env.calls("ecr:UpdateImageStorageClass"), 3, "one call per image");
    assert_eq!(env.calls("ecr:BatchDeleteImage"), 0);
    assert_eq!((status(&env, 1), status(&env, 2), status(&env, 4)), ("ACTIVE", "ARCHIVED", "ARCHIVED"));
    let moved: i64 = (2..=4).map(|n| 1000 + n as i64).sum();
    assert_eq!((archived.summary.bytes_archived, archived.summary.bytes_reclaimed), (Some(moved), 0));
    assert!(archived.to_text().contains("moved to the archive"), "{}", archived.to_text());

    // Run again: what is archived is skipped, saying so; nothing is called.
    let again = env.run("archive.sql", ARCHIVE_EVERY_IMAGE, true).await;
    let reasons: Vec<_> = again.actions.iter().filter_map(|a| a.reason.as_deref()).collect();
    assert_eq!(reasons.iter().filter(|r| **r == "already archived").count(), 3, "{reasons:?}");
    assert_eq!(env.calls("ecr:UpdateImageStorageClass"), 3);

    let dry = restore(&env, &archived.run_id, false).await;
    assert_eq!(digests(&dry, Status::Planned), [digest(2), digest(3), digest(4)]);
    assert_eq!(status(&env, 2), "ARCHIVED", "a dry run restores nothing");

    let restored = restore(&env, &archived.run_id, true).await;
    assert_eq!(restored.status, RunStatus::Ok, "{restored:?}");
    assert_ne!(restored.run_id, archived.run_id, "a run of its own");
    assert!(restored.policy.contains("restore of"), "{}", restored.policy);
    assert_eq!(digests(&restored, Status::Done), [digest(2), digest(3), digest(4)]);
    assert_eq!(restored.summary.bytes_restored, Some(moved));
    assert_eq!(env.calls("ecr:UpdateImageStorageClass"), 6);
    for n in 2..=4 {
        assert_eq!(status(&env, n), "ACTIVATING");
    }
    assert_eq!(status(&env, 1), "ACTIVE", "the image in use was never archived");
    let journal = skyglue_policy::Journal::read_all(env.runner.journal().path()).unwrap();
    assert!(journal.iter().any(|e| e.run_id == restored.run_id && e.event == "run_finished"));
    let slack = env.sandbox.slack_messages();
    assert!(
        slack.iter().any(|m| m["text"].as_str().is_some_and(|t| t.contains("restored 3 images"))),
        "{slack:?}"
    );
}

#[tokio::test]
async fn restoring_a_run_that_archived_nothing_restores_nothing() {
    let env = guard_env(web_world(3), slow_restores()).await;
    let dry = env.run("archive.sql", ARCHIVE_EVERY_IMAGE, false).await;
    assert_eq!(digests(&dry, Status::Planned).len(), 2);
    let restored = restore(&env, &dry.run_id, true).await;
    assert_eq!((restored.status, restored.summary.planned, restored.summary.done), (RunStatus::Ok, 0, 0));
    assert_eq!(env.calls("ecr:UpdateImageStorageClass"), 0);
}

#[tokio::test]
async fn a_restore_stopped_halfway_is_finished_by_the_next() {
    // The archive makes calls 1-5; the first restore's 2nd and 3rd calls (7
    // and 8) are refused, so it stops halfway: 3 restored, 2 still archived.
    let faults =
        vec![Fault::nth_call("ecr:UpdateImageStorageClass", 7).times(2).error(400, "AccessDeniedException")];
    let config = SandboxConfig { faults, ..slow_restores() };
    let mut world = web_world(5);
    // nothing uses the images in this test
    world.accounts[0].regions[0].clusters.clear();
    let env = guard_env(world, config).await;
    let archived = env.run("archive.sql", ARCHIVE_EVERY_IMAGE, true).await;
    assert_eq!(digests(&archived, Status::Done).len(), 5, "{archived:?}");
    let first = restore(&env, &archived.run_id, true).await;
    assert_eq!(first.status, RunStatus::Partial, "{first:?}");
    let (done, failed) = (digests(&first, Status::Done), digests(&first, Status::Failed));
    assert_eq!((done.len(), failed.len()), (3, 2), "{first:?}");

    let second = restore(&env, &archived.run_id, true).await;
    assert_eq!(second.status, RunStatus::Ok, "{second:?}");
    let mut rest: Vec<String> = (1..=5).map(digest).filter(|d| !done.contains(d)).collect();
    rest.sort();
    assert_eq!(digests(&second, Status::Done), rest, "only what the first did not restore");
    let skipped: Vec<_> = second.actions.iter().filter(|a| a.status == Status::Skipped).collect();
    assert_eq!(skipped.len(), 3);
    assert!(skipped.iter().all(|a| a.reason.as_deref() == Some("already being restored (ACTIVATING)")));
    assert_eq!(env.calls("ecr:UpdateImageStorageClass"), 5 + 5 + 2);
}

#[tokio::test]
async fn an_unknown_run_cannot_be_restored() {
    let env = guard_env(web_world(1), slow_restores()).await;
    let options = RunOptions { apply: true, params: vec![], notify: Some(false) };
    let Err(e) = env.runner.prepare_restore("20260101T000000Z-nope", &options).await else {
        panic!("an unknown run id is refused");
    };
    assert!(e.to_string().contains("no run 20260101T000000Z-nope in the journal"), "{e}");
}

fn shipped(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../queries").join(name)
}

#[tokio::test]
async fn delete_archived_with_zero_days_plans_exactly_the_archived_images() {
    let mut world = web_world(5);
    let now = Utc::now();
    let images = &mut world.accounts[0].regions[0].repositories[0].images;
    // 1 is in use (by tag t1) and archived; 2 and 3 archived; 4 restored; 5 active.
    for n in [1, 2, 3, 4] {
        images[n - 1].storage.state = StorageState::Archived;
        images[n - 1].storage.last_archived_at = Some(now - chrono::Duration::days(n as i64 * 40));
    }
    images[3].storage.state = StorageState::Active;
    images[3].storage.last_activated_at = Some(now - chrono::Duration::days(1));
    let env = guard_env(world, slow_restores()).await;
    let plan = |days: &str| {
        let options = RunOptions {
            apply: false,
            params: vec![("archived_days".into(), days.into())],
            notify: Some(false),
        };
        let runner = &env.runner;
        async move {
            runner
                .run(runner.prepare(&shipped("ecr_delete_archived.sql"), &options).await.unwrap())
                .await
                .report
        }
    };
    let all = plan("0").await;
    assert_eq!(all.status, RunStatus::Ok, "{all:?}");
    assert_eq!(digests(&all, Status::Planned), [digest(2), digest(3)], "{all:?}");
    assert!(all.actions.iter().all(|a| a.target.get("image_digest") != Some(&*digest(4))));
    assert!(all.to_text().contains("in use by"), "the archived image in use is kept:\n{}", all.to_text());
    let old = plan("90").await;
    assert_eq!(digests(&old, Status::Planned), [digest(3)], "archived 120 days ago; 2 only 80");
    assert_eq!(env.calls("ecr:BatchDeleteImage"), 0);
}

/// The planned (or done) digests of a JSON report, sorted.
fn json_digests(report: &serde_json::Value, status: &str) -> Vec<String> {
    let mut out: Vec<String> = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["status"] == status)
        .map(|a| format!("{}/{}", a["target"]["repository_name"], a["target"]["image_digest"]))
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_archive_policy_archives_what_the_cleanup_would_delete_and_restore_undoes_it() {
    let cli = crate::policy_validation::Cli::start().await;
    let (cleanup, archive) = (shipped("ecr_cleanup.sql"), shipped("ecr_archive.sql"));
    let (code, out, err) =
        cli.run(&["run", cleanup.to_str().unwrap(), "--format", "json", "--notify", "none"]);
    assert_eq!(code, 0, "{err}");
    let would_delete = json_digests(&serde_json::from_str(&out).unwrap(), "planned");
    assert!(!would_delete.is_empty());

    let args = ["run", archive.to_str().unwrap(), "--apply", "--format", "json", "--notify", "none"];
    let (code, out, err) = cli.run(&args);
    assert_eq!(code, 0, "{err}\n{out}");
    let archived: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json_digests(&archived, "done"), would_delete, "the same selection, archived");
    assert_eq!(archived["summary"]["bytes_reclaimed"], 0);
    assert!(archived["summary"]["bytes_archived"].as_i64().unwrap() > 0, "{}", archived["summary"]);

    let run_id = archived["run_id"].as_str().unwrap();
    let (code, out, err) = cli.run(&["restore", run_id, "--format", "json", "--notify", "none"]);
    assert_eq!(code, 0, "{err}");
    let dry: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (dry["mode"].as_str(), json_digests(&dry, "planned")),
        (Some("dry_run"), would_delete.clone())
    );
    let (code, out, err) = cli.run(&["restore", run_id, "--apply", "--format", "json", "--notify", "none"]);
    assert_eq!(code, 0, "{err}");
    let restored: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json_digests(&restored, "done"), would_delete);
    assert_ne!(restored["run_id"], archived["run_id"]);

    let (code, _, err) = cli.run(&["restore", "20260101T000000Z-bogus", "--notify", "none"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("20260101T000000Z-bogus"), "{err}");
}

#[tokio::test]
async fn aws_ecr_image_lists_every_status_and_pushes_a_status_filter_into_describe_images() {
    // 1,005 images, 5 archived: all of them take two pages of 1,000; the
    // archived ones alone, one page.
    let mut world = web_world(1005);
    let now = Utc::now();
    for image in world.accounts[0].regions[0].repositories[0].images.iter_mut().take(5) {
        image.storage.state = StorageState::Archived;
        image.storage.last_archived_at = Some(now);
    }
    let env = Env::start(world).await;
    assert_eq!(env.count("SELECT count(*) FROM aws_ecr_image").await, 1005);
    assert_eq!(env.calls("ecr:DescribeImages"), 2);
    env.sandbox.reset_calls();
    let sql =
        "SELECT count(*) FROM aws_ecr_image WHERE image_status = 'ARCHIVED' AND last_archived_at IS NOT NULL";
    assert_eq!(env.count(sql).await, 5);
    assert_eq!(env.calls("ecr:DescribeImages"), 1, "the status filter went to DescribeImages");
    env.sandbox.reset_calls();
    assert_eq!(env.count("SELECT count(*) FROM aws_ecr_image WHERE image_status = 'archived'").await, 0);
    assert_eq!(env.calls("ecr:DescribeImages"), 0, "a value that is no status is not asked for");
    let active = "SELECT count(*) FROM aws_ecr_image WHERE image_status IN ('ACTIVE', 'ACTIVATING')";
    assert_eq!(env.count(active).await, 1000);
}
