//! What the ECS tables share: walking clusters, the `failures` of describe
//! calls, and ARN parsing.

use aws_sdk_ecs::types::Failure;
use futures::StreamExt;
use futures::stream::BoxStream;
use skyglue_core::error::one_line;
use skyglue_core::{Error, FetchContext, Result};

use crate::clients;

/// Cluster ARNs to visit: the ones the query names, or every cluster (100 per page).
pub fn cluster_arns(ctx: &FetchContext) -> BoxStream<'static, Result<String>> {
    if let Some(arns) = ctx.keys.get("cluster_arn") {
        return futures::stream::iter(arns.to_vec()).map(Ok).boxed();
    }
    let ctx = ctx.clone();
    async_stream::try_stream! {
        let ecs = clients::ecs(ctx.aws());
        let mut token = None;
        loop {
            let req = ecs.list_clusters().max_results(100).set_next_token(token.take());
            let Some(out) = ctx.call("ecs:ListClusters", || req.clone().send()).await? else { break };
            for arn in out.cluster_arns() {
                yield arn.clone();
            }
            token = out.next_token().map(str::to_string);
            if token.is_none() {
                break;
            }
        }
    }
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

/// `family` and `revision` from `arn:aws:ecs:<region>:<acct>:task-definition/<family>:<revision>`.
pub fn task_definition_parts(arn: &str) -> Option<(&str, i64)> {
    let name = arn.rsplit_once('/').map_or(arn, |(_, n)| n);
    let (family, revision) = name.rsplit_once(':')?;
    Some((family, revision.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_task_definition_arns() {
        assert_eq!(
            task_definition_parts("arn:aws:ecs:us-east-1:111111111111:task-definition/web:42"),
            Some(("web", 42))
        );
        assert_eq!(task_definition_parts("web:7"), Some(("web", 7)));
        assert_eq!(task_definition_parts("arn:aws:ecs:us-east-1:1:task-definition/web"), None);
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
