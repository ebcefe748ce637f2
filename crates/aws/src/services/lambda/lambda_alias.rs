//! `aws_lambda_alias`: every Lambda alias, one row per version it routes to
//! (its main version, and a weighted additional version during a gradual
//! rollout), with that version's container image.
//!
//! ```sql
//! SELECT function_name, name, function_version, routing_weight, image_uri
//! FROM aws_lambda_alias WHERE package_type = 'Image';
//! ```
//!
//! Aliases are listed per function (ListAliases, 50 per page); a version's
//! image takes one GetFunction per distinct version, made only for image
//! functions and only when the query reads the image. `package_type` is a key:
//! `package_type = 'Image'` lists the aliases of image functions only.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use aws_sdk_lambda::types::{AliasConfiguration, FunctionConfiguration};
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::{describe_each, fan_out};
use skyglue_core::spec::text;
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use super::lambda_function::{is_image, keyed_functions};
use crate::{clients, services};

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["lambda:ListFunctions", "lambda:GetFunction", "lambda:ListAliases"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_lambda_alias",
    description: "Lambda aliases, one row per published version each routes to, with its image.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[
        ("lambda:ListAliases", "ResourceNotFoundException"),
        ("lambda:GetFunction", "ResourceNotFoundException"),
    ],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

const DETAIL_COLUMNS: &[&str] = &["image_uri", "resolved_image_uri"];

skyglue_core::columns! {
    struct Row<'a> {
        function_name: Option<&'a str> => (text(), "The function the alias belongs to.").optional_key(),
        package_type: Option<&'a str> => (
            text(),
            "The function's package type, Image or Zip.",
        ).optional_key(),
        name: Option<&'a str> => (text(), "The alias's name."),
        alias_arn: Option<&'a str> => (text(), "The alias's ARN."),
        function_version: &'a str => (text(), "A published version the alias routes to."),
        routing_weight: Option<f64> => (
            DataType::Float64,
            "The share of traffic of an additional version; NULL for the main one.",
        ),
        image_uri: Option<String> => (text(), "That version's image, as configured."),
        resolved_image_uri: Option<String> => (text(), "That version's image by digest."),
    }
}

/// The `aws_lambda_alias` table.
#[derive(Debug)]
pub struct LambdaAlias;

impl ApiTable for LambdaAlias {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        500
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let listed = keyed_functions(&ctx);
        fan_out(listed, DEFAULT_CONCURRENCY, move |function| function_aliases(ctx.clone(), function))
    }
}

/// One function's aliases, page by page, each with its versions' images.
fn function_aliases(
    ctx: FetchContext,
    function: FunctionConfiguration,
) -> BoxStream<'static, Result<RecordBatch>> {
    let lambda = clients::lambda(ctx.aws());
    let name = function.function_name().unwrap_or_default().to_string();
    let detail = is_image(&function) && ctx.needs_any(DETAIL_COLUMNS);
    ctx.paginate(
        "lambda:ListAliases",
        move |token| lambda.list_aliases().function_name(&name).max_items(50).set_marker(token).send(),
        |out| out.next_marker().map(str::to_string),
    )
    .and_then(move |out| {
        let (ctx, function) = (ctx.clone(), function.clone());
        async move {
            let routes: Vec<(&AliasConfiguration, &str, Option<f64>)> =
                out.aliases().iter().flat_map(routes).collect();
            let images = match detail {
                true => version_images(&ctx, &function, routes.iter().map(|r| r.1).collect()).await?,
                false => vec![],
            };
            let rows: Vec<Row> = routes
                .iter()
                .map(|(alias, version, weight)| {
                    let image = images.iter().find(|(v, _, _)| v == version);
                    Row {
                        function_name: function.function_name(),
                        package_type: function.package_type().map(|p| p.as_str()),
                        name: alias.name(),
                        alias_arn: alias.alias_arn(),
                        function_version: version,
                        routing_weight: *weight,
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

/// The versions an alias routes to: its main version, then each weighted one.
fn routes(alias: &AliasConfiguration) -> Vec<(&AliasConfiguration, &str, Option<f64>)> {
    let mut out: Vec<_> = alias.function_version().map(|v| (alias, v, None)).into_iter().collect();
    if let Some(weights) = alias.routing_config().and_then(|r| r.additional_version_weights()) {
        let mut extra: Vec<_> = weights.iter().map(|(v, w)| (alias, v.as_str(), Some(*w))).collect();
        extra.sort_by(|a, b| a.1.cmp(b.1));
        out.extend(extra);
    }
    out
}

/// `(version, image_uri, resolved_image_uri)` of each distinct version.
async fn version_images(
    ctx: &FetchContext,
    function: &FunctionConfiguration,
    versions: Vec<&str>,
) -> Result<Vec<(String, Option<String>, Option<String>)>> {
    let lambda = clients::lambda(ctx.aws());
    let name = function.function_name().unwrap_or_default();
    let versions: BTreeSet<String> = versions.into_iter().map(str::to_string).collect();
    describe_each(versions.into_iter().collect(), DEFAULT_CONCURRENCY, |version| {
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
