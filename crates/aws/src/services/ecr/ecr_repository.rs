//! `aws_ecr_repository`: ECR repositories in every connection.
//!
//! ```sql
//! SELECT account_id, region, repository_name, created_at FROM aws_ecr_repository;
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::LazyLock;

use aws_sdk_ecr::types::Repository;
use datafusion::arrow::array::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::describe_each;
use skyglue_core::spec::{text, text_map, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::throttle::{Bucket, RateLimits, bucket, unpublished};
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use crate::{clients, services, time};

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["ecr:DescribeRepositories", "ecr:ListTagsForResource"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_ecr_repository",
    description: "ECR private repositories.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[
        ("ecr:DescribeRepositories", "RepositoryNotFoundException"),
        ("ecr:ListTagsForResource", "RepositoryNotFoundException"),
    ],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

skyglue_core::columns! {
    struct Row<'a> {
        registry_id: Option<&'a str> => (text(), "The registry (account) that owns the repository."),
        repository_name: Option<&'a str> => (text(), "The repository's name.").optional_key(),
        arn: Option<&'a str> => (text(), "The repository's ARN."),
        repository_uri: Option<&'a str> => (text(), "The URI to push and pull images with."),
        created_at: Option<i64> => (timestamp(), "When the repository was created."),
        image_tag_mutability: Option<&'a str> => (text(), "MUTABLE or IMMUTABLE tags."),
        tags: Option<BTreeMap<String, String>> => (
            text_map(),
            "Resource tags (one ListTagsForResource per repository, only when read): tags['github_repository'].",
        ),
    }
}

/// The `aws_ecr_repository` table.
#[derive(Debug)]
pub struct EcrRepository;

impl ApiTable for EcrRepository {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        100
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let with_tags = ctx.needs("tags");
        list(&ctx)
            .and_then(move |repos| {
                let ctx = ctx.clone();
                async move {
                    let tags = match with_tags {
                        true => tags_of(&ctx, &repos).await?,
                        false => HashMap::new(),
                    };
                    let rows: Vec<Row> = repos
                        .iter()
                        .map(|r| Row {
                            registry_id: r.registry_id(),
                            repository_name: r.repository_name(),
                            arn: r.repository_arn(),
                            repository_uri: r.repository_uri(),
                            created_at: time::micros(r.created_at()),
                            image_tag_mutability: r.image_tag_mutability().map(|m| m.as_str()),
                            tags: r.repository_arn().and_then(|arn| tags.get(arn).cloned()),
                        })
                        .collect();
                    ctx.batch(&rows)
                }
            })
            .boxed()
    }
}

/// Each repository's tags by ARN, one ListTagsForResource per repository.
async fn tags_of(
    ctx: &FetchContext,
    repos: &[Repository],
) -> Result<HashMap<String, BTreeMap<String, String>>> {
    let ecr = clients::ecr(ctx.aws());
    let arns: Vec<String> = repos.iter().filter_map(|r| r.repository_arn().map(str::to_string)).collect();
    let found = describe_each(arns, DEFAULT_CONCURRENCY, |arn| {
        let req = ecr.list_tags_for_resource().resource_arn(&arn);
        async move {
            let out = ctx.call("ecr:ListTagsForResource", || req.clone().send()).await?;
            Ok(out.map(|o| {
                let tags = o.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
                (arn, tags)
            }))
        }
    })
    .await?;
    Ok(found.into_iter().collect())
}

/// Pages of repositories: one named repository, or every repository (1000
/// per page). Several names are listed rather than described: one unknown
/// name fails a DescribeRepositories call for all of them, and a join can
/// hand us names from every connection. `aws_ecr_image` walks the same list.
pub fn list(ctx: &FetchContext) -> BoxStream<'static, Result<Vec<Repository>>> {
    let ecr = clients::ecr(ctx.aws());
    match ctx.keys.get("repository_name") {
        Some([name]) => {
            let (ctx, req) = (ctx.clone(), ecr.describe_repositories().repository_names(name));
            futures::stream::once(async move {
                let out = ctx.call("ecr:DescribeRepositories", || req.clone().send()).await?;
                Ok(out.map(|o| o.repositories().to_vec()).unwrap_or_default())
            })
            .boxed()
        }
        names => {
            let wanted = names.map(<[String]>::to_vec);
            ctx.paginate(
                "ecr:DescribeRepositories",
                move |token| ecr.describe_repositories().max_results(1000).set_next_token(token).send(),
                |out| out.next_token().map(str::to_string),
            )
            .map_ok(move |out| {
                let named = |r: &&Repository| {
                    wanted
                        .as_ref()
                        .is_none_or(|w| r.repository_name().is_some_and(|n| w.iter().any(|x| x == n)))
                };
                out.repositories().iter().filter(named).cloned().collect()
            })
            .boxed()
        }
    }
}

/// The environment variable that sets the ECR rate (requests per second per
/// connection; `0` turns the ECR limit off). Default 20.
pub const ECR_RATE_ENV: &str = "SKYGLUE_ECR_RPS";

/// ECR publishes no rate for its read APIs (research/api-limits.md): every
/// operation shares one adaptive bucket that starts at 20 requests per second
/// and grows while ECR answers, halving when it throttles
/// ([`skyglue_core::throttle`]); `$SKYGLUE_ECR_RPS` makes it a fixed ceiling
/// of that many instead. UpdateImageStorageClass (archive and restore, one
/// image per call) has its own bucket, fixed at half that rate.
pub static ECR: RateLimits = RateLimits { service: "ecr", bucket: ecr_bucket };

fn ecr_bucket(operation: &str) -> Option<Bucket> {
    static RATE: LazyLock<Option<u32>> =
        LazyLock::new(|| std::env::var(ECR_RATE_ENV).ok().and_then(|v| v.trim().parse::<u32>().ok()));
    let rate = RATE.unwrap_or(20);
    if rate == 0 {
        return None;
    }
    Some(match operation {
        // One image per call, and no published rate either: the archive and
        // restore sinks get a bucket of their own, half the shared rate, so a
        // large archive run leaves room for the reads beside it.
        "UpdateImageStorageClass" => bucket("ecr storage class", (rate / 2).max(1), (rate / 2).max(1)),
        _ if RATE.is_some() => bucket("ecr", rate, rate),
        _ => unpublished("ecr", rate, rate),
    })
}
