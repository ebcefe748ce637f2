//! `aws_lambda_function`: Lambda functions, with the container image of each
//! image-packaged function's `$LATEST` code.
//!
//! ```sql
//! SELECT name, package_type, image_uri, resolved_image_uri FROM aws_lambda_function
//! WHERE package_type = 'Image';
//! ```
//!
//! ListFunctions pages 50 at a time (its maximum) and does not return image
//! URIs: they take one GetFunction per image function, made only when the
//! query reads them. Published versions that aliases route to are in
//! `aws_lambda_alias`.

use std::sync::LazyLock;

use aws_sdk_lambda::operation::get_function::GetFunctionOutput;
use aws_sdk_lambda::types::FunctionConfiguration;
use datafusion::arrow::array::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::describe_each;
use skyglue_core::spec::{text, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::throttle::{Bucket, RateLimits, bucket};
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use crate::{clients, services};

/// Lambda's published control-plane rates: GetFunction 100 per second, the
/// other control-plane calls 15 per second (per account and region).
pub static LAMBDA: RateLimits = RateLimits { service: "lambda", bucket: lambda_bucket };

fn lambda_bucket(operation: &str) -> Option<Bucket> {
    Some(match operation {
        "GetFunction" => bucket("lambda get function", 100, 100),
        _ => bucket("lambda control plane", 15, 15),
    })
}

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["lambda:ListFunctions", "lambda:GetFunction"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_lambda_function",
    description: "Lambda functions; image_uri is the $LATEST code of container-image functions.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[("lambda:GetFunction", "ResourceNotFoundException")],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

/// Columns only GetFunction returns.
const DETAIL_COLUMNS: &[&str] = &["image_uri", "resolved_image_uri"];

skyglue_core::columns! {
    struct Row<'a> {
        name: Option<&'a str> => (text(), "The function's name.").optional_key(),
        arn: Option<&'a str> => (text(), "The function's (unqualified) ARN."),
        package_type: Option<&'a str> => (text(), "Image or Zip."),
        runtime: Option<&'a str> => (text(), "The runtime of a Zip function."),
        last_modified: Option<i64> => (timestamp(), "When the function was last updated."),
        image_uri: Option<&'a str> => (text(), "The image of $LATEST, as configured (tag or digest)."),
        resolved_image_uri: Option<&'a str> => (
            text(),
            "The image of $LATEST by the digest Lambda resolved.",
        ),
    }
}

impl<'a> Row<'a> {
    fn new(f: &'a FunctionConfiguration, code: Option<&'a GetFunctionOutput>) -> Self {
        let location = code.and_then(|c| c.code());
        Row {
            name: f.function_name(),
            arn: f.function_arn(),
            package_type: f.package_type().map(|p| p.as_str()),
            runtime: f.runtime().map(|r| r.as_str()),
            last_modified: f.last_modified().and_then(lambda_time),
            image_uri: location.and_then(|l| l.image_uri()),
            resolved_image_uri: location.and_then(|l| l.resolved_image_uri()),
        }
    }
}

/// Lambda's `2024-05-01T12:00:00.000+0000` as microseconds.
pub(crate) fn lambda_time(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z").ok().map(|t| t.timestamp_micros())
}

/// Whether a function is packaged as a container image.
pub(crate) fn is_image(f: &FunctionConfiguration) -> bool {
    f.package_type().is_some_and(|p| p.as_str() == "Image")
}

/// The `aws_lambda_function` table.
#[derive(Debug)]
pub struct LambdaFunction;

impl ApiTable for LambdaFunction {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        500
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let detail = ctx.needs_any(DETAIL_COLUMNS);
        let names = ctx.keys.get("name").map(<[String]>::to_vec);
        functions(&ctx, names)
            .and_then(move |page| {
                let ctx = ctx.clone();
                async move {
                    let code = match detail {
                        true => get_functions(&ctx, page.iter().filter(|f| is_image(f)), None).await?,
                        false => vec![],
                    };
                    let rows: Vec<Row> = page
                        .iter()
                        .map(|f| {
                            let got = code.iter().find(|c| {
                                c.configuration().and_then(|c| c.function_name()) == f.function_name()
                            });
                            Row::new(f, got)
                        })
                        .collect();
                    ctx.batch(&rows)
                }
            })
            .boxed()
    }
}

/// The functions a per-function table reads, one by one: those its
/// `function_name` key names (else all), of the package types its
/// `package_type` key names (else every type; a function without one is Zip).
pub(crate) fn keyed_functions(ctx: &FetchContext) -> BoxStream<'static, Result<FunctionConfiguration>> {
    let package_types = ctx.keys.get("package_type").map(<[String]>::to_vec);
    let wanted = move |f: &FunctionConfiguration| {
        let kind = f.package_type().map(|p| p.as_str()).unwrap_or("Zip");
        package_types.as_ref().is_none_or(|p| p.iter().any(|t| t == kind))
    };
    functions(ctx, ctx.keys.get("function_name").map(<[String]>::to_vec))
        .map_ok(move |page| {
            let page: Vec<Result<FunctionConfiguration>> = page.into_iter().filter(&wanted).map(Ok).collect();
            futures::stream::iter(page)
        })
        .try_flatten()
        .boxed()
}

/// Pages of functions: the named ones (one GetFunction each), or every
/// function, 50 per page, listed once per connection and query.
pub(crate) fn functions(
    ctx: &FetchContext,
    names: Option<Vec<String>>,
) -> BoxStream<'static, Result<Vec<FunctionConfiguration>>> {
    let lambda = clients::lambda(ctx.aws());
    match names {
        Some(names) => {
            let ctx = ctx.clone();
            futures::stream::once(async move {
                let found = describe_each(names, DEFAULT_CONCURRENCY, |name| {
                    let req = lambda.get_function().function_name(name);
                    let ctx = &ctx;
                    async move {
                        let out = ctx.call("lambda:GetFunction", || req.clone().send()).await?;
                        Ok(out.and_then(|o| o.configuration().cloned()))
                    }
                })
                .await?;
                Ok(found)
            })
            .boxed()
        }
        None => {
            // The functions and aliases tables both start from this listing
            // (the in-use view reads both): listed once per connection and query.
            let ctx = ctx.clone();
            futures::stream::once(async move {
                let listing = || {
                    ctx.paginate(
                        "lambda:ListFunctions",
                        move |token| lambda.list_functions().max_items(50).set_marker(token).send(),
                        |out| out.next_marker().map(str::to_string),
                    )
                    .map_ok(|out| out.functions().to_vec())
                    .try_collect::<Vec<Vec<FunctionConfiguration>>>()
                };
                let pages = ctx.listed_once("lambda:ListFunctions", listing).await?;
                Ok(futures::stream::iter(pages.as_ref().clone()).map(Ok))
            })
            .try_flatten()
            .boxed()
        }
    }
}

/// GetFunction for each function (at `qualifier`, default `$LATEST`); a
/// function deleted meanwhile is left out.
pub(crate) async fn get_functions<'a>(
    ctx: &FetchContext,
    functions: impl Iterator<Item = &'a FunctionConfiguration>,
    qualifier: Option<&str>,
) -> Result<Vec<GetFunctionOutput>> {
    let lambda = clients::lambda(ctx.aws());
    let names: Vec<String> = functions.filter_map(|f| f.function_name().map(str::to_string)).collect();
    describe_each(names, DEFAULT_CONCURRENCY, |name| {
        let req = lambda.get_function().function_name(name).set_qualifier(qualifier.map(str::to_string));
        async move { ctx.call("lambda:GetFunction", || req.clone().send()).await }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lambda_timestamps() {
        assert_eq!(lambda_time("1970-01-01T00:00:01.500+0000"), Some(1_500_000));
        assert_eq!(lambda_time("not a time"), None);
    }
}
