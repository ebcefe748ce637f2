//! `aws_ecs_cluster`: ECS clusters in every connection.
//!
//! ```sql
//! SELECT account_id, region, cluster_name, running_tasks_count FROM aws_ecs_cluster;
//! ```
//!
//! A cluster named by `cluster_arn = ...` that does not exist is no row
//! (DescribeClusters reports it as `MISSING`, its "not found"); any other
//! failure DescribeClusters reports fails the scan.

use std::sync::LazyLock;

use aws_sdk_ecs::types::Failure;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::StreamExt;
use futures::stream::BoxStream;
use skyglue_core::spec::text;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use super::ecs_common::{check_failures, cluster_arns};
use crate::{clients, services};

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["ecs:ListClusters", "ecs:DescribeClusters"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_ecs_cluster",
    description: "ECS clusters.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

skyglue_core::columns! {
    struct Row<'a> {
        cluster_arn: Option<&'a str> => (text(), "The cluster's ARN.").optional_key(),
        cluster_name: Option<&'a str> => (text(), "The cluster's name."),
        status: Option<&'a str> => (text(), "ACTIVE, PROVISIONING, DEPROVISIONING, FAILED or INACTIVE."),
        active_services_count: i32 => (DataType::Int64, "Services in ACTIVE state."),
        running_tasks_count: i32 => (DataType::Int64, "Tasks in RUNNING state."),
        pending_tasks_count: i32 => (DataType::Int64, "Tasks in PENDING state."),
    }
}

/// The `aws_ecs_cluster` table.
#[derive(Debug)]
pub struct EcsCluster;

impl ApiTable for EcsCluster {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        10
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        async_stream::try_stream! {
            let ecs = clients::ecs(ctx.aws());
            let arns = cluster_arns(&ctx).ready_chunks(100);
            futures::pin_mut!(arns);
            while let Some(chunk) = arns.next().await {
                let chunk = chunk.into_iter().collect::<Result<Vec<_>>>()?;
                let req = ecs.describe_clusters().set_clusters(Some(chunk));
                let Some(out) = ctx.call("ecs:DescribeClusters", || req.clone().send()).await? else { continue };
                check_failures(&ctx, "ecs:DescribeClusters", &unexpected_failures(&ctx, out.failures()))?;
                let rows: Vec<Row> = out.clusters().iter().map(|c| Row {
                    cluster_arn: c.cluster_arn(),
                    cluster_name: c.cluster_name(),
                    status: c.status(),
                    active_services_count: c.active_services_count(),
                    running_tasks_count: c.running_tasks_count(),
                    pending_tasks_count: c.pending_tasks_count(),
                }).collect();
                yield ctx.batch(&rows)?;
            }
        }
        .boxed()
    }
}

/// The failures that are not a keyed cluster's documented "not found" (`MISSING`).
fn unexpected_failures(ctx: &FetchContext, failures: &[Failure]) -> Vec<Failure> {
    let keyed = ctx.keys.get("cluster_arn").is_some();
    failures.iter().filter(|f| !(keyed && f.reason() == Some("MISSING"))).cloned().collect()
}
