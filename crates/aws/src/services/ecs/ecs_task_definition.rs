//! `aws_ecs_task_definition`: every revision of every task definition family.
//!
//! ```sql
//! SELECT family, revision, status, registered_at FROM aws_ecs_task_definition
//! WHERE family = 'web' AND status = 'INACTIVE';
//! ```
//!
//! With `task_definition_arn = ...` or `IN (...)` only those revisions are
//! described. Otherwise ACTIVE and INACTIVE revisions are listed 100 per page,
//! and each is described (one call each, the API allows no batch) only when the
//! query reads a column the listing lacks: `family`, `revision` and `status`
//! come free from the listing.

use std::sync::LazyLock;

use aws_sdk_ecs::types::{TaskDefinition, TaskDefinitionStatus};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;
use skyglue_core::arn::family_and_revision;
use skyglue_core::paging::describe_each;
use skyglue_core::spec::{field, struct_list, text, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use crate::{clients, services, time};

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["ecs:ListTaskDefinitions", "ecs:DescribeTaskDefinition"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_ecs_task_definition",
    description: "ECS task definition revisions, ACTIVE and INACTIVE.",
    scope: Scope::Aws,
    columns: Row::columns(),
    // DescribeTaskDefinition's ClientException is ECS's catch-all (permissions,
    // bad identifiers): it fails the query rather than dropping a revision.
    not_found_codes: &[],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

/// Columns only DescribeTaskDefinition returns.
const DETAIL_COLUMNS: &[&str] = &["registered_at", "deregistered_at", "container_definitions"];

skyglue_core::columns! {
    #[derive(Default)]
    struct Row<'a> {
        task_definition_arn: Option<&'a str> => (
            text(),
            "The revision's ARN, .../family:revision.",
        ).optional_key(),
        family: Option<&'a str> => (text(), "The task definition family.").optional_key(),
        revision: Option<i64> => (DataType::Int64, "The revision number within the family."),
        status: Option<&'a str> => (text(), "ACTIVE, INACTIVE or DELETE_IN_PROGRESS.").optional_key(),
        registered_at: Option<i64> => (timestamp(), "When the revision was registered."),
        deregistered_at: Option<i64> => (timestamp(), "When it was deregistered, if it was."),
        container_definitions: Vec<ContainerDefinition<'a>> => (
            struct_list(vec![
                field("name", text()),
                field("image", text()),
                field("essential", DataType::Boolean),
            ]),
            "Containers with the image each one runs.",
        ),
    }
}

#[derive(Serialize)]
struct ContainerDefinition<'a> {
    name: Option<&'a str>,
    image: Option<&'a str>,
    essential: Option<bool>,
}

impl<'a> Row<'a> {
    fn described(td: &'a TaskDefinition) -> Self {
        Row {
            task_definition_arn: td.task_definition_arn(),
            family: td.family(),
            revision: Some(i64::from(td.revision())),
            status: td.status().map(|s| s.as_str()),
            registered_at: time::micros(td.registered_at()),
            deregistered_at: time::micros(td.deregistered_at()),
            container_definitions: td
                .container_definitions()
                .iter()
                .map(|c| ContainerDefinition { name: c.name(), image: c.image(), essential: c.essential() })
                .collect(),
        }
    }

    fn listed(arn: &'a str, status: &'a str) -> Self {
        let parts = family_and_revision(arn);
        Row {
            task_definition_arn: Some(arn),
            family: parts.map(|p| p.0),
            revision: parts.map(|p| p.1),
            status: Some(status),
            ..Row::default()
        }
    }
}

/// The `aws_ecs_task_definition` table.
#[derive(Debug)]
pub struct EcsTaskDefinition;

impl ApiTable for EcsTaskDefinition {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        100_000
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        match ctx.keys.get("task_definition_arn") {
            Some(arns) => {
                let arns = arns.to_vec();
                futures::stream::iter(arns.chunks(100).map(<[String]>::to_vec).collect::<Vec<_>>())
                    .then(move |chunk| {
                        let ctx = ctx.clone();
                        async move { describe_page(&ctx, chunk).await }
                    })
                    .boxed()
            }
            None => list(ctx),
        }
    }
}

/// Describes `arns` concurrently; unknown ones are no row.
async fn describe_page(ctx: &FetchContext, arns: Vec<String>) -> Result<RecordBatch> {
    let ecs = clients::ecs(ctx.aws());
    let described: Vec<TaskDefinition> = describe_each(arns, DEFAULT_CONCURRENCY, |arn| {
        let req = ecs.describe_task_definition().task_definition(arn);
        async move {
            let out = ctx.call("ecs:DescribeTaskDefinition", || req.clone().send()).await?;
            Ok(out.and_then(|o| o.task_definition().cloned()))
        }
    })
    .await?;
    let rows: Vec<Row> = described.iter().map(Row::described).collect();
    ctx.batch(&rows)
}

fn list(ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
    let statuses: Vec<String> = match ctx.keys.get("status") {
        Some(s) => s.to_vec(),
        None => vec!["ACTIVE".into(), "INACTIVE".into()],
    };
    let families: Vec<Option<String>> = match ctx.keys.get("family") {
        Some(f) => f.iter().cloned().map(Some).collect(),
        None => vec![None],
    };
    // Each (status, family) listing pages on its own; they run concurrently.
    let listings: Vec<(String, Option<String>)> =
        statuses.iter().flat_map(|s| families.iter().map(move |f| (s.clone(), f.clone()))).collect();
    futures::stream::iter(listings)
        .map(move |(status, family)| listing(ctx.clone(), status, family))
        .flatten_unordered(DEFAULT_CONCURRENCY)
        .boxed()
}

/// One status (and family) listed 100 per page; described when detail columns are read.
fn listing(
    ctx: FetchContext,
    status: String,
    family: Option<String>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let detail = ctx.needs_any(DETAIL_COLUMNS);
    let ecs = clients::ecs(ctx.aws());
    let listed_status = TaskDefinitionStatus::from(status.as_str());
    ctx.paginate(
        "ecs:ListTaskDefinitions",
        move |token| {
            ecs.list_task_definitions()
                .status(listed_status.clone())
                .set_family_prefix(family.clone())
                .max_results(100)
                .set_next_token(token)
                .send()
        },
        |out| out.next_token().map(str::to_string),
    )
    .and_then(move |out| {
        let (ctx, status) = (ctx.clone(), status.clone());
        async move {
            let arns = out.task_definition_arns();
            if detail {
                describe_page(&ctx, arns.to_vec()).await
            } else {
                let rows: Vec<Row> = arns.iter().map(|a| Row::listed(a, &status)).collect();
                ctx.batch(&rows)
            }
        }
    })
    .boxed()
}
