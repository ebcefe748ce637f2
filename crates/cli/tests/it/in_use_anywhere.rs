//! "In use" beyond ECS: an image used only by a Lambda alias, only by a Batch
//! job definition, only by a Kubernetes pod (by the digest its node
//! resolved), or only pulled recently is not deleted. The check is proven
//! with a policy that selects every image, so only the check can save one;
//! the shipped policy is run on the same world; a source left out of
//! `[in_use]` is reported as not checked, and one that fails fails the run.

use std::sync::Arc;

use chrono::{Duration, Utc};
use skyglue_core::config::InUseSources;
use skyglue_core::connection::KubeContext;
use skyglue_core::sink::Status;
use skyglue_policy::{Journal, Report, RunOptions, RunStatus, Runner};
use skyglue_sandbox::world::{
    AppRunnerService, BatchJobDefinition, GithubRepo, KubeCluster, KubePod, LambdaFunction, Repository,
    lambda_function_arn,
};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig, World};

use crate::policy_runner::write_policy;
use crate::support::*;

const US: &str = "us-east-1";

/// Digests, by who uses them.
const LAMBDA_LATEST: usize = 116;
const LAMBDA_ALIAS: usize = 111;
const BATCH: usize = 112;
const POD: usize = 113;
const PULLED: usize = 114;
const UNUSED: usize = 115;

fn web() -> String {
    format!("{ACCOUNT}.dkr.ecr.{US}.amazonaws.com/web")
}

/// The tag the shipped policy maps a repository to its GitHub repository by.
fn built_from(github: &str) -> std::collections::BTreeMap<String, String> {
    [("github_repository".to_string(), github.to_string())].into()
}

fn by_digest(n: usize) -> String {
    format!("{}@{}", web(), digest(n))
}

/// Six untagged images, all 111+ days old, in 111111111111/us-east-1 `web`.
fn anywhere_world() -> World {
    let mut images: Vec<_> =
        [LAMBDA_ALIAS, BATCH, POD, PULLED, UNUSED, LAMBDA_LATEST].iter().map(|n| image(*n, &[])).collect();
    images.iter_mut().filter(|i| i.digest == digest(PULLED)).for_each(|i| {
        i.last_recorded_pull_time = Some(Utc::now() - Duration::days(2));
    });
    let function = LambdaFunction::image("api", &by_digest(LAMBDA_LATEST), &by_digest(LAMBDA_LATEST))
        // version 1 runs the alias's image by tag; Lambda resolved the digest
        .with_version(&format!("{}:release", web()), &by_digest(LAMBDA_ALIAS))
        .with_alias("live", "1");
    let mut us = region(US).with_lambda(function).with_batch_job_definition(BatchJobDefinition::container(
        "nightly",
        3,
        &by_digest(BATCH),
    ));
    us.repositories.push(Repository { images, tags: built_from("acme/web"), ..repository("web", 0) });
    let pod = KubePod::running("shop", "web-1", "node-a").with_container(
        "web",
        &format!("{}:latest", web()),
        Some(&format!("docker-pullable://{}", by_digest(POD))),
    );
    let mut world =
        world(vec![account(ACCOUNT, vec![us])]).with_kubernetes(KubeCluster::new("prod").with_pod(pod));
    world.github.push(GithubRepo {
        full_name: "acme/web".into(),
        default_branch: "main".into(),
        commits: vec![],
    });
    world
}

struct AnywhereEnv {
    sandbox: Sandbox,
    runner: Runner,
    dir: tempfile::TempDir,
}

/// A runner over `world`; with `kubernetes`, the sandbox's cluster is
/// configured (`[[kubernetes]]`) and so checked by default.
async fn env(world: World, config: SandboxConfig, kubernetes: bool) -> AnywhereEnv {
    let sandbox = Sandbox::start(world.clone(), config).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut connections = skyglue::sandbox::connections(&sandbox, &world).await.unwrap();
    if kubernetes {
        let kubeconfig = dir.path().join("kubeconfig");
        std::fs::write(&kubeconfig, sandbox.kubeconfig()).unwrap();
        connections.kubernetes = vec![Arc::new(KubeContext::new(Some(kubeconfig), None))];
        connections.in_use = InUseSources::from_config(&Default::default(), true);
    }
    let engine = skyglue_core::Engine::new(connections, skyglue::sandbox::registry());
    let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
    let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), None);
    AnywhereEnv { sandbox, runner, dir }
}

impl AnywhereEnv {
    async fn run(&self, name: &str, policy: &str, apply: bool) -> Report {
        let path = write_policy(self.dir.path(), name, policy);
        let options = RunOptions { apply, params: vec![], notify: Some(false) };
        let prepared = self.runner.prepare(&path, &options).await.unwrap();
        self.runner.run(prepared).await.report
    }

    fn remaining(&self) -> Vec<String> {
        let world = self.sandbox.world_snapshot();
        let region = world.region(ACCOUNT, US).unwrap();
        region.repositories[0].images.iter().map(|i| i.digest.clone()).collect()
    }
}

const EVERYTHING: &str = "-- @name: everything\n-- @action: delete_ecr_images\n-- @max_deletes: 100\n\
    SELECT account_id, region, registry_id, repository_name, image_digest FROM aws_ecr_image\n";

fn outcome(report: &Report, n: usize) -> (Status, String) {
    let a = report.actions.iter().find(|a| a.target.get("image_digest") == Some(digest(n).as_str())).unwrap();
    (a.status, a.reason.clone().unwrap_or_default())
}

#[tokio::test]
async fn only_the_check_saves_what_lambda_batch_and_a_pod_use_and_it_names_the_user() {
    let env = env(anywhere_world(), SandboxConfig::default(), true).await;
    let report = env.run("everything.sql", EVERYTHING, true).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);

    let (status, reason) = outcome(&report, LAMBDA_ALIAS);
    let alias_arn = format!("{}:live", lambda_function_arn(US, ACCOUNT, "api", None));
    assert_eq!(status, Status::Skipped);
    assert_eq!(reason, format!("in use by {alias_arn} (lambda)"));
    let (status, reason) = outcome(&report, LAMBDA_LATEST);
    assert_eq!((status, reason.ends_with("function:api (lambda)")), (Status::Skipped, true), "{reason}");
    let (status, reason) = outcome(&report, BATCH);
    assert_eq!(status, Status::Skipped);
    assert!(reason.contains(":job-definition/nightly:3 (batch)"), "{reason}");
    let (status, reason) = outcome(&report, POD);
    assert_eq!((status, reason.as_str()), (Status::Skipped, "in use by prod/shop/web-1 (kubernetes)"));
    // Pulled recently is the policy's rule, not the check's: only the two
    // nobody runs go here.
    assert_eq!(outcome(&report, UNUSED).0, Status::Done);
    assert_eq!(outcome(&report, PULLED).0, Status::Done);
    assert_eq!(report.not_checked, vec!["apprunner".to_string()]);
    let left = env.remaining();
    for n in [LAMBDA_ALIAS, LAMBDA_LATEST, BATCH, POD] {
        assert!(left.contains(&digest(n)), "{n} was deleted");
    }
    assert_eq!(left.len(), 4);
}

#[tokio::test]
async fn the_shipped_policy_deletes_only_the_image_nobody_uses_or_pulled() {
    let env = env(anywhere_world(), SandboxConfig::default(), true).await;
    let policy =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries/ecr_cleanup.sql"))
            .unwrap();
    let report = env.run("ecr_cleanup.sql", &policy, true).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let acted: Vec<_> = report
        .actions
        .iter()
        .map(|a| (a.target.get("image_digest").unwrap().to_string(), a.status))
        .collect();
    assert_eq!(acted, vec![(digest(UNUSED), Status::Done)], "{acted:?}");
    assert_eq!(env.remaining().len(), 5);
}

#[tokio::test]
async fn without_kubernetes_configured_the_pod_is_not_checked_and_every_report_says_so() {
    let env = env(anywhere_world(), SandboxConfig::default(), false).await;
    let report = env.run("everything.sql", EVERYTHING, false).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    assert_eq!(report.not_checked, vec!["apprunner".to_string(), "kubernetes".to_string()]);
    // Nothing asked Kubernetes, so its pod's image is not protected...
    assert_eq!(outcome(&report, POD).0, Status::Planned);
    assert_eq!(env.sandbox.calls().get("kubernetes:ListPods"), None);
    // ...and the JSON, the text and the Slack message all say so.
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["not_checked"], serde_json::json!(["apprunner", "kubernetes"]));
    assert!(report.to_text().contains("not checked: apprunner, kubernetes"), "{}", report.to_text());
    let slack = skyglue_policy::slack::message(&report).to_string();
    assert!(slack.contains("not checked: apprunner, kubernetes"), "{slack}");
}

#[tokio::test]
async fn a_checked_source_that_fails_fails_the_run_and_nothing_is_deleted() {
    let config = SandboxConfig {
        faults: vec![
            Fault::nth_call("lambda:ListFunctions", 1).times(u64::MAX).error(403, "AccessDeniedException"),
        ],
        ..SandboxConfig::default()
    };
    let env = env(anywhere_world(), config, true).await;
    let report = env.run("everything.sql", EVERYTHING, true).await;
    assert_eq!(report.status, RunStatus::Failed);
    let error = report.error.clone().unwrap_or_default();
    assert!(error.contains("lambda:ListFunctions") && error.contains("AccessDenied"), "{error}");
    assert_eq!(env.remaining().len(), 6, "nothing was deleted");
    assert_eq!(env.sandbox.calls().get("ecr:BatchDeleteImage"), None);
}

#[tokio::test]
async fn image_in_use_lists_every_source_with_its_kind() {
    let env = env(anywhere_world(), SandboxConfig::default(), true).await;
    let ctx = env.runner.engine().session().await.unwrap();
    let batches = ctx
        .sql("SELECT source, kind, digest FROM image_in_use ORDER BY source, kind")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = pretty(&batches);
    for (source, kind, n) in [
        ("batch", "batch_job_definition", BATCH),
        ("kubernetes", "pod", POD),
        ("lambda", "lambda_alias", LAMBDA_ALIAS),
        ("lambda", "lambda_function", LAMBDA_LATEST),
    ] {
        let row = format!("| {source} ");
        assert!(
            text.lines().any(|l| l.starts_with(&row) && l.contains(kind) && l.contains(&digest(n))),
            "{text}"
        );
    }
    assert_eq!(rows(&batches), 4, "{text}");
}

#[tokio::test]
async fn an_app_runner_service_protects_its_image_once_listed_and_a_paused_one_too() {
    let mut world = anywhere_world();
    let us = &mut world.accounts[0].regions[0];
    us.apprunner_services
        .push(AppRunnerService::image("shop", &format!("{}:shop-v1", web())).with_status("PAUSED"));
    us.repositories[0].images.push(image(117, &["shop-v1"]));
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut connections = skyglue::sandbox::connections(&sandbox, &world).await.unwrap();
    connections.in_use = InUseSources::new(["ecs", "apprunner"]);
    let engine = skyglue_core::Engine::new(connections, skyglue::sandbox::registry());
    let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
    let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), None);
    let path = write_policy(dir.path(), "everything.sql", EVERYTHING);
    let options = RunOptions { apply: false, params: vec![], notify: Some(false) };
    let report = runner.run(runner.prepare(&path, &options).await.unwrap()).await.report;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let (status, reason) = outcome(&report, 117);
    assert_eq!(status, Status::Skipped);
    assert!(reason.contains(":service/shop/") && reason.ends_with(" (apprunner)"), "{reason}");
    // Lambda, Batch and Kubernetes were left out, so nothing asked them.
    assert_eq!(report.not_checked, vec!["ecs_schedules", "lambda", "batch", "kubernetes"]);
    assert_eq!(outcome(&report, LAMBDA_ALIAS).0, Status::Planned);
    assert_eq!(sandbox.calls().get("lambda:ListFunctions"), None);
}

#[tokio::test]
async fn pods_are_listed_500_per_call_per_context_and_namespace_and_limit_are_pushed() {
    let mut cluster = KubeCluster::new("prod");
    for i in 0..1_200 {
        let ns = if i % 3 == 0 { "shop" } else { "jobs" };
        cluster = cluster.with_pod(KubePod::running(ns, &format!("pod-{i:04}"), "node-a").with_container(
            "app",
            &format!("{}:v{i}", web()),
            None,
        ));
    }
    let world = world(vec![account(ACCOUNT, vec![region(US)])]).with_kubernetes(cluster);
    let env = env(world, SandboxConfig::default(), true).await;
    let ctx = env.runner.engine().session().await.unwrap();
    let calls = || env.sandbox.calls().get("kubernetes:ListPods").copied().unwrap_or(0);
    let count = |sql: &str| {
        let ctx = ctx.clone();
        let sql = sql.to_string();
        async move {
            let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
            pretty(&batches)
        }
    };

    let all = count("SELECT context, count(*) AS n FROM kubernetes_pod GROUP BY context").await;
    assert!(all.contains("| prod    | 1200 |"), "the current context's name fills `context`: {all}");
    assert_eq!(calls(), 3, "1,200 pods at 500 per list");

    env.sandbox.reset_calls();
    let shop = count("SELECT count(*) AS n FROM kubernetes_pod WHERE namespace = 'shop'").await;
    assert!(shop.contains("| 400 |"), "{shop}");
    assert_eq!(calls(), 1, "one namespace, listed alone");

    env.sandbox.reset_calls();
    let few = count("SELECT name FROM kubernetes_pod LIMIT 10").await;
    assert_eq!(few.lines().filter(|l| l.contains("pod-")).count(), 10);
    assert_eq!(calls(), 1, "LIMIT stops paging");
}

#[tokio::test]
async fn signatures_go_with_their_image_keep_it_when_kept_and_other_artifacts_stay() {
    const SIGNED: usize = 121;
    const SIGNED_PULLED: usize = 122;
    const SOCI: usize = 123;
    let signature = |n: usize, of: usize| {
        let subject = digest(of).replace("sha256:", "sha256-");
        image(n, &[&format!("{subject}.sig")])
    };
    let mut images = vec![image(SIGNED, &[]), signature(131, SIGNED), image(SIGNED_PULLED, &[])];
    let mut pulled_signature = signature(132, SIGNED_PULLED);
    // whoever verifies the signature pulled it yesterday: the image is still deployed
    pulled_signature.last_recorded_pull_time = Some(Utc::now() - Duration::days(1));
    images.push(pulled_signature);
    let mut soci = image(SOCI, &[]);
    soci.artifact_media_type = Some("application/vnd.amazon.soci.index.v1+json".into());
    images.push(soci);
    let mut us = region(US);
    us.repositories.push(Repository { images, tags: built_from("acme/web"), ..repository("web", 0) });
    let mut world = world(vec![account(ACCOUNT, vec![us])]);
    world.github.push(GithubRepo {
        full_name: "acme/web".into(),
        default_branch: "main".into(),
        commits: vec![],
    });
    let env = env(world, SandboxConfig::default(), false).await;
    let policy =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries/ecr_cleanup.sql"))
            .unwrap();

    let report = env.run("ecr_cleanup.sql", &policy, false).await;
    assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
    let mut planned: Vec<String> =
        report.actions.iter().map(|a| a.target.get("image_digest").unwrap().to_string()).collect();
    planned.sort();
    let mut expected = vec![digest(SIGNED), digest(131)];
    expected.sort();
    assert_eq!(planned, expected, "the unused image and its signature, nothing else");
}

#[tokio::test]
async fn the_shipped_policy_maps_a_repository_by_config_or_by_tag_and_leaves_unmapped_ones_alone() {
    let run = |world: World, map: Option<(&'static str, &'static str)>| async move {
        let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        let mut connections = skyglue::sandbox::connections(&sandbox, &world).await.unwrap();
        if let Some((ecr, github)) = map {
            connections.github.repositories = [(ecr.to_string(), github.to_string())].into();
        }
        let engine = skyglue_core::Engine::new(connections, skyglue::sandbox::registry());
        let journal = Arc::new(Journal::open(&dir.path().join("state")).unwrap());
        let runner = Runner::new(engine, journal, skyglue_aws::sinks::all(), None);
        let policy =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries/ecr_cleanup.sql"))
                .unwrap();
        let path = write_policy(dir.path(), "ecr_cleanup.sql", &policy);
        let options = RunOptions { apply: false, params: vec![], notify: Some(false) };
        let report = runner.run(runner.prepare(&path, &options).await.unwrap()).await.report;
        assert_eq!(report.status, RunStatus::Ok, "{:?}", report.error);
        report.actions.iter().map(|a| a.target.get("image_digest").unwrap().to_string()).collect::<Vec<_>>()
    };
    let untagged = || {
        let mut world = anywhere_world();
        world.accounts[0].regions[0].repositories[0].tags.clear();
        world
    };
    // Kubernetes is not configured here, so its pod's image is not protected
    // (and reported as not checked): it goes with the unused one.
    let mut expected = vec![digest(POD), digest(UNUSED)];
    expected.sort();
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(sorted(run(anywhere_world(), None).await), expected, "mapped by the repository's tag");
    let by_config = sorted(run(untagged(), Some(("web", "acme/web"))).await);
    assert_eq!(by_config, expected, "mapped by [github] repositories");
    assert!(run(untagged(), None).await.is_empty(), "a repository mapped by neither is not touched");
}
