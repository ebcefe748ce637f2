//! "In use" fails closed: a describe that fails (DescribeTaskDefinition's
//! catch-all `ClientException`, a `failures` entry of DescribeServices or
//! DescribeTasks) fails the query, naming the operation, the connection and
//! what could not be described, instead of silently dropping rows. And the
//! task sets of CODE_DEPLOY services are read.

use datafusion::arrow::array::{Array, AsArray};
use skyglue_sandbox::world::{RegionWorld, TaskSet, task_definition_arn};
use skyglue_sandbox::{DescribeFailure, Fault, SandboxConfig};

use crate::support::*;

fn message(err: &datafusion::error::DataFusionError) -> String {
    skyglue_core::Error::find(err).map(ToString::to_string).unwrap_or_else(|| err.to_string())
}

/// One cluster `main` with service `web` on `web:1` and a running task on `web:1`.
fn world_with(extra_services: Vec<skyglue_sandbox::world::Service>) -> skyglue_sandbox::World {
    let td = task_definition_arn("us-east-1", ACCOUNT, "web", 1);
    let mut r: RegionWorld = region("us-east-1");
    r.task_definitions.push(task_definition("web", 1, "ACTIVE", "nginx:1"));
    r.task_definitions.push(task_definition("web", 2, "ACTIVE", "nginx:2"));
    let mut services = vec![service("web", &td)];
    services.extend(extra_services);
    r.clusters.push(cluster("main", services, vec![task("t1", &td, "RUNNING")]));
    world(vec![account(ACCOUNT, vec![r])])
}

async fn env(config: SandboxConfig) -> Env {
    Env::start_with(world_with(vec![]), config).await
}

#[tokio::test]
async fn a_client_exception_from_describe_task_definition_fails_the_query() {
    let fault =
        Fault::nth_call("ecs:DescribeTaskDefinition", 1).times(u64::MAX).error(400, "ClientException");
    let env = env(SandboxConfig { faults: vec![fault], ..SandboxConfig::default() }).await;
    let td = task_definition_arn("us-east-1", ACCOUNT, "web", 1);

    for sql in [
        format!("SELECT * FROM aws_ecs_task_definition WHERE task_definition_arn = '{td}'"),
        "SELECT * FROM aws_ecs_image_in_use".to_string(),
    ] {
        let err = env.try_query(&sql).await.expect_err("a failed describe fails the query");
        let msg = message(&err);
        assert!(msg.contains("ecs:DescribeTaskDefinition"), "{sql}: {msg}");
        assert!(msg.contains("acct1/us-east-1"), "{sql}: {msg}");
        assert!(msg.contains("ClientException"), "{sql}: {msg}");
    }
}

#[tokio::test]
async fn a_failures_entry_of_describe_services_fails_the_query() {
    let failure = DescribeFailure::new("ecs:DescribeServices", "service/main/web", "AccessDenied");
    let env = env(SandboxConfig { describe_failures: vec![failure], ..SandboxConfig::default() }).await;

    for sql in ["SELECT * FROM aws_ecs_service", "SELECT * FROM aws_ecs_image_in_use"] {
        let err =
            env.try_query(sql).await.expect_err("a service that could not be described fails the query");
        let msg = message(&err);
        assert!(msg.contains("ecs:DescribeServices"), "{sql}: {msg}");
        assert!(msg.contains("acct1/us-east-1"), "{sql}: {msg}");
        assert!(msg.contains(&format!("arn:aws:ecs:us-east-1:{ACCOUNT}:service/main/web")), "{sql}: {msg}");
        assert!(msg.contains("AccessDenied"), "{sql}: {msg}");
    }
}

#[tokio::test]
async fn a_failures_entry_of_describe_tasks_fails_the_query() {
    let failure = DescribeFailure::new("ecs:DescribeTasks", "task/main/t1", "MISSING");
    let env = env(SandboxConfig { describe_failures: vec![failure], ..SandboxConfig::default() }).await;

    let err = env.try_query("SELECT * FROM aws_ecs_task").await.expect_err("fails");
    let msg = message(&err);
    assert!(msg.contains("ecs:DescribeTasks") && msg.contains("task/main/t1: MISSING"), "{msg}");
}

#[tokio::test]
async fn a_describe_failure_for_another_item_changes_nothing() {
    let failure =
        DescribeFailure::new("ecs:DescribeServices", "service/main/nothing-like-this", "AccessDenied");
    let env = env(SandboxConfig { describe_failures: vec![failure], ..SandboxConfig::default() }).await;
    assert_eq!(env.count("SELECT count(*) FROM aws_ecs_service").await, 1);
}

#[tokio::test]
async fn task_sets_of_a_code_deploy_service_are_read() {
    let blue = task_definition_arn("us-east-1", ACCOUNT, "web", 2);
    let mut code_deploy = service("blue-green", &blue)
        .with_deployment_controller("CODE_DEPLOY")
        .with_task_set(TaskSet::new("ecs-svc/1111", &blue, "PRIMARY"));
    code_deploy.deployments.clear();
    let env = Env::start_with(world_with(vec![code_deploy]), SandboxConfig::default()).await;

    let batches = env
        .query(
            "SELECT service_name, deployment_controller, ts['id'] AS id, ts['task_set_arn'] AS arn, \
                    ts['status'] AS status, ts['task_definition'] AS td, ts['launch_type'] AS launch_type, \
                    ts['running_count'] AS running, ts['computed_desired_count'] AS desired, \
                    ts['created_at'] IS NOT NULL AS has_created_at \
             FROM (SELECT service_name, deployment_controller, unnest(task_sets) AS ts FROM aws_ecs_service)",
        )
        .await;
    let out = pretty(&batches);
    assert_eq!(rows(&batches), 1, "{out}");
    for want in [
        "blue-green",
        "CODE_DEPLOY",
        "ecs-svc/1111",
        &format!("arn:aws:ecs:us-east-1:{ACCOUNT}:task-set/main/blue-green/ecs-svc/1111"),
        "PRIMARY",
        &blue,
        "FARGATE",
        "true",
    ] {
        assert!(out.contains(want), "{want} missing from\n{out}");
    }

    let controllers = env
        .query("SELECT service_name, deployment_controller FROM aws_ecs_service ORDER BY service_name")
        .await;
    let column = controllers[0].column(1).as_string_view();
    let values: Vec<Option<&str>> =
        (0..column.len()).map(|i| column.is_valid(i).then(|| column.value(i))).collect();
    assert_eq!(values, vec![Some("CODE_DEPLOY"), Some("ECS")]);
}
