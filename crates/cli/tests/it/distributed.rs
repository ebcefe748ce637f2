//! Many machines, in one process: an in-memory cluster of three workers
//! (datafusion-distributed's duplex channels, each worker with its own
//! engine and connections) gives the same rows as one process for every
//! shipped query, policy query and the in-use view; the scans run on the
//! workers, spread by connection, and the coordinator calls no AWS API.
//! Calls do not grow with workers: the in-use view's services and tasks run
//! in two stages, and still list each connection's clusters once.
//!
//! `distributed_loopback` does the same with `skyglue worker` processes.

use std::sync::Arc;

use chrono::{Duration, Utc};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::physical_plan::displayable;
use skyglue_core::Engine;
use skyglue_distributed::coordinator_hook;
use skyglue_distributed::in_memory::InMemoryCluster;
use skyglue_sandbox::world::S3Bucket;
use skyglue_sandbox::{GenerateSpec, Sandbox, SandboxConfig, World};

/// A generated world of `accounts` accounts x 2 regions, with S3 buckets in
/// some of them (one the shipped S3 policy cleans).
pub fn many_accounts(accounts: usize) -> World {
    let spec = GenerateSpec {
        accounts,
        repositories: accounts * 2,
        images: accounts * 20,
        task_definitions: accounts * 8,
        services: accounts * 2,
        tasks: accounts * 4,
        commits: 200,
        ..GenerateSpec::small()
    };
    let mut world = World::generate(&spec);
    let now = Utc::now();
    for (i, account) in world.accounts.iter().enumerate().step_by(7) {
        let name = if i == 0 { "acme-ci-artifacts".to_string() } else { format!("bucket-{i}") };
        let mut bucket = S3Bucket::new(&account.id, "us-east-1", &name);
        for b in 0..3 {
            for build in 0..14 {
                let key = format!("builds/b{b}/{build:03}/app.tar.gz");
                bucket = bucket.with_object(&key, 1_000 + build, now - Duration::days(build * 5));
            }
        }
        world.s3_buckets.push(bucket);
    }
    world
}

/// Every row of `batches` as text, sorted: equal for equal results in any order.
pub fn sorted_rows(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters: Vec<ArrayFormatter> =
            batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap()).collect();
        for r in 0..batch.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(r).to_string()).collect::<Vec<_>>().join(" | "));
        }
    }
    rows.sort();
    rows
}

/// The plain shipped queries (no policy header), and the in-use view.
pub fn shipped_queries() -> Vec<(String, String)> {
    let mut out = vec![("image_in_use".to_string(), "SELECT * FROM image_in_use".to_string())];
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if path.extension().is_some_and(|e| e == "sql") && !text.contains("-- @action:") {
            out.push((path.file_name().unwrap().to_string_lossy().into_owned(), text));
        }
    }
    assert!(out.len() >= 3, "the shipped plain queries are missing: {out:?}");
    out
}

/// The shipped policies (`-- @action:`), as (file name, text).
pub fn shipped_policies() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../queries")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // A policy that takes its query from another (`-- @query:`, e.g.
        // ecr_archive.sql) selects that one's rows, which are compared already.
        if text.contains("-- @action:") && !text.contains("-- @query:") {
            out.push((path.file_name().unwrap().to_string_lossy().into_owned(), text));
        }
    }
    assert!(out.len() >= 3, "the shipped policies are missing: {out:?}");
    out
}

/// The rows `policy` would act on, in a dry run with `engine`.
async fn policy_rows(engine: Engine, name: &str, text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let journal = Arc::new(skyglue_policy::Journal::open(dir.path()).unwrap());
    let runner = skyglue_policy::Runner::new(engine, journal, skyglue_aws::sinks::all(), None);
    let policy = skyglue_policy::PolicyFile::parse(text, name, name).unwrap();
    let prepared = runner.prepare_parsed(policy, name, &skyglue_policy::RunOptions::default()).await.unwrap();
    sorted_rows(&prepared.query.collect().await.unwrap())
}

async fn sandbox_engine(sandbox: &Sandbox, world: &World) -> Engine {
    skyglue::sandbox::engine(sandbox, world).await.unwrap()
}

fn aws_calls(engine: &Engine) -> u64 {
    engine.connections().counters.snapshot().calls
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_in_memory_cluster_gives_the_rows_of_one_process_and_spreads_the_scans() {
    let world = many_accounts(30);
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.unwrap();
    let local = sandbox_engine(&sandbox, &world).await;
    let workers = vec![
        sandbox_engine(&sandbox, &world).await,
        sandbox_engine(&sandbox, &world).await,
        sandbox_engine(&sandbox, &world).await,
    ];
    let cluster = InMemoryCluster::start(workers.clone()).unwrap();
    let coordinator = sandbox_engine(&sandbox, &world).await;
    let hook = coordinator_hook(&coordinator, cluster.workers(), cluster.channels());
    let coordinator = coordinator.with_session_hook(hook);

    // A scan over 60 connections is split across the three workers.
    let ctx = coordinator.session().await.unwrap();
    let df = ctx.sql("SELECT repository_name FROM aws_ecr_repository").await.unwrap();
    let plan = df.create_physical_plan().await.unwrap();
    let shown = displayable(plan.as_ref()).indent(true).to_string();
    assert!(shown.contains("DistributedExec"), "the plan is not distributed:\n{shown}");

    for (name, sql) in shipped_queries() {
        let expected =
            sorted_rows(&local.session().await.unwrap().sql(&sql).await.unwrap().collect().await.unwrap());
        let got = coordinator.session().await.unwrap().sql(&sql).await;
        let got = sorted_rows(
            &got.unwrap_or_else(|e| panic!("{name}: {e}"))
                .collect()
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}")),
        );
        assert!(!expected.is_empty(), "{name} has no rows to compare");
        assert_eq!(got, expected, "{name}: the cluster's rows differ from one process's");
    }
    let mut compared = 0;
    for (name, text) in shipped_policies() {
        let expected = policy_rows(local.clone(), &name, &text).await;
        let got = policy_rows(coordinator.clone(), &name, &text).await;
        compared += expected.len();
        assert_eq!(got, expected, "{name}: the cluster's rows differ from one process's");
    }
    assert!(compared > 0, "no shipped policy selects anything in this world: nothing was compared");

    // Every engine has resolved its accounts by now: count one query's calls.
    let calls_of = |engine: Engine| {
        let sandbox = &sandbox;
        async move {
            sandbox.reset_calls();
            engine
                .session()
                .await
                .unwrap()
                .sql("SELECT * FROM image_in_use")
                .await
                .unwrap()
                .collect()
                .await
                .unwrap();
            sandbox.calls()
        }
    };
    let alone = calls_of(local.clone()).await;
    assert!(
        alone.get("ecs:ListClusters").is_some_and(|n| *n > 0),
        "the in-use view listed no clusters: {alone:?}"
    );
    assert_eq!(calls_of(coordinator.clone()).await, alone, "calls grew with workers");

    assert_eq!(aws_calls(&coordinator), 0, "the coordinator called AWS itself");
    for (i, worker) in workers.iter().enumerate() {
        assert!(aws_calls(worker) > 0, "worker {} read nothing: the scans were not spread", i + 1);
    }
}
