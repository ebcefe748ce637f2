//! The framework's promises, checked with the sandbox's call counters: LIMIT
//! stops paging, key filters become API parameters, the fan-out covers every
//! account and region and prunes on filters, metrics reach EXPLAIN ANALYZE,
//! and a required key is enforced at plan time.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::Serialize;
use skyglue_core::spec::text;
use skyglue_core::{ApiTable, ColumnSpec, Connections, Engine, FetchContext, Registry, Scope, TableSpec};
use skyglue_sandbox::world::task_definition_arn;

use crate::support::*;

fn one_repo_world(images: usize) -> skyglue_sandbox::World {
    let mut r = region("us-east-1");
    r.repositories.push(repository("web", images));
    world(vec![account(ACCOUNT, vec![r])])
}

fn four_connection_world() -> skyglue_sandbox::World {
    let regions = |offset: usize| {
        ["us-east-1", "eu-west-1"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let mut r = region(name);
                r.repositories.push(repository(&format!("repo{}", offset + i), 3));
                r
            })
            .collect()
    };
    world(vec![account(ACCOUNT, regions(0)), account(OTHER, regions(2))])
}

#[tokio::test]
async fn limit_stops_paging() {
    let env = Env::start(one_repo_world(3000)).await;
    let batches = env.query("SELECT image_digest FROM aws_ecr_image LIMIT 5").await;
    assert_eq!(rows(&batches), 5);
    assert_eq!(env.calls("ecr:DescribeImages"), 1, "one page of 1000 is enough for LIMIT 5");

    env.sandbox.reset_calls();
    let batches =
        env.query("SELECT image_digest FROM aws_ecr_image WHERE image_size_in_bytes > 0 LIMIT 5").await;
    assert_eq!(rows(&batches), 5);
    assert_eq!(env.calls("ecr:DescribeImages"), 1, "a filter evaluated by the scan keeps LIMIT pushed down");
}

#[tokio::test]
async fn repository_key_skips_the_listing() {
    let mut r = region("us-east-1");
    for name in ["a", "b", "c"] {
        r.repositories.push(repository(name, 4));
    }
    let env = Env::start(world(vec![account(ACCOUNT, vec![r])])).await;
    let n = env.count("SELECT count(*) FROM aws_ecr_image WHERE repository_name = 'b'").await;
    assert_eq!(n, 4);
    assert_eq!(env.calls("ecr:DescribeRepositories"), 0);
    assert_eq!(env.calls("ecr:DescribeImages"), 1);

    env.sandbox.reset_calls();
    let n = env.count("SELECT count(*) FROM aws_ecr_image WHERE repository_name IN ('a', 'c', 'gone')").await;
    assert_eq!(n, 8, "an unknown repository is no rows, not an error");
    // Several names are found with one listing, so the unknown one costs nothing.
    assert_eq!(env.calls("ecr:DescribeRepositories"), 1);
    assert_eq!(env.calls("ecr:DescribeImages"), 2);
}

#[tokio::test]
async fn digest_key_describes_by_image_id() {
    let env = Env::start(one_repo_world(50)).await;
    let base = "web".len() * 100_000;
    let (d1, d2) = (digest(base + 1), digest(base + 7));
    let sql = format!(
        "SELECT image_digest FROM aws_ecr_image WHERE repository_name = 'web' AND image_digest IN ('{d1}', '{d2}')"
    );
    assert_eq!(rows(&env.query(&sql).await), 2);
    assert_eq!(env.calls("ecr:DescribeImages"), 1, "both digests in one call");

    env.sandbox.reset_calls();
    let missing = digest(999_999_999);
    let sql = format!(
        "SELECT image_digest FROM aws_ecr_image WHERE repository_name = 'web' AND image_digest IN ('{d1}', '{missing}')"
    );
    assert_eq!(rows(&env.query(&sql).await), 1, "the known digest survives an unknown one");
}

#[tokio::test]
async fn task_definition_arns_are_described_not_listed() {
    let mut r = region("us-east-1");
    r.task_definitions = (1..=200).map(|rev| task_definition("web", rev, "ACTIVE", "nginx")).collect();
    let env = Env::start(world(vec![account(ACCOUNT, vec![r])])).await;
    let arns: Vec<String> = [3, 50, 199]
        .iter()
        .map(|rev| format!("'{}'", task_definition_arn("us-east-1", ACCOUNT, "web", *rev)))
        .collect();
    let sql = format!(
        "SELECT revision, container_definitions FROM aws_ecs_task_definition WHERE task_definition_arn IN ({})",
        arns.join(", ")
    );
    assert_eq!(rows(&env.query(&sql).await), 3);
    assert_eq!(env.calls("ecs:DescribeTaskDefinition"), 3);
    assert_eq!(env.calls("ecs:ListTaskDefinitions"), 0);
}

#[tokio::test]
async fn fans_out_over_every_account_and_region() {
    let env = Env::start(four_connection_world()).await;
    let batches = env
        .query("SELECT account_id, region, count(*) AS n FROM aws_ecr_image GROUP BY 1, 2 ORDER BY 1, 2")
        .await;
    let out = pretty(&batches);
    for (acct, reg) in
        [(ACCOUNT, "eu-west-1"), (ACCOUNT, "us-east-1"), (OTHER, "eu-west-1"), (OTHER, "us-east-1")]
    {
        assert!(out.contains(&format!("| {acct} | {reg}")), "missing {acct}/{reg} in\n{out}");
    }
    assert_eq!(rows(&batches), 4);
}

#[tokio::test]
async fn region_and_account_filters_prune_the_fan_out() {
    let env = Env::start(four_connection_world()).await;
    let n = env.count("SELECT count(*) FROM aws_ecr_repository WHERE region = 'eu-west-1'").await;
    assert_eq!(n, 2);
    assert_eq!(env.calls("ecr:DescribeRepositories"), 2, "only the eu-west-1 connections are asked");

    env.sandbox.reset_calls();
    let n = env.count(&format!("SELECT count(*) FROM aws_ecr_repository WHERE account_id = '{OTHER}'")).await;
    assert_eq!(n, 2);
    assert_eq!(env.calls("ecr:DescribeRepositories"), 2, "only the other account's connections are asked");
}

#[tokio::test]
async fn explain_analyze_shows_api_metrics_and_keys() {
    let env = Env::start(one_repo_world(1500)).await;
    let out = pretty(
        &env.query("EXPLAIN ANALYZE SELECT count(*) FROM aws_ecr_image WHERE repository_name = 'web'").await,
    );
    assert!(out.contains("ApiScan: table=aws_ecr_image"), "{out}");
    assert!(out.contains("keys=[repository_name IN (web)]"), "{out}");
    assert!(out.contains("api_calls=2"), "{out}");
    assert!(out.contains("pages=2"), "{out}");
}

#[tokio::test]
async fn throttled_calls_are_retried_and_counted() {
    use skyglue_sandbox::{BucketSpec, EcsBuckets, SandboxConfig};
    let td = task_definition_arn("us-east-1", ACCOUNT, "web", 1);
    let mut r = region("us-east-1");
    r.clusters.push(cluster("main", (0..60).map(|i| service(&format!("s{i}"), &td)).collect(), vec![]));
    let config = SandboxConfig {
        ecs_buckets: EcsBuckets::uniform(BucketSpec::new(2.0, 20.0)),
        ..SandboxConfig::default()
    };
    let env = Env::start_with(world(vec![account(ACCOUNT, vec![r])]), config).await;
    let before = env.engine.connections().counters.snapshot();
    assert_eq!(env.count("SELECT count(*) FROM aws_ecs_service").await, 60);
    let throttled: u64 = env.sandbox.throttled_calls().values().sum();
    assert!(throttled > 0, "the sandbox throttled some calls");
    let retries = env.engine.connections().counters.snapshot().since(&before).retries;
    assert!(
        retries >= throttled,
        "every throttled call was retried: {retries} retries, {throttled} throttled"
    );
}

// ---- a required key, through a test-only table -------------------------------------------------

#[derive(Debug, Default)]
struct Echo {
    fetches: Arc<AtomicUsize>,
}

static ECHO: std::sync::LazyLock<TableSpec> = std::sync::LazyLock::new(|| TableSpec {
    name: "echo",
    description: "Returns the keys it was asked for.",
    scope: Scope::Global,
    columns: vec![
        ColumnSpec::new("name", text(), "A required key.").required_key(),
        ColumnSpec::new("length", DataType::Int64, "The name's length."),
    ],
    not_found_codes: &[],
    rate_limits: vec![],
    operations: &[],
});

#[derive(Serialize)]
struct EchoRow<'a> {
    name: &'a str,
    length: usize,
}

impl ApiTable for Echo {
    fn spec(&self) -> &TableSpec {
        &ECHO
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, skyglue_core::Result<RecordBatch>> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let names = ctx.keys.get("name").unwrap_or_default().to_vec();
        let rows: Vec<EchoRow> = names.iter().map(|n| EchoRow { name: n, length: n.len() }).collect();
        futures::stream::once(futures::future::ready(ctx.batch(&rows))).boxed()
    }
}

#[tokio::test]
async fn required_key_is_enforced_at_plan_time() {
    let fetches = Arc::new(AtomicUsize::new(0));
    let engine =
        Engine::new(Connections::default(), Registry::new().table(Echo { fetches: fetches.clone() }));
    let ctx = engine.session().await.unwrap();
    let err = ctx.sql("SELECT * FROM echo").await.unwrap().collect().await.expect_err("missing key");
    let msg = skyglue_core::Error::find(&err).map(ToString::to_string).unwrap_or_else(|| err.to_string());
    assert!(msg.contains("echo") && msg.contains("name"), "{msg}");
    assert_eq!(fetches.load(Ordering::SeqCst), 0, "nothing was fetched");

    let batches = ctx
        .sql("SELECT length FROM echo WHERE name IN ('ab', 'abcd')")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(rows(&batches), 2);
}

// ---- per-account scope (global services), through a test-only table ----------------------------

#[derive(Debug, Default)]
struct PerAccount {
    fetches: Arc<AtomicUsize>,
}

static PER_ACCOUNT: std::sync::LazyLock<TableSpec> = std::sync::LazyLock::new(|| TableSpec {
    name: "per_account",
    description: "One row per account: the region of the connection that fetched it.",
    scope: Scope::AwsAccount,
    columns: vec![ColumnSpec::new("fetched_in", text(), "The region of the connection used.")],
    not_found_codes: &[],
    rate_limits: vec![],
    operations: &[],
});

#[derive(Serialize)]
struct PerAccountRow<'a> {
    fetched_in: &'a str,
}

impl ApiTable for PerAccount {
    fn spec(&self) -> &TableSpec {
        &PER_ACCOUNT
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, skyglue_core::Result<RecordBatch>> {
        self.fetches.fetch_add(1, Ordering::SeqCst);
        let row = PerAccountRow { fetched_in: &ctx.aws().region };
        futures::stream::once(futures::future::ready(ctx.batch(&[row]))).boxed()
    }
}

#[tokio::test]
async fn an_account_scoped_table_is_fetched_once_per_account_not_per_region() {
    let two_by_two = world(vec![
        account(ACCOUNT, vec![region("us-east-1"), region("eu-west-1")]),
        account(OTHER, vec![region("us-east-1"), region("eu-west-1")]),
    ]);
    let sandbox = skyglue_sandbox::Sandbox::start(two_by_two.clone(), Default::default()).await.unwrap();
    let connections = skyglue::sandbox::connections(&sandbox, &two_by_two).await.unwrap();
    assert_eq!(connections.aws.len(), 4);
    let fetches = Arc::new(AtomicUsize::new(0));
    let engine = Engine::new(connections, Registry::new().table(PerAccount { fetches: fetches.clone() }));
    let ctx = engine.session().await.unwrap();
    let batches = ctx
        .sql("SELECT account_id, fetched_in FROM per_account ORDER BY account_id")
        .await
        .unwrap()
        .collect()
        .await
        .unwrap();
    let text = pretty(&batches);
    assert_eq!(rows(&batches), 2, "{text}");
    assert!(text.contains(ACCOUNT) && text.contains(OTHER), "{text}");
    assert_eq!(fetches.load(Ordering::SeqCst), 2, "one fetch per account");
    let schema = ctx.table("per_account").await.unwrap().schema().clone();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, vec!["account_id", "fetched_in"], "no region column: the table is per account");

    fetches.store(0, Ordering::SeqCst);
    let one = ctx.sql(&format!("SELECT * FROM per_account WHERE account_id = '{OTHER}'")).await.unwrap();
    assert_eq!(rows(&one.collect().await.unwrap()), 1);
}
