//! `aws_ecs_task`: ECS tasks, with the image digest each container runs.
//!
//! ```sql
//! SELECT task_arn, last_status, containers FROM aws_ecs_task WHERE desired_status = 'RUNNING';
//! ```
//!
//! Without a `desired_status` filter both RUNNING and STOPPED tasks are listed,
//! so a task that is still stopping is seen. Tasks are listed and described
//! 100 per call; a task DescribeTasks reports as a failure fails the scan.

use std::sync::LazyLock;

use datafusion::arrow::array::RecordBatch;
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
const OPERATIONS: &[&str] = &["ecs:ListClusters", "ecs:ListTasks", "ecs:DescribeTasks"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_ecs_task",
    description: "ECS tasks (running, and recently stopped), with their containers.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[("ecs:ListTasks", "ClusterNotFoundException")],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

skyglue_core::columns! {
    struct Row<'a> {
        cluster_arn: Option<&'a str> => (text(), "The cluster the task runs in.").optional_key(),
        task_arn: Option<&'a str> => (text(), "The task's ARN."),
        task_definition_arn: Option<&'a str> => (text(), "The task definition it runs."),
        group: Option<&'a str> => (text(), "service:<name> for service tasks, family:<name> otherwise."),
        last_status: Option<&'a str> => (text(), "PROVISIONING, PENDING, RUNNING, ..., STOPPED."),
        desired_status: Option<&'a str> => (text(), "RUNNING or STOPPED.").optional_key(),
        launch_type: Option<&'a str> => (text(), "EC2, FARGATE or EXTERNAL."),
        started_at: Option<i64> => (timestamp(), "When the task started."),
        containers: Vec<Container<'a>> => (
            struct_list(vec![
                field("name", text()),
                field("image", text()),
                field("image_digest", text()),
                field("last_status", text()),
            ]),
            "Containers with the image reference and the digest actually running.",
        ),
    }
}

#[derive(Serialize)]
struct Container<'a> {
    name: Option<&'a str>,
    image: Option<&'a str>,
    image_digest: Option<&'a str>,
    last_status: Option<&'a str>,
}

/// The `aws_ecs_task` table.
#[derive(Debug)]
pub struct EcsTask;

impl ApiTable for EcsTask {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        1_000
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let statuses: Vec<String> = match ctx.keys.get("desired_status") {
            Some(s) => s.to_vec(),
            None => vec!["RUNNING".into(), "STOPPED".into()],
        };
        // Each cluster is listed once per desired status.
        let listings = cluster_arns(&ctx)
            .map_ok(move |cluster| {
                futures::stream::iter(statuses.clone()).map(move |s| Ok((cluster.clone(), s)))
            })
            .try_flatten()
            .boxed();
        fan_out(listings, DEFAULT_CONCURRENCY, move |(cluster, status)| {
            cluster_tasks(ctx.clone(), cluster, status)
        })
    }
}

/// One cluster's tasks of one desired status: each list page of 100 is described in one call.
fn cluster_tasks(
    ctx: FetchContext,
    cluster: String,
    status: String,
) -> BoxStream<'static, Result<RecordBatch>> {
    let ecs = clients::ecs(ctx.aws());
    let (list, name) = (ecs.clone(), cluster.clone());
    let status = aws_sdk_ecs::types::DesiredStatus::from(status.as_str());
    ctx.paginate(
        "ecs:ListTasks",
        move |token| {
            list.list_tasks()
                .cluster(&name)
                .desired_status(status.clone())
                .max_results(100)
                .set_next_token(token)
                .send()
        },
        |out| out.next_token().map(str::to_string),
    )
    .and_then(move |out| {
        let (ctx, ecs, cluster) = (ctx.clone(), ecs.clone(), cluster.clone());
        async move {
            if out.task_arns().is_empty() {
                return Ok(None);
            }
            let req = ecs.describe_tasks().cluster(&cluster).set_tasks(Some(out.task_arns().to_vec()));
            let Some(described) = ctx.call("ecs:DescribeTasks", || req.clone().send()).await? else {
                return Ok(None);
            };
            check_failures(&ctx, "ecs:DescribeTasks", described.failures())?;
            to_batch(&ctx, described.tasks()).map(Some)
        }
    })
    .try_filter_map(|batch| async move { Ok(batch) })
    .boxed()
}

fn to_batch(ctx: &FetchContext, tasks: &[aws_sdk_ecs::types::Task]) -> Result<RecordBatch> {
    let rows: Vec<Row> = tasks
        .iter()
        .map(|t| Row {
            cluster_arn: t.cluster_arn(),
            task_arn: t.task_arn(),
            task_definition_arn: t.task_definition_arn(),
            group: t.group(),
            last_status: t.last_status(),
            desired_status: t.desired_status(),
            launch_type: t.launch_type().map(|l| l.as_str()),
            started_at: time::micros(t.started_at()),
            containers: t
                .containers()
                .iter()
                .map(|c| Container {
                    name: c.name(),
                    image: c.image(),
                    image_digest: c.image_digest(),
                    last_status: c.last_status(),
                })
                .collect(),
        })
        .collect();
    ctx.batch(&rows)
}
