//! S3 on the sandbox, with S3's real page sizes and errors: 2,500 objects
//! paged 1,000 at a time, the prefix pushed into the listing (counted
//! calls), `LIMIT`; the shipped cleanup policy on two branches and a
//! versioned bucket in another region; an object changed since it was
//! selected is skipped; a per-key AccessDenied makes the run partial; and
//! `503 SlowDown` is retried through the limiter.

use std::sync::Arc;

use chrono::{Duration, Utc};
use skyglue_core::sink::Status;
use skyglue_policy::{Journal, Report, RunOptions, RunStatus, Runner};
use skyglue_sandbox::world::S3Bucket;
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::policy_runner::write_policy;
use crate::support::*;

const CLEANUP: &str = include_str!("../../../../queries/s3_cleanup.sql");

struct S3Env {
    sandbox: Sandbox,
    runner: Runner,
    dir: tempfile::TempDir,
}

async fn env(world: World, config: SandboxConfig) -> S3Env {
    let sandbox = Sandbox::start(world.clone(), config).await.unwrap();
    let connections = skyglue::sandbox::connections(&sandbox, &world).await.unwrap();
    let engine = skyglue_core::Engine::new(connections, skyglue::sandbox::registry());
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
    let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), None);
    S3Env { sandbox, runner, dir }
}

impl S3Env {
    async fn run(&self, policy: &str, params: &[(&str, &str)], apply: bool) -> Report {
        let path = write_policy(self.dir.path(), "policy.sql", policy);
        let params = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let options = RunOptions { apply, params, notify: Some(false) };
        let prepared = self.runner.prepare(&path, &options).await.unwrap();
        self.runner.run(prepared).await.report
    }

    async fn query(&self, sql: &str) -> String {
        let ctx = self.runner.engine().session().await.unwrap();
        pretty(&ctx.sql(sql).await.unwrap().collect().await.unwrap())
    }

    fn calls(&self, op: &str) -> u64 {
        self.sandbox.calls().get(op).copied().unwrap_or(0)
    }

    fn keys(&self, bucket: &str) -> Vec<String> {
        let world = self.sandbox.world_snapshot();
        let b = world.s3_bucket(bucket).unwrap();
        b.objects.iter().filter(|(_, o)| o.current().is_some()).map(|(k, _)| k.clone()).collect()
    }
}

fn world_with(buckets: Vec<S3Bucket>) -> World {
    let mut world = world(vec![account(ACCOUNT, vec![region("us-east-1"), region("eu-west-1")])]);
    world.s3_buckets = buckets;
    world
}

/// 2,000 logs and 500 builds, all a day old.
fn big_bucket() -> S3Bucket {
    let at = Utc::now() - Duration::days(1);
    let mut b = S3Bucket::new(ACCOUNT, "us-east-1", "big");
    for i in 0..2_000 {
        b = b.with_object(&format!("logs/{i:05}.txt"), 10, at);
    }
    for i in 0..500 {
        b = b.with_object(&format!("builds/{i:05}.tar.gz"), 1000, at);
    }
    b
}

#[tokio::test]
async fn objects_page_1000_at_a_time_the_prefix_is_pushed_and_limit_stops_paging() {
    let env = env(world_with(vec![big_bucket()]), SandboxConfig::default()).await;
    let all = env.query("SELECT count(*) AS n FROM aws_s3_object WHERE bucket_name = 'big'").await;
    assert!(all.contains("| 2500 |"), "{all}");
    assert_eq!(env.calls("s3:ListObjectsV2"), 3, "2,500 objects at 1,000 per page");

    env.sandbox.reset_calls();
    let builds = env
        .query("SELECT count(*) AS n, sum(size) AS bytes FROM aws_s3_object WHERE bucket_name = 'big' AND key LIKE 'builds/%'")
        .await;
    assert!(builds.contains("| 500 | 500000 |"), "{builds}");
    assert_eq!(env.calls("s3:ListObjectsV2"), 1, "the LIKE prefix became the listing's prefix");

    env.sandbox.reset_calls();
    let few = env.query("SELECT key FROM aws_s3_object WHERE bucket_name = 'big' LIMIT 5").await;
    assert_eq!(few.lines().filter(|l| l.contains("builds/")).count(), 5, "keys come in order: {few}");
    assert_eq!(env.calls("s3:ListObjectsV2"), 1, "LIMIT stops paging");

    // Buckets are listed once per account, though the account has two regions.
    env.sandbox.reset_calls();
    let buckets = env.query("SELECT name, region FROM aws_s3_bucket").await;
    assert!(buckets.contains("| big  | us-east-1 |"), "{buckets}");
    assert_eq!(env.calls("s3:ListBuckets"), 1);
}

/// Branch main has builds 001-006, feature 001-003, all 40+ days old except
/// main's newest; a versioned bucket in eu-west-1 holds artifacts too.
fn ci_world() -> World {
    let old = |days: i64| Utc::now() - Duration::days(days);
    let mut ci = S3Bucket::new(ACCOUNT, "us-east-1", "ci");
    for n in 1..=6 {
        ci = ci.with_object(&format!("builds/main/{n:03}/app.tar.gz"), 100 * n, old(50 - n));
    }
    ci = ci.with_object("builds/main/007/app.tar.gz", 700, old(1));
    for n in 1..=3 {
        ci = ci.with_object(&format!("builds/feature/{n:03}/app.tar.gz"), 10 * n, old(60 - n));
    }
    ci = ci.with_object("logs/old.txt", 5, old(90));
    let mut eu = S3Bucket::new(ACCOUNT, "eu-west-1", "ci-eu").versioned();
    for n in 1..=4 {
        eu = eu.with_object(&format!("builds/main/{n:03}/app.tar.gz"), 1000, old(50 - n));
    }
    world_with(vec![ci, eu])
}

fn done_keys(report: &Report) -> Vec<String> {
    let mut keys: Vec<String> = report
        .actions
        .iter()
        .filter(|a| a.status == Status::Done)
        .filter_map(|a| a.target.get("key").map(str::to_string))
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn the_shipped_policy_keeps_the_newest_builds_per_branch_and_deletes_exactly_the_rest() {
    let env = env(ci_world(), SandboxConfig::default()).await;
    let params = [("bucket", "ci"), ("keep_per_prefix", "2")];
    let dry = env.run(CLEANUP, &params, false).await;
    assert_eq!(dry.status, RunStatus::Ok, "{:?}", dry.error);
    assert_eq!(dry.summary.planned, 6, "{:?}", dry.actions);

    let report = env.run(CLEANUP, &params, true).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    // main keeps its two newest builds (007, new, and 006), feature its two
    // newest (003, 002); everything else under builds/ is older than 30 days.
    let mut expected: Vec<String> = [
        "builds/feature/001/app.tar.gz",
        "builds/main/001/app.tar.gz",
        "builds/main/002/app.tar.gz",
        "builds/main/003/app.tar.gz",
        "builds/main/004/app.tar.gz",
        "builds/main/005/app.tar.gz",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    expected.sort();
    assert_eq!(done_keys(&report), expected);
    assert_eq!(report.summary.bytes_reclaimed, 10 + 100 + 200 + 300 + 400 + 500);
    let left = env.keys("ci");
    assert!(left.contains(&"logs/old.txt".to_string()), "outside the prefix: {left:?}");
    assert_eq!(left.len(), 5, "{left:?}");

    // The versioned bucket in eu-west-1 is read and deleted in its own region;
    // deletes there add delete markers and reclaim nothing.
    let eu = env.run(CLEANUP, &[("bucket", "ci-eu"), ("keep_per_prefix", "1")], true).await;
    assert_eq!(eu.status, RunStatus::Ok, "{:?}", eu.error);
    assert_eq!(done_keys(&eu).len(), 3);
    assert!(
        eu.actions.iter().all(|a| a.reason.as_deref().is_some_and(|r| r.starts_with("delete marker added")))
    );
    assert_eq!(eu.summary.bytes_reclaimed, 0);
    let world = env.sandbox.world_snapshot();
    assert_eq!(
        world.s3_bucket("ci-eu").unwrap().version_count(),
        4 + 3,
        "the data stays as noncurrent versions"
    );
}

#[tokio::test]
async fn an_object_changed_since_it_was_selected_is_skipped() {
    let env = env(ci_world(), SandboxConfig::default()).await;
    // Rows selected with an etag that is no longer the object's (as if it
    // was overwritten after the query ran): only the check can save them.
    let policy = "-- @name: stale\n-- @action: delete_s3_objects\n\
        SELECT bucket_name, key, CASE WHEN key LIKE '%/001/%' THEN '\"stale\"' ELSE etag END AS etag \
        FROM aws_s3_object WHERE bucket_name = 'ci' AND key LIKE 'builds/feature/%'\n";
    let report = env.run(policy, &[], true).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let stale =
        report.actions.iter().find(|a| a.target.get("key") == Some("builds/feature/001/app.tar.gz")).unwrap();
    assert_eq!(stale.status, Status::Skipped);
    assert!(
        stale.reason.as_deref().is_some_and(|r| r.starts_with("modified since planned")),
        "{:?}",
        stale.reason
    );
    assert_eq!(done_keys(&report).len(), 2);
    assert!(env.keys("ci").contains(&"builds/feature/001/app.tar.gz".to_string()));

    // A row without an etag cannot show a change: skipped, not guessed.
    let blind = "-- @name: blind\n-- @action: delete_s3_objects\n\
        SELECT bucket_name, key FROM aws_s3_object WHERE bucket_name = 'ci' AND key = 'logs/old.txt'\n";
    let report = env.run(blind, &[], true).await;
    assert_eq!(report.actions[0].status, Status::Skipped);
    assert!(env.keys("ci").contains(&"logs/old.txt".to_string()));
}

#[tokio::test]
async fn a_per_key_access_denied_makes_the_run_partial_and_the_rest_is_done() {
    let denied = "builds/main/002/app.tar.gz";
    let config = SandboxConfig { s3_denied_keys: vec![denied.into()], ..SandboxConfig::default() };
    let env = env(ci_world(), config).await;
    let report = env.run(CLEANUP, &[("bucket", "ci"), ("keep_per_prefix", "2")], true).await;
    assert_eq!(report.status, RunStatus::Partial, "{:?}", report.error);
    let failed: Vec<_> = report.actions.iter().filter(|a| a.status == Status::Failed).collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].target.get("key"), Some(denied));
    assert!(
        failed[0].reason.as_deref().is_some_and(|r| r.starts_with("AccessDenied")),
        "{:?}",
        failed[0].reason
    );
    assert_eq!(done_keys(&report).len(), 5);
    assert_eq!(env.calls("s3:DeleteObjects"), 1, "one call for all six keys");
}

#[tokio::test]
async fn slow_down_is_a_throttle_retried_through_the_limiter() {
    // One call per two seconds: the listing's pages come faster than that
    // however loaded the machine, so at least one is throttled.
    let config = SandboxConfig { s3_rate_per_sec: Some(0.5), ..SandboxConfig::default() };
    let env = env(world_with(vec![big_bucket()]), config).await;
    let all = env.query("SELECT count(*) AS n FROM aws_s3_object WHERE bucket_name = 'big'").await;
    assert!(all.contains("| 2500 |"), "{all}");
    let throttled: u64 = env.sandbox.throttled_calls().values().sum();
    assert!(throttled > 0, "the sandbox answered SlowDown at least once");
}

#[tokio::test]
async fn an_upload_between_the_check_and_the_delete_is_kept_and_the_run_says_changed_since_checked() {
    let world = ci_world();
    let sandbox = Arc::new(Sandbox::start(world.clone(), SandboxConfig::default()).await.unwrap());
    let connections = skyglue::sandbox::connections(&sandbox, &world).await.unwrap();
    let engine = skyglue_core::Engine::new(connections, skyglue::sandbox::registry());
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
    // CI re-uploads a build once the check has passed it, before the delete.
    let overwritten = "builds/feature/001/app.tar.gz";
    let uploader = sandbox.clone();
    let observer: skyglue_policy::StageObserver = Arc::new(move |stage| {
        if stage == skyglue_policy::Stage::Act {
            uploader.update_world(|w| w.s3_bucket_mut("ci").unwrap().put_object(overwritten, 999));
        }
    });
    let runner =
        Runner::new(engine, journal.clone(), skyglue_aws::sinks::all(), None).with_stage_observer(observer);
    let policy = "-- @name: feature\n-- @action: delete_s3_objects\n\
        SELECT bucket_name, key, etag FROM aws_s3_object WHERE bucket_name = 'ci' AND key LIKE 'builds/feature/%'\n";
    let path = write_policy(dir.path(), "feature.sql", policy);
    let options = RunOptions { apply: true, params: vec![], notify: Some(false) };
    let report = runner.run(runner.prepare(&path, &options).await.unwrap()).await.report;

    assert_eq!(report.status, RunStatus::Ok, "a skip is not a failure: {:?}", report.error);
    let action = report.actions.iter().find(|a| a.target.get("key") == Some(overwritten)).unwrap();
    assert_eq!(action.status, Status::Skipped);
    assert!(action.reason.as_deref().is_some_and(|r| r.starts_with("changed since checked")), "{action:?}");
    assert_eq!(report.summary.bytes_reclaimed, 20 + 30, "only what went counts");
    let done: Vec<_> = report.actions.iter().filter(|a| a.status == Status::Done).collect();
    assert!(
        done.iter().all(|a| a.reason.as_deref() == Some(skyglue_aws::sinks::delete_s3_objects::PERMANENT))
    );
    let world = sandbox.world_snapshot();
    assert_eq!(world.s3_bucket("ci").unwrap().objects[overwritten].current().map(|v| v.size), Some(999));
    // The journal records the skip with S3's reason.
    let entries = Journal::read_all(journal.path()).unwrap();
    let outcome = entries
        .iter()
        .find(|e| e.event == "outcome" && e.target.as_ref().and_then(|t| t.get("key")) == Some(overwritten))
        .unwrap();
    assert_eq!(outcome.status.as_deref(), Some("skipped"));
    assert!(outcome.reason.as_deref().is_some_and(|r| r.contains("PreconditionFailed")), "{outcome:?}");
}
