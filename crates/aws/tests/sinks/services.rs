//! What the services declare is what they do: `skyglue connections` tries
//! exactly the operations each probe declares, a table that calls an
//! operation its spec does not declare is refused, and `[in_use] sources`
//! names are checked against the services' sources.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::RecordBatch;
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use futures::stream::BoxStream;
use skyglue_aws::permissions::{self, CallCheck};
use skyglue_aws::services;
use skyglue_core::config::InUseSources;
use skyglue_core::spec::text;
use skyglue_core::{ApiTable, ColumnSpec, Config, Engine, FetchContext, Registry, Result, Scope, TableSpec};
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use crate::support::{connections, start};

/// Every source of "in use" the registry knows.
fn every_source() -> InUseSources {
    InUseSources::new(skyglue_aws::registry().in_use_sources().to_vec())
}

#[tokio::test]
async fn the_probes_try_exactly_the_operations_they_declare() {
    let mut env = start(World::demo(), SandboxConfig::default()).await;
    Arc::get_mut(&mut env.connections).expect("not shared yet").in_use = every_source();
    let conn = env.connections.aws.first().expect("a connection").clone();
    let checks = permissions::check_reads(&env.connections, &conn).await;
    let tried: Vec<&str> = checks.iter().map(|(op, _)| *op).collect();
    let declared: Vec<&str> = services::ALL
        .iter()
        .flat_map(|s| s.probes.iter())
        .flat_map(|p| p.operations.iter().copied())
        .collect();
    assert_eq!(tried, declared);
    assert!(checks.iter().all(|(_, c)| *c == CallCheck::Ok), "{checks:?}");
    assert!(tried.contains(&"s3:ListObjectsV2"), "{tried:?}");
}

#[tokio::test]
async fn a_probe_of_a_source_left_out_is_not_tried() {
    let mut env = start(World::demo(), SandboxConfig::default()).await;
    Arc::get_mut(&mut env.connections).expect("not shared yet").in_use = InUseSources::new(["ecs"]);
    let conn = env.connections.aws.first().expect("a connection").clone();
    let checks = permissions::check_reads(&env.connections, &conn).await;
    let tried: Vec<&str> = checks.iter().map(|(op, _)| *op).collect();
    assert!(tried.contains(&"ecr:DescribeImages") && tried.contains(&"s3:ListBuckets"), "{tried:?}");
    assert!(!tried.iter().any(|op| op.starts_with("lambda:") || op.starts_with("events:")), "{tried:?}");
}

/// A table whose spec declares ListTagsForResource but whose fetch calls DescribeRepositories.
#[derive(Debug)]
struct Undeclared;

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "undeclared_calls",
    description: "Calls an operation its spec does not declare.",
    scope: Scope::Aws,
    columns: vec![ColumnSpec::new("name", text(), "A name.")],
    not_found_codes: &[],
    operations: &["ecr:ListTagsForResource"],
    rate_limits: services::rate_limits_for(&["ecr:ListTagsForResource"]),
});

impl ApiTable for Undeclared {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        futures::stream::once(async move {
            let ecr = services::ecr::client(ctx.aws());
            ctx.call("ecr:DescribeRepositories", || ecr.describe_repositories().send()).await?;
            Ok(RecordBatch::new_empty(ctx.spec.page_schema()))
        })
        .boxed()
    }
}

#[tokio::test]
async fn a_call_the_spec_does_not_declare_is_refused() {
    let world = World::demo();
    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.expect("sandbox starts");
    let engine = Engine::new(connections(&sandbox, &world).await, Registry::new().table(Undeclared));
    let ctx = SessionContext::new();
    engine.register(&ctx).await.expect("registered");
    let result = ctx.sql("SELECT * FROM undeclared_calls").await.expect("planned").collect().await;
    let error = result.expect_err("refused").to_string();
    assert!(error.contains("ecr:DescribeRepositories") && error.contains("does not declare"), "{error}");
    assert_eq!(sandbox.calls().get("ecr:DescribeRepositories"), None, "nothing was sent");
}

#[tokio::test]
async fn an_unknown_in_use_source_is_a_config_error_naming_the_known_ones() {
    let config = Config::parse("[in_use]\nsources = [\"ecs\", \"lamda\"]\n", "skyglue.toml").expect("parses");
    let Err(error) = Engine::from_config(&config, skyglue_aws::registry()).await else {
        panic!("an unknown source was accepted")
    };
    let error = error.to_string();
    assert!(error.contains("[in_use] sources lists \"lamda\""), "{error}");
    assert!(error.contains("ecs, ecs_schedules, lambda, batch, apprunner, kubernetes"), "{error}");
    let config =
        Config::parse("[in_use]\nsources = [\"ecs\", \"lambda\"]\n", "skyglue.toml").expect("parses");
    let registry = skyglue_aws::registry();
    assert!(registry.validate_in_use(&config.in_use_sources()).is_ok());
}
