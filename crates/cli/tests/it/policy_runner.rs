//! The policy runner against the sandbox: dry runs change nothing, apply
//! deletes exactly the planned set, guardrails hold whatever the SQL says,
//! and the journal records every step.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use skyglue_core::sink::Status;
use skyglue_policy::{Journal, Mode, RunOptions, RunStatus, Runner};
use skyglue_sandbox::demo::demo_digest;
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig, World};

use crate::support::*;

pub struct PolicyEnv {
    pub sandbox: Sandbox,
    pub runner: Runner,
    pub dir: tempfile::TempDir,
}

pub async fn policy_env(world: World, config: SandboxConfig) -> PolicyEnv {
    let sandbox = Sandbox::start(world.clone(), config).await.unwrap();
    let engine = skyglue::sandbox::engine(&sandbox, &world).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(dir.path()).unwrap());
    let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), None);
    PolicyEnv { sandbox, runner, dir }
}

pub fn write_policy(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn options(apply: bool) -> RunOptions {
    RunOptions { apply, params: vec![], notify: Some(false) }
}

/// Every image of the demo's `web` repository older than `$days` days, in use or not.
const ALL_OLD_WEB_IMAGES: &str = "-- @name: all-old-web\n-- @action: delete_ecr_images\n-- @param days: 30\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image \
    WHERE repository_name = 'web' AND image_pushed_at < days_ago($days)";

fn web_digests(world: &World) -> Vec<String> {
    world
        .region("111111111111", "us-east-1")
        .and_then(|r| r.repositories.iter().find(|r| r.name == "web"))
        .map(|r| r.images.iter().map(|i| i.digest.clone()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let env = policy_env(World::demo(), SandboxConfig::default()).await;
    let path = write_policy(env.dir.path(), "p.sql", ALL_OLD_WEB_IMAGES);
    let prepared = env.runner.prepare(&path, &options(false)).await.unwrap();
    let before = env.sandbox.world_snapshot();
    let outcome = env.runner.run(prepared).await;
    assert_eq!(outcome.report.mode, Mode::DryRun);
    assert!(outcome.report.actions.iter().any(|a| a.status == Status::Planned));
    assert_eq!(env.sandbox.world_snapshot(), before, "a dry run changes nothing");
    assert_eq!(env.calls("ecr:BatchDeleteImage"), 0);
}

impl PolicyEnv {
    fn calls(&self, op: &str) -> u64 {
        self.sandbox.calls().get(op).copied().unwrap_or(0)
    }
}

#[tokio::test]
async fn in_use_images_are_skipped_and_the_rest_deleted() {
    let env = policy_env(World::demo(), SandboxConfig::default()).await;
    let path = write_policy(env.dir.path(), "p.sql", ALL_OLD_WEB_IMAGES);
    let prepared = env.runner.prepare(&path, &options(true)).await.unwrap();
    let outcome = env.runner.run(prepared).await;
    let report = &outcome.report;
    let by_digest = |label: &str| {
        let d = demo_digest(label);
        report.actions.iter().find(|a| a.target.get("image_digest") == Some(d.as_str())).cloned()
    };
    // In use, by tag, digest, task, scaled-to-zero service and old deployment.
    for label in ["aaa0003", "aaa0004", "aaa0005", "aaa0006", "aaa0007"] {
        let a = by_digest(label).unwrap_or_else(|| panic!("{label} selected"));
        assert_eq!(a.status, Status::Skipped, "{label}: {a:?}");
        assert!(
            a.reason.as_deref().is_some_and(|r| r.starts_with("in use by arn:aws:ecs:")),
            "{label}: {a:?}"
        );
    }
    // Unused: deleted, the image index before its children.
    for label in
        ["aaa0001", "aaa0002", "aaa0008", "aaa0009", "aaa0009-amd64", "aaa0009-arm64", "untagged-old"]
    {
        let a = by_digest(label).unwrap_or_else(|| panic!("{label} selected"));
        assert_eq!(a.status, Status::Done, "{label}: {a:?}");
    }
    let left = web_digests(&env.sandbox.world_snapshot());
    for label in ["aaa0001", "aaa0002", "aaa0009", "untagged-old"] {
        assert!(!left.contains(&demo_digest(label)), "{label} is gone");
    }
    for label in ["aaa0003", "aaa0005", "aaa0006", "bbb0012"] {
        assert!(left.contains(&demo_digest(label)), "{label} stays");
    }
    assert_eq!(report.summary.done, report.actions.iter().filter(|a| a.status == Status::Done).count());
    assert!(report.summary.bytes_reclaimed > 0, "bytes reclaimed are reported");
    assert_eq!(report.status, RunStatus::Ok);
}

#[tokio::test]
async fn children_of_a_kept_index_are_protected() {
    let env = policy_env(World::demo(), SandboxConfig::default()).await;
    let (amd, arm) = (demo_digest("aaa0009-amd64"), demo_digest("aaa0009-arm64"));
    let policy = format!(
        "-- @action: delete_ecr_images\nSELECT repository_name, image_digest FROM aws_ecr_image \
         WHERE repository_name = 'web' AND image_digest IN ('{amd}', '{arm}')"
    );
    let path = write_policy(env.dir.path(), "children.sql", &policy);
    let outcome = env.runner.run(env.runner.prepare(&path, &options(true)).await.unwrap()).await;
    assert_eq!(outcome.report.actions.len(), 2);
    for a in &outcome.report.actions {
        assert_eq!(a.status, Status::Skipped, "{a:?}");
        assert!(a.reason.as_deref().is_some_and(|r| r.contains("image index")), "{a:?}");
    }
    assert_eq!(env.calls("ecr:BatchDeleteImage"), 0);
}

#[tokio::test]
async fn max_deletes_stops_everything() {
    let env = policy_env(World::demo(), SandboxConfig::default()).await;
    let policy = ALL_OLD_WEB_IMAGES.replace("-- @param", "-- @max_deletes: 2\n-- @param");
    let path = write_policy(env.dir.path(), "p.sql", &policy);
    let before = env.sandbox.world_snapshot();
    let outcome = env.runner.run(env.runner.prepare(&path, &options(true)).await.unwrap()).await;
    assert_eq!(outcome.report.status, RunStatus::Failed);
    assert!(
        outcome.report.error.as_deref().is_some_and(|e| e.contains("max_deletes")),
        "{:?}",
        outcome.report.error
    );
    assert_eq!(outcome.exit_code(), 1);
    assert_eq!(env.sandbox.world_snapshot(), before);
}

#[tokio::test]
async fn a_failed_batch_makes_the_run_partial() {
    let mut r = region("us-east-1");
    r.repositories.push(repository("web", 150));
    let config = SandboxConfig {
        faults: vec![Fault::nth_call("ecr:BatchDeleteImage", 2).error(400, "InvalidParameterException")],
        ..SandboxConfig::default()
    };
    let env = policy_env(world(vec![account(ACCOUNT, vec![r])]), config).await;
    let path = write_policy(
        env.dir.path(),
        "all.sql",
        "-- @action: delete_ecr_images\nSELECT repository_name, image_digest FROM aws_ecr_image",
    );
    let outcome = env.runner.run(env.runner.prepare(&path, &options(true)).await.unwrap()).await;
    let s = &outcome.report.summary;
    assert_eq!((s.planned, s.done, s.failed), (150, 100, 50), "{s:?}");
    assert_eq!(outcome.report.status, RunStatus::Partial);
    assert_eq!(outcome.exit_code(), 1);
    let failed = outcome.report.actions.iter().find(|a| a.status == Status::Failed).unwrap();
    assert!(failed.reason.as_deref().is_some_and(|r| r.contains("InvalidParameterException")), "{failed:?}");
}

#[tokio::test]
async fn the_journal_records_every_step_and_is_queryable() {
    let env = policy_env(World::demo(), SandboxConfig::default()).await;
    let path = write_policy(env.dir.path(), "p.sql", ALL_OLD_WEB_IMAGES);
    let outcome = env.runner.run(env.runner.prepare(&path, &options(true)).await.unwrap()).await;
    let entries = Journal::read_all(env.runner.journal().path()).unwrap();
    let of = |event: &str| {
        entries.iter().filter(|e| e.event == event && e.run_id == outcome.report.run_id).count()
    };
    assert_eq!(of("run_started"), 1);
    assert_eq!(of("run_finished"), 1);
    assert_eq!(of("intent"), outcome.report.summary.done + outcome.report.summary.failed);
    assert_eq!(of("outcome"), of("intent"));

    let ctx = env.runner.engine().session().await.unwrap();
    skyglue::register_journal(&ctx, env.dir.path()).unwrap();
    let batches = ctx
        .sql(&format!(
            "SELECT count(*) FROM skyglue_journal WHERE run_id = '{}' AND event = 'outcome' AND status = 'done'",
            outcome.report.run_id
        ))
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let n = datafusion::arrow::array::cast::as_primitive_array::<datafusion::arrow::datatypes::Int64Type>(
        batches[0].column(0),
    )
    .value(0);
    assert_eq!(n as usize, outcome.report.summary.done);
}

#[tokio::test]
async fn task_definitions_in_use_are_kept() {
    let env = policy_env(World::demo(), SandboxConfig::default()).await;
    let path =
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries/ecs_task_definition_cleanup.sql"));
    let prepared = env.runner.prepare(&path, &options(true)).await.unwrap();
    let outcome = env.runner.run(prepared).await;
    assert_eq!(outcome.report.status, RunStatus::Ok, "{:?}", outcome.report.error);
    assert!(outcome.report.summary.done > 0);
    let world = env.sandbox.world_snapshot();
    let prod = world.region("111111111111", "us-east-1").unwrap();
    let has = |family: &str, rev: i32| {
        prod.task_definitions.iter().any(|t| t.family == family && t.revision == rev)
    };
    assert!(has("web", 7), "web:7 serves the old deployment of a rollout");
    assert!(has("web", 10), "web:10 is the new deployment");
    assert!(!has("web", 1), "web:1 was INACTIVE and unused");
}
