//! `aws_batch_job_definition`: AWS Batch job definition revisions with the
//! container images they run.
//!
//! ```sql
//! SELECT name, revision, image FROM aws_batch_job_definition WHERE status = 'ACTIVE';
//! ```
//!
//! DescribeJobDefinitions pages 100 at a time; `status` and named ARNs are
//! pushed into it. `images` lists every container of the definition (single
//! container, ECS task properties, EKS pod containers, multi-node ranges);
//! `image` is the first.

use std::sync::LazyLock;

use aws_sdk_batch::types::{ContainerProperties, JobDefinition};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::spec::{text, text_list};
use skyglue_core::throttle::{Bucket, RateLimits, bucket};
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use crate::{clients, services};

/// Batch publishes no rates for its describe calls: a conservative bucket.
pub static BATCH: RateLimits = RateLimits { service: "batch", bucket: batch_bucket };

fn batch_bucket(_operation: &str) -> Option<Bucket> {
    Some(bucket("batch", 20, 10))
}

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["batch:DescribeJobDefinitions"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_batch_job_definition",
    description: "AWS Batch job definition revisions and their container images.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

skyglue_core::columns! {
    struct Row<'a> {
        job_definition_arn: Option<&'a str> => (
            text(),
            "The revision's ARN, .../name:revision.",
        ).optional_key(),
        name: Option<&'a str> => (text(), "The job definition's name.").optional_key(),
        revision: Option<i64> => (DataType::Int64, "The revision number."),
        status: Option<&'a str> => (text(), "ACTIVE or INACTIVE.").optional_key(),
        r#type: Option<&'a str> => (text(), "container or multinode."),
        image: Option<&'a str> => (text(), "The (first) container's image."),
        images: Vec<&'a str> => (text_list(), "Every container image of the definition."),
    }
}

/// The `aws_batch_job_definition` table.
#[derive(Debug)]
pub struct BatchJobDefinition;

impl ApiTable for BatchJobDefinition {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        1_000
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        // Named ARNs go 100 per call; otherwise one listing per status (or one
        // of everything) and per name.
        let arns: Vec<Option<Vec<String>>> = match ctx.keys.get("job_definition_arn") {
            Some(arns) => arns.chunks(100).map(|c| Some(c.to_vec())).collect(),
            None => vec![None],
        };
        let statuses: Vec<Option<String>> = match ctx.keys.get("status") {
            Some(s) => s.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        let names: Vec<Option<String>> = match ctx.keys.get("name") {
            Some(n) => n.iter().cloned().map(Some).collect(),
            None => vec![None],
        };
        let mut listings = Vec::new();
        for a in &arns {
            for s in &statuses {
                for n in &names {
                    listings.push((a.clone(), s.clone(), n.clone()));
                }
            }
        }
        futures::stream::iter(listings)
            .map(move |(arns, status, name)| listing(ctx.clone(), arns, status, name))
            .flatten()
            .boxed()
    }
}

fn listing(
    ctx: FetchContext,
    arns: Option<Vec<String>>,
    status: Option<String>,
    name: Option<String>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let batch = clients::batch(ctx.aws());
    ctx.paginate(
        "batch:DescribeJobDefinitions",
        move |token| {
            batch
                .describe_job_definitions()
                .set_job_definitions(arns.clone())
                .set_status(status.clone())
                .set_job_definition_name(name.clone())
                .max_results(100)
                .set_next_token(token)
                .send()
        },
        |out| out.next_token().map(str::to_string),
    )
    .and_then(move |out| {
        let ctx = ctx.clone();
        async move { to_batch(&ctx, out.job_definitions()) }
    })
    .boxed()
}

/// Every container image a job definition names.
fn images(d: &JobDefinition) -> Vec<&str> {
    fn container(c: Option<&ContainerProperties>) -> Option<&str> {
        c.and_then(|c| c.image())
    }
    let mut out: Vec<&str> = container(d.container_properties()).into_iter().collect();
    if let Some(ecs) = d.ecs_properties() {
        out.extend(ecs.task_properties().iter().flat_map(|t| t.containers()).filter_map(|c| c.image()));
    }
    if let Some(pod) = d.eks_properties().and_then(|e| e.pod_properties()) {
        out.extend(pod.init_containers().iter().chain(pod.containers()).filter_map(|c| c.image()));
    }
    if let Some(nodes) = d.node_properties() {
        out.extend(nodes.node_range_properties().iter().filter_map(|n| container(n.container())));
    }
    out
}

fn to_batch(ctx: &FetchContext, definitions: &[JobDefinition]) -> Result<RecordBatch> {
    let rows: Vec<Row> = definitions
        .iter()
        .map(|d| {
            let images = images(d);
            Row {
                job_definition_arn: d.job_definition_arn(),
                name: d.job_definition_name(),
                revision: d.revision().map(i64::from),
                status: d.status(),
                r#type: d.r#type(),
                image: images.first().copied(),
                images,
            }
        })
        .collect();
    ctx.batch(&rows)
}
