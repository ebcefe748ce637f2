//! What the ECS tables share: walking clusters, and ARN parsing.

use futures::StreamExt;
use futures::stream::BoxStream;
use skyglue_core::{FetchContext, Result};

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
}
