//! "In use, completely": what has no running task or pod yet starts one.
//! A task definition revision an EventBridge rule or a Scheduler schedule
//! launches, the images of a CronJob between runs and of a Deployment scaled
//! to 0, and the image of a published Lambda version no alias names are all
//! kept by policies that select everything, with `--apply`, so only the check
//! can save them; the task definition check says what it never reads
//! (Step Functions) and what was left out.

use std::sync::Arc;

use skyglue_core::config::InUseSources;
use skyglue_core::connection::KubeContext;
use skyglue_core::sink::Status;
use skyglue_policy::{Journal, Report, RunOptions, RunStatus, Runner};
use skyglue_sandbox::world::{
    EventRule, KubeCluster, KubeWorkload, LambdaFunction, Repository, Schedule, cluster_arn,
    task_definition_arn,
};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig, World};

use crate::policy_runner::write_policy;
use crate::support::*;

const US: &str = "us-east-1";

struct Run {
    sandbox: Sandbox,
    runner: Runner,
    dir: tempfile::TempDir,
}

/// A runner over `world` checking `sources` (default: the config default,
/// with the sandbox's cluster configured when `kubernetes`).
async fn start(world: World, config: SandboxConfig, sources: Option<InUseSources>, kubernetes: bool) -> Run {
    let sandbox = Sandbox::start(world.clone(), config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut connections = skyglue::sandbox::connections(&sandbox, &world).await.unwrap();
    if kubernetes {
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, sandbox.kubeconfig()).unwrap();
        connections.kubernetes = vec![Arc::new(KubeContext::new(Some(kubeconfig), None))];
    }
    connections.in_use =
        sources.unwrap_or_else(|| InUseSources::from_config(&Default::default(), kubernetes));
    let engine = skyglue_core::Engine::new(connections, skyglue::sandbox::registry());
    let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
    let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), None);
    Run { sandbox, runner, dir }
}

impl Run {
    async fn run(&self, name: &str, policy: &str) -> Report {
        let path = write_policy(self.dir.path(), name, policy);
        let options = RunOptions { apply: true, params: vec![], notify: Some(false) };
        let prepared = self.runner.prepare(&path, &options).await.unwrap();
        self.runner.run(prepared).await.report
    }

    fn active(&self, family: &str) -> Vec<i32> {
        let world = self.sandbox.world_snapshot();
        let region = world.region(ACCOUNT, US).unwrap();
        let mut v: Vec<i32> = region
            .task_definitions
            .iter()
            .filter(|t| t.family == family && t.status == "ACTIVE")
            .map(|t| t.revision)
            .collect();
        v.sort();
        v
    }

    fn images_left(&self) -> Vec<String> {
        let world = self.sandbox.world_snapshot();
        world.region(ACCOUNT, US).unwrap().repositories[0].images.iter().map(|i| i.digest.clone()).collect()
    }
}

const EVERY_REVISION: &str = "-- @name: every-revision\n-- @action: delete_ecs_task_definitions\n\
    -- @max_deletes: 100\nSELECT task_definition_arn FROM aws_ecs_task_definition";

const EVERY_IMAGE: &str = "-- @name: everything\n-- @action: delete_ecr_images\n-- @max_deletes: 100\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image\n";

fn web(n: usize) -> String {
    format!("{ACCOUNT}.dkr.ecr.{US}.amazonaws.com/web@{}", digest(n))
}

fn arn(family: &str, revision: i32) -> String {
    task_definition_arn(US, ACCOUNT, family, revision)
}

/// `nightly:1..=8` and `report:1..=2`, all ACTIVE, each revision with its own
/// image (`web` digest 10 * revision, 100 + revision for report); a rule
/// pins nightly:2 by ARN, a schedule nightly:3 by `family:revision`, and a
/// disabled rule names the family `report` alone (its latest, report:2).
fn scheduled_world() -> World {
    let mut r = region(US);
    for rev in 1..=8 {
        r.task_definitions.push(task_definition("nightly", rev, "ACTIVE", &web(10 * rev as usize)));
    }
    for rev in 1..=2 {
        r.task_definitions.push(task_definition("report", rev, "ACTIVE", &web(100 + rev as usize)));
    }
    let jobs = cluster_arn(US, ACCOUNT, "jobs");
    r = r
        .with_event_rule(EventRule::ecs("nightly-rule", "cron(0 3 * * ? *)", &jobs, &arn("nightly", 2)))
        .with_event_rule(EventRule::ecs("report-rule", "rate(1 day)", &jobs, "report").with_state("DISABLED"))
        .with_schedule(
            Schedule::ecs("nightly-at-4", "cron(0 4 * * ? *)", &jobs, "nightly:3").in_group("batch"),
        );
    let images = [20, 30, 40, 102].iter().map(|n| image(*n, &[])).collect();
    r.repositories.push(Repository { images, ..repository("web", 0) });
    world(vec![account(ACCOUNT, vec![r])])
}

fn outcome<'a>(report: &'a Report, column: &str, value: &str) -> (Status, &'a str) {
    let a = report.actions.iter().find(|a| a.target.get(column) == Some(value)).unwrap();
    (a.status, a.reason.as_deref().unwrap_or_default())
}

#[tokio::test]
async fn revisions_that_rules_and_schedules_launch_are_kept_whatever_the_sql_selects() {
    let env = start(scheduled_world(), SandboxConfig::default(), None, false).await;
    let report = env.run("every-revision.sql", EVERY_REVISION).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let (status, reason) = outcome(&report, "task_definition_arn", &arn("nightly", 2));
    let rule = format!("arn:aws:events:{US}:{ACCOUNT}:rule/nightly-rule");
    assert_eq!((status, reason), (Status::Skipped, format!("in use by {rule}").as_str()));
    let (status, reason) = outcome(&report, "task_definition_arn", &arn("nightly", 3));
    let schedule = format!("arn:aws:scheduler:{US}:{ACCOUNT}:schedule/batch/nightly-at-4");
    assert_eq!((status, reason), (Status::Skipped, format!("in use by {schedule}").as_str()));
    // A family alone pins its latest ACTIVE revision, even on a disabled rule.
    let (status, reason) = outcome(&report, "task_definition_arn", &arn("report", 2));
    assert_eq!(status, Status::Skipped, "{reason}");
    assert_eq!(outcome(&report, "task_definition_arn", &arn("report", 1)).0, Status::Done);
    assert_eq!(env.active("nightly"), vec![2, 3]);
    assert_eq!(env.active("report"), vec![2]);
    assert_eq!(report.not_checked, vec!["step_functions".to_string()]);
    assert!(report.to_text().contains("not checked: step_functions (skyglue reads no Step Functions"));
}

#[tokio::test]
async fn the_shipped_task_definition_policy_keeps_what_schedules_launch() {
    let env = start(scheduled_world(), SandboxConfig::default(), None, false).await;
    let policy = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../queries/ecs_task_definition_cleanup.sql"
    ))
    .unwrap();
    let report = env.run("ecs_task_definition_cleanup.sql", &policy).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    // nightly:1..3 are past the newest 5; 2 and 3 are scheduled.
    assert_eq!(env.active("nightly"), vec![2, 3, 4, 5, 6, 7, 8]);
}

#[tokio::test]
async fn left_out_schedules_protect_nothing_and_the_report_says_so() {
    let sources = InUseSources::new(["ecs", "lambda", "batch"]);
    let env = start(scheduled_world(), SandboxConfig::default(), Some(sources), false).await;
    let report = env.run("every-revision.sql", EVERY_REVISION).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    assert_eq!(outcome(&report, "task_definition_arn", &arn("nightly", 2)).0, Status::Done);
    assert_eq!(report.not_checked, vec!["ecs_schedules".to_string(), "step_functions".to_string()]);
    assert_eq!(env.sandbox.calls().get("events:ListRules"), None, "nobody asked EventBridge");
}

#[tokio::test]
async fn an_image_only_a_scheduled_revision_runs_is_kept() {
    let env = start(scheduled_world(), SandboxConfig::default(), None, false).await;
    let report = env.run("everything.sql", EVERY_IMAGE).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let (status, reason) = outcome(&report, "image_digest", &digest(20));
    assert_eq!(status, Status::Skipped);
    assert!(reason.ends_with(":rule/nightly-rule (ecs_schedule)"), "{reason}");
    assert_eq!(outcome(&report, "image_digest", &digest(30)).0, Status::Skipped);
    assert_eq!(outcome(&report, "image_digest", &digest(102)).0, Status::Skipped, "report's latest");
    assert_eq!(outcome(&report, "image_digest", &digest(40)).0, Status::Done);
    assert_eq!(env.images_left().len(), 3);
}

#[tokio::test]
async fn a_denied_schedule_read_fails_the_run_and_says_how_to_leave_it_out() {
    let denied =
        Fault::nth_call("scheduler:ListSchedules", 1).times(u64::MAX).error(403, "AccessDeniedException");
    let config = SandboxConfig { faults: vec![denied], ..SandboxConfig::default() };
    let env = start(scheduled_world(), config, None, false).await;
    let report = env.run("every-revision.sql", EVERY_REVISION).await;
    assert_eq!(report.status, RunStatus::Failed);
    let error = report.error.clone().unwrap_or_default();
    assert!(error.contains("scheduler:ListSchedules") && error.contains("AccessDenied"), "{error}");
    assert!(error.contains("leave \"ecs_schedules\" out of [in_use] sources"), "{error}");
    assert_eq!(env.active("nightly").len(), 8, "nothing was deleted");
}

/// Images 201 (a CronJob's init container), 202 (a Deployment at 0
/// replicas), 203 (a suspended-looking Job), 204 (nobody): no pod runs any.
fn workload_world() -> World {
    let mut r = region(US);
    r.repositories
        .push(Repository { images: (201..=204).map(|n| image(n, &[])).collect(), ..repository("web", 0) });
    let cluster = KubeCluster::new("prod")
        .with_workload(
            KubeWorkload::new("CronJob", "jobs", "report")
                .with_init_container("migrate", &web(201))
                .with_container("report", "busybox:1.36"),
        )
        .with_workload(
            KubeWorkload::new("Deployment", "shop", "web").with_replicas(0).with_container("web", &web(202)),
        )
        .with_workload(
            KubeWorkload::new("Job", "jobs", "backfill").with_replicas(0).with_container("b", &web(203)),
        );
    world(vec![account(ACCOUNT, vec![r])]).with_kubernetes(cluster)
}

#[tokio::test]
async fn images_of_a_cron_job_and_a_deployment_at_zero_are_kept() {
    let env = start(workload_world(), SandboxConfig::default(), None, true).await;
    let report = env.run("everything.sql", EVERY_IMAGE).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let (status, reason) = outcome(&report, "image_digest", &digest(201));
    assert_eq!(
        (status, reason),
        (Status::Skipped, "in use by prod/jobs/CronJob/report (kubernetes_workload)")
    );
    let (status, reason) = outcome(&report, "image_digest", &digest(202));
    assert_eq!(
        (status, reason),
        (Status::Skipped, "in use by prod/shop/Deployment/web (kubernetes_workload)")
    );
    assert_eq!(outcome(&report, "image_digest", &digest(203)).0, Status::Skipped);
    assert_eq!(outcome(&report, "image_digest", &digest(204)).0, Status::Done);
    assert_eq!(env.images_left().len(), 3);
    // Each kind is listed once, cluster-wide.
    let calls = env.sandbox.calls();
    for op in [
        "ListDeployments",
        "ListStatefulSets",
        "ListDaemonSets",
        "ListReplicaSets",
        "ListJobs",
        "ListCronJobs",
    ] {
        assert!(calls.get(&format!("kubernetes:{op}")).is_some_and(|n| *n >= 1), "{op}: {calls:?}");
    }
}

#[tokio::test]
async fn a_failing_workload_list_fails_the_run() {
    let fault = Fault::nth_call("kubernetes:ListCronJobs", 1).times(u64::MAX).error(403, "Forbidden");
    let config = SandboxConfig { faults: vec![fault], ..SandboxConfig::default() };
    let env = start(workload_world(), config, None, true).await;
    let report = env.run("everything.sql", EVERY_IMAGE).await;
    assert_eq!(report.status, RunStatus::Failed);
    assert!(
        report.error.as_deref().is_some_and(|e| e.contains("kubernetes:ListCronJobs")),
        "{:?}",
        report.error
    );
    assert_eq!(env.images_left().len(), 4, "nothing was deleted");
}

#[tokio::test]
async fn the_image_of_a_published_version_no_alias_names_is_kept() {
    let mut r = region(US);
    r.repositories
        .push(Repository { images: (301..=303).map(|n| image(n, &[])).collect(), ..repository("web", 0) });
    // $LATEST runs 301; version 1 (alias live) 302; version 2 (no alias) 303.
    let function = LambdaFunction::image("api", &web(301), &web(301))
        .with_version(&web(302), &web(302))
        .with_version(&web(303), &web(303))
        .with_alias("live", "1");
    let world = world(vec![account(ACCOUNT, vec![r.with_lambda(function)])]);
    let env = start(world, SandboxConfig::default(), None, false).await;
    let report = env.run("everything.sql", EVERY_IMAGE).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let (status, reason) = outcome(&report, "image_digest", &digest(303));
    assert_eq!(status, Status::Skipped);
    assert!(reason.ends_with(":function:api:2 (lambda)"), "{reason}");
    // An aliased version is still named by its alias.
    assert!(outcome(&report, "image_digest", &digest(302)).1.ends_with(":function:api:live (lambda)"));
    assert_eq!(env.images_left().len(), 3);
}
