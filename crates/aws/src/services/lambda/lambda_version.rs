//! `aws_lambda_version`: every published version of every Lambda function,
//! with its container image. Any published version can be invoked by its
//! qualified ARN (`...:function:api:3`), alias or not, so each one's image is
//! in use.
//!
//! ```sql
//! SELECT function_name, version, image_uri FROM aws_lambda_version
//! WHERE package_type = 'Image';
//! ```
//!
//! Versions are listed per function, concurrently (ListVersionsByFunction,
//! 50 per page); `$LATEST` is left out (it is `aws_lambda_function`'s). A
//! version's image takes one GetFunction, made only for image functions and
//! only when the query reads the image. `package_type` is a key:
//! `package_type = 'Image'` lists the versions of image functions only.

use std::sync::LazyLock;

use aws_sdk_lambda::types::FunctionConfiguration;
use datafusion::arrow::array::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::{describe_each, fan_out};
use skyglue_core::spec::{text, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use super::lambda_function::{is_image, keyed_functions, lambda_time};
use crate::services::denied::in_use_denied_hint;
use crate::{clients, services};

/// The version ListVersionsByFunction lists first, which is not published.
const LATEST: &str = "$LATEST";

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["lambda:ListFunctions", "lambda:GetFunction", "lambda:ListVersionsByFunction"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_lambda_version",
    description: "Published Lambda function versions ($LATEST excluded), with each version's image.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[
        ("lambda:ListVersionsByFunction", "ResourceNotFoundException"),
        ("lambda:GetFunction", "ResourceNotFoundException"),
    ],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

const DETAIL_COLUMNS: &[&str] = &["image_uri", "resolved_image_uri"];

skyglue_core::columns! {
    struct Row<'a> {
        function_name: Option<&'a str> => (text(), "The function the version belongs to.").optional_key(),
        package_type: Option<&'a str> => (
            text(),
            "The function's package type, Image or Zip.",
        ).optional_key(),
        version: &'a str => (text(), "The published version's number."),
        arn: Option<&'a str> => (text(), "The version's qualified ARN."),
        last_modified: Option<i64> => (timestamp(), "When the version's code was deployed."),
        image_uri: Option<String> => (text(), "The version's image, as configured."),
        resolved_image_uri: Option<String> => (text(), "The version's image by digest."),
    }
}

/// The `aws_lambda_version` table.
#[derive(Debug)]
pub struct LambdaVersion;

impl ApiTable for LambdaVersion {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        2_000
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let listed = keyed_functions(&ctx);
        fan_out(listed, DEFAULT_CONCURRENCY, move |function| function_versions(ctx.clone(), function))
            .map_err(|e| in_use_denied_hint(e, "lambda"))
            .boxed()
    }
}

/// One function's published versions, page by page, each with its image.
fn function_versions(
    ctx: FetchContext,
    function: FunctionConfiguration,
) -> BoxStream<'static, Result<RecordBatch>> {
    let lambda = clients::lambda(ctx.aws());
    let name = function.function_name().unwrap_or_default().to_string();
    let detail = is_image(&function) && ctx.needs_any(DETAIL_COLUMNS);
    ctx.paginate(
        "lambda:ListVersionsByFunction",
        move |token| {
            lambda.list_versions_by_function().function_name(&name).max_items(50).set_marker(token).send()
        },
        |out| out.next_marker().map(str::to_string),
    )
    .and_then(move |out| {
        let (ctx, function) = (ctx.clone(), function.clone());
        async move {
            let published: Vec<&FunctionConfiguration> =
                out.versions().iter().filter(|v| v.version().is_some_and(|v| v != LATEST)).collect();
            let images = match detail {
                true => {
                    let versions = published.iter().filter_map(|v| v.version()).map(str::to_string).collect();
                    version_images(&ctx, &function, versions).await?
                }
                false => vec![],
            };
            let rows: Vec<Row> = published
                .iter()
                .map(|v| {
                    let version = v.version().unwrap_or_default();
                    let image = images.iter().find(|(n, _, _)| n == version);
                    Row {
                        function_name: function.function_name(),
                        package_type: function.package_type().map(|p| p.as_str()),
                        version,
                        arn: v.function_arn(),
                        last_modified: v.last_modified().and_then(lambda_time),
                        image_uri: image.and_then(|i| i.1.clone()),
                        resolved_image_uri: image.and_then(|i| i.2.clone()),
                    }
                })
                .collect();
            ctx.batch(&rows)
        }
    })
    .boxed()
}

/// `(version, image_uri, resolved_image_uri)` of each version: one
/// GetFunction per version, since the listing carries no code. A version
/// deleted meanwhile is left out.
async fn version_images(
    ctx: &FetchContext,
    function: &FunctionConfiguration,
    versions: Vec<String>,
) -> Result<Vec<(String, Option<String>, Option<String>)>> {
    let lambda = clients::lambda(ctx.aws());
    let name = function.function_name().unwrap_or_default();
    describe_each(versions, DEFAULT_CONCURRENCY, |version| {
        let req = lambda.get_function().function_name(name).qualifier(&version);
        async move {
            let out = ctx.call("lambda:GetFunction", || req.clone().send()).await?;
            Ok(out.map(|o| {
                let code = o.code();
                (
                    version,
                    code.and_then(|c| c.image_uri()).map(str::to_string),
                    code.and_then(|c| c.resolved_image_uri()).map(str::to_string),
                )
            }))
        }
    })
    .await
}
