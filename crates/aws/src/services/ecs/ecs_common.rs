//! What the ECS tables share: ECS's published rate limits, walking clusters,
//! the `failures` of describe calls, and ARN parsing.

use aws_sdk_ecs::types::Failure;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::error::one_line;
use skyglue_core::throttle::{Bucket, RateLimits, bucket};
use skyglue_core::{Error, FetchContext, Result};

use crate::clients;

/// ECS's published token buckets, per account and region, shared by groups
/// of operations (research/api-limits.md, A2).
pub static ECS: RateLimits = RateLimits { service: "ecs", bucket: ecs_bucket };

fn ecs_bucket(operation: &str) -> Option<Bucket> {
    Some(match operation {
        "ListClusters" | "DescribeClusters" => bucket("ecs cluster read", 50, 20),
        "ListServices" | "DescribeServices" => bucket("ecs service read", 100, 20),
        "ListTasks" | "DescribeTasks" => bucket("ecs cluster resource read", 100, 20),
        "ListTaskDefinitions" | "ListTaskDefinitionFamilies" | "DescribeTaskDefinition" => {
            bucket("ecs task definition read", 50, 20)
        }
        "DeregisterTaskDefinition" | "RegisterTaskDefinition" => bucket("ecs task definition modify", 20, 1),
        "DeleteTaskDefinitions" => bucket("ecs task definition deletion", 5, 1),
        // Everything else ECS documents under its "other" read bucket.
        _ => bucket("ecs other", 50, 20),
    })
}

/// Cluster ARNs to visit: the ones the query names, or every cluster (100
/// per page), listed once per connection and query however many scans of the
/// query walk clusters (the in-use view reads services and tasks).
pub fn cluster_arns(ctx: &FetchContext) -> BoxStream<'static, Result<String>> {
    if let Some(arns) = ctx.keys.get("cluster_arn") {
        return futures::stream::iter(arns.to_vec()).map(Ok).boxed();
    }
    let ctx = ctx.clone();
    futures::stream::once(async move {
        let listing = || {
            let ecs = clients::ecs(ctx.aws());
            ctx.paginate(
                "ecs:ListClusters",
                move |token| ecs.list_clusters().max_results(100).set_next_token(token).send(),
                |out| out.next_token().map(str::to_string),
            )
            .map_ok(|out| futures::stream::iter(out.cluster_arns().to_vec()).map(Ok))
            .try_flatten()
            .try_collect::<Vec<String>>()
        };
        let arns = ctx.listed_once("ecs:ListClusters", listing).await?;
        Ok::<_, Error>(futures::stream::iter(arns.as_ref().clone()).map(Ok))
    })
    .try_flatten()
    .boxed()
}

/// Fails the scan on the first `failures` entry of a describe call.
///
/// DescribeClusters, DescribeServices and DescribeTasks answer what they could
/// describe and list the rest as failures; skipping those would silently drop
/// rows (and shrink what counts as in use). The error names the operation, the
/// connection, the ARN and ECS's reason.
pub fn check_failures(ctx: &FetchContext, operation: &str, failures: &[Failure]) -> Result<()> {
    let Some(failure) = failures.first() else { return Ok(()) };
    Err(Error::Api {
        operation: operation.to_string(),
        connection: ctx.aws().label(),
        detail: failure_detail(failure, failures.len()),
    })
}

/// `<arn>: <reason> (<detail>)`, and how many more failed.
fn failure_detail(failure: &Failure, count: usize) -> String {
    let arn = failure.arn().unwrap_or("(no ARN)");
    let reason = failure.reason().unwrap_or("no reason given");
    let mut detail = format!("could not describe {arn}: {reason}");
    if let Some(more) = failure.detail().filter(|d| !d.is_empty()) {
        detail.push_str(&format!(" ({more})"));
    }
    if count > 1 {
        detail.push_str(&format!(", and {} more", count - 1));
    }
    one_line(&detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_share_their_published_buckets() {
        assert_eq!(ECS.bucket("DescribeServices"), ECS.bucket("ListServices"));
        assert_eq!(ECS.bucket("DescribeTaskDefinition").map(|b| (b.burst, b.per_second)), Some((50, 20)));
        assert_eq!(ECS.bucket("DeleteTaskDefinitions").map(|b| (b.burst, b.per_second)), Some((5, 1)));
        assert!(ECS.bucket("TagResource").is_some(), "no ECS operation runs unthrottled");
    }

    #[test]
    fn a_failure_names_the_arn_and_reason() {
        let arn = "arn:aws:ecs:us-east-1:1:service/main/web";
        let f = Failure::builder().arn(arn).reason("MISSING").build();
        assert_eq!(failure_detail(&f, 1), format!("could not describe {arn}: MISSING"));
        let f = Failure::builder().arn(arn).reason("AccessDenied").detail("not\nallowed").build();
        assert_eq!(
            failure_detail(&f, 3),
            format!("could not describe {arn}: AccessDenied (not allowed), and 2 more")
        );
    }
}
