//! `aws_ecs_service`: ECS services with all their deployments and task sets.
//!
//! ```sql
//! SELECT service_name, task_definition, desired_count FROM aws_ecs_service
//! WHERE region = 'us-east-1';
//! ```
//!
//! Services on the ECS deployment controller keep their revisions in
//! `deployments`; those on `CODE_DEPLOY` (blue/green) and `EXTERNAL` keep them
//! in `task_sets`. Services are listed 100 per page and described 10 per call,
//! the API maxima; clusters, and the describes of a page, are walked
//! concurrently. A service DescribeServices reports as a failure fails the scan.

use std::sync::LazyLock;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use skyglue_core::paging::fan_out;
use skyglue_core::spec::{field, struct_list, text, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use super::ecs_common::{check_failures, cluster_arns};
use crate::{clients, services, time};

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["ecs:ListClusters", "ecs:ListServices", "ecs:DescribeServices"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_ecs_service",
    description: "ECS services, with every deployment (old and new during a rollout).",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[("ecs:ListServices", "ClusterNotFoundException")],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

skyglue_core::columns! {
    struct Row<'a> {
        cluster_arn: Option<&'a str> => (text(), "The cluster the service runs in.").optional_key(),
        service_name: Option<&'a str> => (text(), "The service's name."),
        arn: Option<&'a str> => (text(), "The service's ARN."),
        status: Option<&'a str> => (text(), "ACTIVE, DRAINING or INACTIVE."),
        task_definition: Option<&'a str> => (text(), "The task definition of the primary deployment."),
        desired_count: i32 => (DataType::Int64, "Tasks the service wants running."),
        running_count: i32 => (DataType::Int64, "Tasks running now."),
        launch_type: Option<&'a str> => (text(), "EC2, FARGATE, EXTERNAL or MANAGED_INSTANCES."),
        deployments: Vec<Deployment<'a>> => (
            struct_list(vec![
                field("id", text()),
                field("status", text()),
                field("task_definition", text()),
                field("desired_count", DataType::Int64),
                field("running_count", DataType::Int64),
                field("rollout_state", text()),
                field("created_at", timestamp()),
            ]),
            "Every deployment: PRIMARY, ACTIVE (being replaced) and so on.",
        ),
        deployment_controller: Option<&'a str> => (text(), "ECS, CODE_DEPLOY or EXTERNAL."),
        task_sets: Vec<TaskSet<'a>> => (
            struct_list(vec![
                field("id", text()),
                field("task_set_arn", text()),
                field("status", text()),
                field("task_definition", text()),
                field("launch_type", text()),
                field("running_count", DataType::Int64),
                field("computed_desired_count", DataType::Int64),
                field("created_at", timestamp()),
            ]),
            "Task sets of CODE_DEPLOY and EXTERNAL services: PRIMARY, ACTIVE or DRAINING.",
        ),
    }
}

#[derive(Serialize)]
struct Deployment<'a> {
    id: Option<&'a str>,
    status: Option<&'a str>,
    task_definition: Option<&'a str>,
    desired_count: i32,
    running_count: i32,
    rollout_state: Option<&'a str>,
    created_at: Option<i64>,
}

#[derive(Serialize)]
struct TaskSet<'a> {
    id: Option<&'a str>,
    task_set_arn: Option<&'a str>,
    status: Option<&'a str>,
    task_definition: Option<&'a str>,
    launch_type: Option<&'a str>,
    running_count: i32,
    computed_desired_count: i32,
    created_at: Option<i64>,
}

impl<'a> TaskSet<'a> {
    fn new(t: &'a aws_sdk_ecs::types::TaskSet) -> Self {
        TaskSet {
            id: t.id(),
            task_set_arn: t.task_set_arn(),
            status: t.status(),
            task_definition: t.task_definition(),
            launch_type: t.launch_type().map(|l| l.as_str()),
            running_count: t.running_count(),
            computed_desired_count: t.computed_desired_count(),
            created_at: time::micros(t.created_at()),
        }
    }
}

/// The `aws_ecs_service` table.
#[derive(Debug)]
pub struct EcsService;

impl ApiTable for EcsService {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        1_000
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let clusters = cluster_arns(&ctx);
        fan_out(clusters, DEFAULT_CONCURRENCY, move |cluster| cluster_services(ctx.clone(), cluster))
    }
}

/// One cluster's services: each list page's describes (10 services each) run concurrently.
fn cluster_services(ctx: FetchContext, cluster: String) -> BoxStream<'static, Result<RecordBatch>> {
    let ecs = clients::ecs(ctx.aws());
    let (list, name) = (ecs.clone(), cluster.clone());
    ctx.paginate(
        "ecs:ListServices",
        move |token| list.list_services().cluster(&name).max_results(100).set_next_token(token).send(),
        |out| out.next_token().map(str::to_string),
    )
    .map_ok(|out| {
        futures::stream::iter(out.service_arns().chunks(10).map(<[String]>::to_vec).collect::<Vec<_>>())
            .map(Ok)
    })
    .try_flatten()
    .map(move |chunk| {
        let (ctx, ecs, cluster) = (ctx.clone(), ecs.clone(), cluster.clone());
        async move {
            let req = ecs.describe_services().cluster(&cluster).set_services(Some(chunk?));
            let Some(described) = ctx.call("ecs:DescribeServices", || req.clone().send()).await? else {
                return Ok(None);
            };
            check_failures(&ctx, "ecs:DescribeServices", described.failures())?;
            to_batch(&ctx, described.services()).map(Some)
        }
    })
    .buffer_unordered(DEFAULT_CONCURRENCY)
    .try_filter_map(|batch| async move { Ok(batch) })
    .boxed()
}

fn to_batch(ctx: &FetchContext, services: &[aws_sdk_ecs::types::Service]) -> Result<RecordBatch> {
    let rows: Vec<Row> = services
        .iter()
        .map(|s| Row {
            cluster_arn: s.cluster_arn(),
            service_name: s.service_name(),
            arn: s.service_arn(),
            status: s.status(),
            task_definition: s.task_definition(),
            desired_count: s.desired_count(),
            running_count: s.running_count(),
            launch_type: s.launch_type().map(|l| l.as_str()),
            deployments: s
                .deployments()
                .iter()
                .map(|d| Deployment {
                    id: d.id(),
                    status: d.status(),
                    task_definition: d.task_definition(),
                    desired_count: d.desired_count(),
                    running_count: d.running_count(),
                    rollout_state: d.rollout_state().map(|r| r.as_str()),
                    created_at: time::micros(d.created_at()),
                })
                .collect(),
            deployment_controller: s.deployment_controller().map(|d| d.r#type().as_str()),
            task_sets: s.task_sets().iter().map(TaskSet::new).collect(),
        })
        .collect();
    ctx.batch(&rows)
}
