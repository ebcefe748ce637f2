//! The sinks' own checks, proven with policies whose SQL selects everything,
//! so only the check can save a resource: replicated images in several
//! accounts and regions, task definitions in use every way ECS uses them, and
//! failing reads that must fail the run with nothing deleted and Slack told.

use std::sync::Arc;

use skyglue_core::sink::Status;
use skyglue_policy::{Journal, Report, RunOptions, RunStatus, Runner};
use skyglue_sandbox::world::{Image, Repository, TaskSet, task_definition_arn};
use skyglue_sandbox::{DescribeFailure, Fault, Sandbox, SandboxConfig, World};

use crate::policy_runner::write_policy;
use crate::support::*;

pub(crate) struct GuardEnv {
    pub(crate) sandbox: Sandbox,
    pub(crate) runner: Runner,
    pub(crate) dir: tempfile::TempDir,
}

/// A runner over `world` that notifies the sandbox's Slack.
pub(crate) async fn guard_env(world: World, config: SandboxConfig) -> GuardEnv {
    let sandbox = Sandbox::start(world.clone(), config).await.unwrap();
    let mut connections = skyglue::sandbox::connections(&sandbox, &world).await.unwrap();
    connections.slack.webhook_url = Some(sandbox.slack_webhook_url());
    let notifier = skyglue::notifier(&connections);
    let engine = skyglue_core::Engine::new(connections, skyglue::sandbox::registry());
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
    let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), notifier);
    GuardEnv { sandbox, runner, dir }
}

impl GuardEnv {
    pub(crate) async fn run(&self, name: &str, policy: &str, apply: bool) -> Report {
        let path = write_policy(self.dir.path(), name, policy);
        let options = RunOptions { apply, params: vec![], notify: Some(true) };
        let prepared = self.runner.prepare(&path, &options).await.unwrap();
        self.runner.run(prepared).await.report
    }

    pub(crate) fn calls(&self, op: &str) -> u64 {
        self.sandbox.calls().get(op).copied().unwrap_or(0)
    }
}

fn status_of(
    report: &Report,
    pred: impl Fn(&skyglue_core::sink::Target) -> bool,
) -> Vec<(Status, Option<&str>)> {
    report.actions.iter().filter(|a| pred(&a.target)).map(|a| (a.status, a.reason.as_deref())).collect()
}

const US: &str = "us-east-1";
const EU: &str = "eu-west-1";

fn ecr_uri(account: &str, region: &str, repo: &str) -> String {
    format!("{account}.dkr.ecr.{region}.amazonaws.com/{repo}")
}

fn repo_with(name: &str, images: Vec<Image>) -> Repository {
    Repository { images, ..repository(name, 0) }
}

/// The same image (digest 1) in `web` of 111/us-east-1, 111/eu-west-1 and
/// 222/us-east-1; a service in 222/us-east-1 runs the 111/us-east-1 copy by
/// digest (a cross-account pull), so only that copy is in use.
pub(crate) fn replicated_world() -> World {
    let shared = image(1, &["abc1234"]);
    let d = digest(1);
    let pull = format!("{}@{d}", ecr_uri(ACCOUNT, US, "web"));
    let td = task_definition("puller", 1, "ACTIVE", &pull);
    let td_arn = task_definition_arn(US, OTHER, "puller", 1);
    let mut other_us = region(US);
    other_us.repositories.push(repo_with("web", vec![shared.clone()]));
    other_us.task_definitions.push(td);
    other_us.clusters.push(cluster("main", vec![service("puller", &td_arn)], vec![]));
    let mut mine_us = region(US);
    mine_us.repositories.push(repo_with("web", vec![shared.clone()]));
    let mut mine_eu = region(EU);
    mine_eu.repositories.push(repo_with("web", vec![shared]));
    world(vec![account(ACCOUNT, vec![mine_us, mine_eu]), account(OTHER, vec![other_us])])
}

const EVERY_IMAGE: &str = "-- @name: every-image\n-- @action: delete_ecr_images\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image";

const EVERY_IMAGE_UNLOCATED: &str = "-- @name: every-image-unlocated\n-- @action: delete_ecr_images\n\
    SELECT repository_name, image_digest FROM aws_ecr_image";

#[tokio::test]
async fn only_the_unused_replicas_named_exactly_are_deleted() {
    let env = guard_env(replicated_world(), SandboxConfig::default()).await;
    let report = env.run("every.sql", EVERY_IMAGE, true).await;
    let at = |account: &'static str, region: &'static str| {
        move |t: &skyglue_core::sink::Target| {
            t.get("account_id") == Some(account) && t.get("region") == Some(region)
        }
    };
    let used = status_of(&report, at(ACCOUNT, US));
    assert_eq!(used.len(), 1, "{report:?}");
    assert_eq!(used[0].0, Status::Skipped);
    assert!(
        used[0].1.is_some_and(|r| r.starts_with("in use by arn:aws:ecs:us-east-1:222222222222:service/")),
        "{used:?}"
    );
    assert_eq!(status_of(&report, at(ACCOUNT, EU)), vec![(Status::Done, None)]);
    assert_eq!(status_of(&report, at(OTHER, US)), vec![(Status::Done, None)]);

    let world = env.sandbox.world_snapshot();
    let has = |account: &str, region: &str| {
        world
            .region(account, region)
            .is_some_and(|r| r.repositories.iter().any(|repo| !repo.images.is_empty()))
    };
    assert!(has(ACCOUNT, US), "the copy in use stays");
    assert!(!has(ACCOUNT, EU) && !has(OTHER, US), "the unused replicas are gone");
}

#[tokio::test]
async fn a_row_that_could_mean_several_replicas_is_never_guessed() {
    let env = guard_env(replicated_world(), SandboxConfig::default()).await;
    let report = env.run("unlocated.sql", EVERY_IMAGE_UNLOCATED, true).await;
    assert_eq!(report.actions.len(), 1, "{report:?}");
    assert_eq!(report.actions[0].status, Status::Skipped);
    assert_eq!(
        report.actions[0].reason.as_deref(),
        Some("ambiguous: in 3 places; select account_id and region")
    );
    assert_eq!(env.calls("ecr:BatchDeleteImage"), 0);
    assert_eq!(env.sandbox.world_snapshot().image_count(), 3);
}

/// Revisions 1-7 of `web` in 111/us-east-1: 1 run by a service, 2 by a
/// running task, 3 by a stopped task only, 4 by the old deployment of a
/// service mid-rollout to 5, 6 by nothing, 7 by the task set of a blue/green
/// (CODE_DEPLOY) service scaled to zero, which has no deployments.
fn task_definition_world() -> World {
    let image = format!("{}:v", ecr_uri(ACCOUNT, US, "web"));
    let arn = |rev: i32| task_definition_arn(US, ACCOUNT, "web", rev);
    let mut r = region(US);
    r.task_definitions = (1..=7).map(|rev| task_definition("web", rev, "ACTIVE", &image)).collect();
    let mut blue_green = service("blue-green", &arn(7))
        .with_deployment_controller("CODE_DEPLOY")
        .with_task_set(TaskSet::new("ecs-svc/blue", &arn(7), "PRIMARY"));
    blue_green.deployments.clear();
    blue_green.desired_count = 0;
    let mut rolling = service("rolling", &arn(5));
    let mut old = rolling.deployments[0].clone();
    old.status = "ACTIVE".into();
    old.task_definition = arn(4);
    rolling.deployments.push(old);
    r.clusters.push(cluster(
        "main",
        vec![service("steady", &arn(1)), rolling, blue_green],
        vec![task("t-running", &arn(2), "RUNNING"), task("t-stopped", &arn(3), "STOPPED")],
    ));
    world(vec![account(ACCOUNT, vec![r])])
}

const EVERY_REVISION: &str = "-- @name: every-revision\n-- @action: delete_ecs_task_definitions\n\
    SELECT task_definition_arn FROM aws_ecs_task_definition";

const EVERY_REVISION_BY_NAME: &str = "-- @name: every-revision-by-name\n-- @action: deregister_ecs_task_definitions\n\
    SELECT account_id, region, family || ':' || CAST(revision AS VARCHAR) AS task_definition_arn \
    FROM aws_ecs_task_definition";

fn revisions_left(world: &World, status: &str) -> Vec<i32> {
    let mut v: Vec<i32> = world
        .region(ACCOUNT, US)
        .map(|r| r.task_definitions.iter().filter(|t| t.status == status).map(|t| t.revision).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn task_definitions_in_use_are_kept_whatever_the_sql_selects() {
    let env = guard_env(task_definition_world(), SandboxConfig::default()).await;
    let report = env.run("every-revision.sql", EVERY_REVISION, true).await;
    let of = |rev: i32| {
        let suffix = format!("/web:{rev}");
        status_of(&report, move |t| t.get("task_definition_arn").is_some_and(|a| a.ends_with(&suffix)))
    };
    for rev in [1, 2, 4, 5, 7] {
        let got = of(rev);
        assert_eq!(got.len(), 1, "web:{rev}: {report:?}");
        assert_eq!(got[0].0, Status::Skipped, "web:{rev}");
        assert!(got[0].1.is_some_and(|r| r.starts_with("in use by arn:aws:ecs:")), "web:{rev}: {got:?}");
    }
    assert_eq!(of(3)[0].0, Status::Done, "a stopped task uses nothing");
    assert_eq!(of(6)[0].0, Status::Done);
    assert_eq!(revisions_left(&env.sandbox.world_snapshot(), "ACTIVE"), vec![1, 2, 4, 5, 7]);
}

#[tokio::test]
async fn short_names_resolve_to_the_same_revisions() {
    let env = guard_env(task_definition_world(), SandboxConfig::default()).await;
    let report = env.run("by-name.sql", EVERY_REVISION_BY_NAME, true).await;
    let skipped: Vec<&str> = report
        .actions
        .iter()
        .filter(|a| a.status == Status::Skipped)
        .filter_map(|a| a.target.get("task_definition_arn"))
        .collect();
    assert_eq!(skipped.len(), 5, "{report:?}");
    assert_eq!(env.calls("ecs:DeregisterTaskDefinition"), 2);
    assert_eq!(revisions_left(&env.sandbox.world_snapshot(), "INACTIVE"), vec![3, 6]);
    assert_eq!(report.status, RunStatus::Ok);
}

#[tokio::test]
async fn a_failed_task_definition_describe_fails_the_run_and_deletes_nothing() {
    let fault =
        Fault::nth_call("ecs:DescribeTaskDefinition", 1).times(u64::MAX).error(400, "ClientException");
    let config = SandboxConfig { faults: vec![fault], ..SandboxConfig::default() };
    let env = guard_env(replicated_world(), config).await;
    // The policy selects every image without reading the in-use view, so only the check can fail.
    let report = env.run("every.sql", EVERY_IMAGE, true).await;
    assert_eq!(report.status, RunStatus::Failed, "{report:?}");
    assert!(
        report.error.as_deref().is_some_and(|e| e.contains("DescribeTaskDefinition")),
        "{:?}",
        report.error
    );
    assert_eq!(env.calls("ecr:BatchDeleteImage"), 0);
    assert_eq!(env.sandbox.world_snapshot().image_count(), 3);
    let messages = env.sandbox.slack_messages();
    assert_eq!(messages.len(), 1, "Slack is told once");
    assert!(messages[0].to_string().contains("DescribeTaskDefinition"), "{}", messages[0]);
}

#[tokio::test]
async fn the_in_use_views_read_each_service_and_task_listing_once() {
    let env = Env::start(replicated_world()).await;
    env.query("SELECT * FROM aws_ecs_image_in_use").await;
    // One cluster with one service, in one of three connections.
    assert_eq!(env.calls("ecs:ListServices"), 1, "deployments and task sets come from one scan");
    assert_eq!(env.calls("ecs:DescribeServices"), 1);
    // RUNNING and STOPPED are listed apart, once each: the task branch of
    // aws_ecs_task_definition_in_use is not read a second time.
    assert_eq!(env.calls("ecs:ListTasks"), 2);
    env.sandbox.reset_calls();
    env.query("SELECT * FROM aws_ecs_task_definition_in_use").await;
    assert_eq!(env.calls("ecs:ListServices"), 1);
    assert_eq!(env.calls("ecs:ListTasks"), 2);
}

#[tokio::test]
async fn a_describe_services_failure_fails_the_run_and_deletes_nothing() {
    let failure = DescribeFailure::new("ecs:DescribeServices", "service/main/puller", "AccessDenied");
    let config = SandboxConfig { describe_failures: vec![failure], ..SandboxConfig::default() };
    let env = guard_env(replicated_world(), config).await;
    let report = env.run("every.sql", EVERY_IMAGE, true).await;
    assert_eq!(report.status, RunStatus::Failed, "{report:?}");
    assert!(report.error.as_deref().is_some_and(|e| e.contains("DescribeServices")), "{:?}", report.error);
    assert_eq!(env.calls("ecr:BatchDeleteImage"), 0);
    assert_eq!(env.sandbox.world_snapshot().image_count(), 3);
    let messages = env.sandbox.slack_messages();
    assert_eq!(messages.len(), 1, "Slack is told once");
    assert!(messages[0].to_string().contains("DescribeServices"), "{}", messages[0]);
}
