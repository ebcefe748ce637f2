//! Bounded staleness (`[in_use] max_age_seconds`): an applying run re-checks
//! a group of targets right before its deletes when the check it would rely
//! on is older than the maximum age, and every report says how old the
//! check was that each call relied on. A select-everything policy, so only
//! a check can save an image; the world changes after the first check (a
//! task starts on an image) through the runner's stage observer.

use std::sync::Arc;
use std::time::Duration;

use skyglue_core::config::InUseSources;
use skyglue_core::sink::Status;
use skyglue_policy::history::History;
use skyglue_policy::{Journal, Report, RunOptions, RunStatus, Runner, Stage, StageObserver};
use skyglue_sandbox::world::{Container, Repository, Task, task_definition_arn};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig, World};

use crate::policy_runner::write_policy;
use crate::support::*;

const US: &str = "us-east-1";

const DELETE_EVERY_IMAGE: &str = "-- @name: delete-every-image\n-- @action: delete_ecr_images\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image";

/// `web` holds images 1-3 and `api` image 4; a service runs `web:t1`.
fn two_repositories() -> World {
    let web = format!("{ACCOUNT}.dkr.ecr.{US}.amazonaws.com/web:t1");
    let mut us = region(US);
    us.repositories.push(Repository {
        images: (1..=3).map(|n| image(n, &[&format!("t{n}")])).collect(),
        ..repository("web", 0)
    });
    us.repositories.push(Repository { images: vec![image(4, &["t4"])], ..repository("api", 0) });
    us.task_definitions.push(task_definition("web", 1, "ACTIVE", &web));
    us.clusters.push(cluster(
        "main",
        vec![service("web", &task_definition_arn(US, ACCOUNT, "web", 1))],
        vec![],
    ));
    world(vec![account(ACCOUNT, vec![us])])
}

/// Once the first check has passed image 2, a job starts on it (by its tag).
fn job_starts_on_image_2(sandbox: &Arc<Sandbox>) -> StageObserver {
    let sandbox = sandbox.clone();
    Arc::new(move |stage| {
        if stage == Stage::Act {
            sandbox.update_world(|w| {
                let us = w.region_mut(ACCOUNT, US).unwrap();
                let uri = format!("{ACCOUNT}.dkr.ecr.{US}.amazonaws.com/web:t2");
                us.task_definitions.push(task_definition("job", 1, "ACTIVE", &uri));
                let job = task_definition_arn(US, ACCOUNT, "job", 1);
                let running = Container {
                    name: "app".into(),
                    image: uri.clone(),
                    image_digest: Some(digest(2)),
                    last_status: "RUNNING".into(),
                };
                us.clusters[0]
                    .tasks
                    .push(Task { containers: vec![running], ..task("job-1", &job, "RUNNING") });
            });
        }
    })
}

struct Run {
    sandbox: Arc<Sandbox>,
    report: Report,
    journal: Arc<Journal>,
    _dir: tempfile::TempDir,
}

/// Applies the select-everything image policy with `[in_use]
/// max_age_seconds = max_age` (None: the default) while a job starts on
/// image 2 mid-run.
async fn run(max_age: Option<Duration>, config: SandboxConfig) -> Run {
    run_policy(two_repositories(), DELETE_EVERY_IMAGE, max_age, config, job_starts_on_image_2).await
}

/// Applies `policy` on `world`, with the observer `changes` makes.
async fn run_policy(
    world: World,
    policy: &str,
    max_age: Option<Duration>,
    config: SandboxConfig,
    changes: fn(&Arc<Sandbox>) -> StageObserver,
) -> Run {
    let sandbox = Arc::new(Sandbox::start(world.clone(), config).await.unwrap());
    let mut connections = skyglue::sandbox::connections(&sandbox, &world).await.unwrap();
    if let Some(max_age) = max_age {
        connections.in_use = InUseSources::default().with_max_age(max_age);
    }
    assert_eq!(InUseSources::default().max_age(), Duration::from_secs(60), "the default");
    let engine = skyglue_core::Engine::new(connections, skyglue::sandbox::registry());
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
    let runner = Runner::new(engine, journal.clone(), skyglue_aws::sinks::all(), None)
        .with_stage_observer(changes(&sandbox));
    let path = write_policy(dir.path(), "policy.sql", policy);
    let options = RunOptions { apply: true, params: vec![], notify: Some(false) };
    let report = runner.run(runner.prepare(&path, &options).await.unwrap()).await.report;
    Run { sandbox, report, journal, _dir: dir }
}

fn action(report: &Report, n: usize) -> &skyglue_policy::report::ActionReport {
    report.actions.iter().find(|a| a.target.get("image_digest") == Some(&*digest(n))).unwrap()
}

fn calls(sandbox: &Sandbox, op: &str) -> u64 {
    sandbox.calls().get(op).copied().unwrap_or(0)
}

#[tokio::test]
async fn with_max_age_zero_an_image_that_became_used_after_the_check_survives_and_the_report_says_why() {
    let Run { sandbox, report, journal, _dir } = run(Some(Duration::ZERO), SandboxConfig::default()).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let kept = action(&report, 2);
    assert_eq!(kept.status, Status::Skipped);
    let reason = kept.reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with("re-checked right before acting: in use by"), "{reason}");
    assert!(reason.contains("job-1"), "names the task: {reason}");
    assert_eq!(action(&report, 1).status, Status::Skipped, "in use at the first check");
    for n in [3, 4] {
        assert_eq!(action(&report, n).status, Status::Done, "image {n}");
    }
    let left = sandbox.world_snapshot();
    let web = &left.region(ACCOUNT, US).unwrap().repositories[0];
    assert!(web.images.iter().any(|i| i.digest == digest(2)), "image 2 is still there");

    // Both repositories are in one wave: one re-check for the two, after the check.
    let per_check = calls(&sandbox, "ecs:ListClusters") / 2;
    assert!(per_check > 0);
    assert_eq!(calls(&sandbox, "ecs:ListClusters"), 2 * per_check);

    // Every report says how old the check was that each call relied on.
    for n in [3, 4] {
        let age = action(&report, n).check_age.expect("a deleted image has its check's age");
        assert!(age < Duration::from_secs(600), "{age:?}");
    }
    assert_eq!(action(&report, 1).check_age, None, "no call was made for a kept image");
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    let done = json["actions"].as_array().unwrap().iter().find(|a| a["status"] == "done").unwrap();
    assert!(done["check_age_seconds"].is_f64(), "{done}");
    let text = report.to_text();
    assert!(text.contains("/web: deleted 1 of 3, 2 skipped (check "), "{text}");
    assert!(text.contains("the oldest check a call relied on was "), "{text}");
    let entries = Journal::read_all(journal.path()).unwrap();
    let intents: Vec<_> = entries.iter().filter(|e| e.event == "intent").collect();
    assert!(!intents.is_empty());
    assert!(intents.iter().all(|e| skyglue_policy::staleness::check_age_of(e).is_some()), "{intents:?}");
    let skip = entries
        .iter()
        .find(|e| {
            e.event == "outcome" && e.target.as_ref().and_then(|t| t.get("image_digest")) == Some(&*digest(2))
        })
        .unwrap();
    assert_eq!(
        (skip.status.as_deref(), skip.operation.as_deref()),
        (Some("skipped"), Some(skyglue_policy::staleness::RECHECK))
    );
    let history = History::from_entries(&entries, &skyglue_aws::sinks::all());
    assert!(history.runs[0].oldest_check_seconds.is_some());
    assert!(history.to_html("now", "test").contains("<th>oldest check</th>"));
}

#[tokio::test]
async fn with_the_default_a_fresh_check_is_relied_on_without_reading_again() {
    let Run { sandbox, report, .. } = run(None, SandboxConfig::default()).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    // Nothing re-read what is in use: the job that started after the check
    // does not save image 2 (which is what the re-check is for).
    let zero = run(Some(Duration::ZERO), SandboxConfig::default()).await;
    assert_eq!(calls(&sandbox, "ecs:ListClusters") * 2, calls(&zero.sandbox, "ecs:ListClusters"));
    assert_eq!(calls(&sandbox, "ecs:ListTasks") * 2, calls(&zero.sandbox, "ecs:ListTasks"));
    assert_eq!(action(&report, 2).status, Status::Done);
    assert!(action(&report, 2).check_age.is_some());
}

#[tokio::test]
async fn a_re_check_that_cannot_read_keeps_everything_left_and_fails_the_run() {
    // The first check lists the clusters once; the re-check's listing fails.
    let fault = Fault::nth_call("ecs:ListClusters", 2).times(u64::MAX).error(400, "AccessDeniedException");
    let config = SandboxConfig { faults: vec![fault], ..SandboxConfig::default() };
    let Run { sandbox, report, .. } = run(Some(Duration::ZERO), config).await;
    assert_eq!(report.status, RunStatus::Failed);
    let error = report.error.as_deref().unwrap_or_default();
    assert!(error.contains("re-check") && error.contains("AccessDenied"), "{error}");
    for n in [2, 3, 4] {
        let a = action(&report, n);
        assert_eq!(a.status, Status::Skipped, "image {n}");
        assert!(a.reason.as_deref().is_some_and(|r| r.contains("re-check")), "{a:?}");
    }
    assert_eq!(calls(&sandbox, "ecr:BatchDeleteImage"), 0, "nothing deleted");
}

/// Family `web` with revisions 1-3; a service runs `web:1`.
fn three_revisions() -> World {
    let mut us = region(US);
    for revision in 1..=3 {
        us.task_definitions.push(task_definition("web", revision, "ACTIVE", &format!("nginx:{revision}")));
    }
    us.clusters.push(cluster(
        "main",
        vec![service("web", &task_definition_arn(US, ACCOUNT, "web", 1))],
        vec![],
    ));
    world(vec![account(ACCOUNT, vec![us])])
}

/// Once the first check has passed `web:2`, a task starts on it.
fn task_starts_on_revision_2(sandbox: &Arc<Sandbox>) -> StageObserver {
    let sandbox = sandbox.clone();
    Arc::new(move |stage| {
        if stage == Stage::Act {
            sandbox.update_world(|w| {
                let us = w.region_mut(ACCOUNT, US).unwrap();
                let revision_2 = task_definition_arn(US, ACCOUNT, "web", 2);
                us.clusters[0].tasks.push(task("run-2", &revision_2, "RUNNING"));
            });
        }
    })
}

#[tokio::test]
async fn the_same_mechanism_re_checks_a_task_definition_family() {
    let policy = "-- @name: every-revision\n-- @action: deregister_ecs_task_definitions\n\
        SELECT task_definition_arn FROM aws_ecs_task_definition";
    let world = three_revisions();
    let Run { sandbox, report, .. } =
        run_policy(world, policy, Some(Duration::ZERO), SandboxConfig::default(), task_starts_on_revision_2)
            .await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let of = |revision: i32| {
        let arn = task_definition_arn(US, ACCOUNT, "web", revision);
        report.actions.iter().find(|a| a.target.get("task_definition_arn") == Some(arn.as_str())).unwrap()
    };
    assert_eq!(of(2).status, Status::Skipped);
    let reason = of(2).reason.as_deref().unwrap_or_default();
    assert!(reason.starts_with("re-checked right before acting: in use by"), "{reason}");
    assert_eq!(of(3).status, Status::Done);
    assert!(of(3).check_age.is_some());
    assert_eq!(calls(&sandbox, "ecs:DeregisterTaskDefinition"), 1, "only web:3");
}
