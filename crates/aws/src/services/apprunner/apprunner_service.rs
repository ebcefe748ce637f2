//! `aws_apprunner_service`: App Runner services and the image each runs.
//!
//! ```sql
//! SELECT service_name, status, image FROM aws_apprunner_service;
//! ```
//!
//! ListServices pages 20 at a time (its maximum); the image and timestamps
//! need one DescribeService per service, made only when the query reads them.
//! App Runner is not offered in every region: `[in_use] sources` leaves it
//! out unless listed.

use std::sync::LazyLock;

use aws_sdk_apprunner::types::Service;
use datafusion::arrow::array::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::describe_each;
use skyglue_core::spec::{text, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::throttle::{Bucket, RateLimits, bucket};
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use crate::{clients, services, time};

/// App Runner publishes no API rates: a conservative bucket.
pub static APPRUNNER: RateLimits = RateLimits { service: "apprunner", bucket: apprunner_bucket };

fn apprunner_bucket(_operation: &str) -> Option<Bucket> {
    Some(bucket("apprunner", 10, 5))
}

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["apprunner:ListServices", "apprunner:DescribeService"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_apprunner_service",
    description: "App Runner services and the image repository each is built from.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[("apprunner:DescribeService", "ResourceNotFoundException")],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

/// Columns only DescribeService returns.
const DETAIL_COLUMNS: &[&str] = &["image", "image_repository_type"];

skyglue_core::columns! {
    #[derive(Default)]
    struct Row<'a> {
        service_arn: Option<&'a str> => (text(), "The service's ARN.").optional_key(),
        service_name: Option<&'a str> => (text(), "The service's name."),
        status: Option<&'a str> => (text(), "RUNNING, PAUSED, OPERATION_IN_PROGRESS, ..."),
        service_url: Option<&'a str> => (text(), "The service's public URL."),
        image: Option<&'a str> => (text(), "The image identifier of an image-based service."),
        image_repository_type: Option<&'a str> => (text(), "ECR or ECR_PUBLIC."),
        created_at: Option<i64> => (timestamp(), "When the service was created."),
        updated_at: Option<i64> => (timestamp(), "When the service was last updated."),
    }
}

impl<'a> Row<'a> {
    fn described(s: &'a Service) -> Self {
        let repo = s.source_configuration().and_then(|c| c.image_repository());
        Row {
            service_arn: Some(s.service_arn()),
            service_name: Some(s.service_name()),
            status: Some(s.status().as_str()),
            service_url: s.service_url(),
            image: repo.map(|r| r.image_identifier()),
            image_repository_type: repo.map(|r| r.image_repository_type().as_str()),
            created_at: time::micros(Some(s.created_at())),
            updated_at: time::micros(Some(s.updated_at())),
        }
    }
}

/// The `aws_apprunner_service` table.
#[derive(Debug)]
pub struct AppRunnerService;

impl ApiTable for AppRunnerService {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        100
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        if let Some(arns) = ctx.keys.get("service_arn") {
            let arns = arns.to_vec();
            return futures::stream::once(async move { describe_page(&ctx, arns).await }).boxed();
        }
        let detail = ctx.needs_any(DETAIL_COLUMNS);
        let apprunner = clients::apprunner(ctx.aws());
        ctx.paginate(
            "apprunner:ListServices",
            move |token| apprunner.list_services().max_results(20).set_next_token(token).send(),
            |out| out.next_token().map(str::to_string),
        )
        .and_then(move |out| {
            let ctx = ctx.clone();
            async move {
                let summaries = out.service_summary_list();
                if detail {
                    let arns = summaries.iter().filter_map(|s| s.service_arn().map(str::to_string)).collect();
                    return describe_page(&ctx, arns).await;
                }
                let rows: Vec<Row> = summaries
                    .iter()
                    .map(|s| Row {
                        service_arn: s.service_arn(),
                        service_name: s.service_name(),
                        status: s.status().map(|s| s.as_str()),
                        service_url: s.service_url(),
                        created_at: time::micros(s.created_at()),
                        updated_at: time::micros(s.updated_at()),
                        ..Row::default()
                    })
                    .collect();
                ctx.batch(&rows)
            }
        })
        .boxed()
    }
}

/// Describes `arns` concurrently; a service gone meanwhile is no row.
async fn describe_page(ctx: &FetchContext, arns: Vec<String>) -> Result<RecordBatch> {
    let apprunner = clients::apprunner(ctx.aws());
    let services: Vec<Service> = describe_each(arns, DEFAULT_CONCURRENCY, |arn| {
        let req = apprunner.describe_service().service_arn(arn);
        async move {
            let out = ctx.call("apprunner:DescribeService", || req.clone().send()).await?;
            Ok(out.and_then(|o| o.service().cloned()))
        }
    })
    .await?;
    let rows: Vec<Row> = services.iter().map(Row::described).collect();
    ctx.batch(&rows)
}
