//! `deregister_ecs_task_definitions`: marks ECS task definition revisions INACTIVE.
//!
//! ```sql
//! -- @action: deregister_ecs_task_definitions
//! SELECT task_definition_arn FROM aws_ecs_task_definition
//! WHERE family = 'web' AND status = 'ACTIVE' AND registered_at < days_ago(90);
//! ```
//!
//! The API takes one revision per call and shares a 20-burst, 1-per-second
//! bucket with `RegisterTaskDefinition`, so every call waits for the client-side
//! limiter: a long run takes about a second per revision past the first twenty,
//! which keeps it from starving deploys. The connection is the row's
//! `account_id` and `region`, else the ones in the ARN.
//!
//! An already-INACTIVE revision is done: moto and the sandbox answer its
//! deregistration with success and the INACTIVE revision, and the ECS API
//! reference documents no error for it, so success is all this sink checks.

use std::sync::Arc;

use async_trait::async_trait;
use skyglue_core::sink::{ActionLog, Outcome, Sink, Target};
use skyglue_core::{AwsConnection, Connections};

use super::common::{self, Item, Locator, outcomes_for, required, send};

const OPERATION: &str = "ecs:DeregisterTaskDefinition";

/// Deregisters ECS task definition revisions.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeregisterEcsTaskDefinitions;

#[async_trait]
impl Sink for DeregisterEcsTaskDefinitions {
    fn action(&self) -> &str {
        "deregister_ecs_task_definitions"
    }

    fn required_columns(&self) -> &[&str] {
        &["task_definition_arn"]
    }

    fn optional_columns(&self) -> &[&str] {
        &["account_id", "region"]
    }

    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome> {
        let plan = common::plan(connections, targets, locate).await;
        common::log_unreachable(log, OPERATION, &plan.unreachable);
        let mut outcomes = plan.unreachable;
        for group in &plan.groups {
            for item in &group.items {
                let result = deregister(connections, &group.conn, item, log).await;
                outcomes.extend(outcomes_for(&item.targets, &result));
            }
        }
        outcomes
    }
}

/// Deregisters one revision, logged; the error is the reason it failed.
pub(crate) async fn deregister(
    connections: &Connections,
    conn: &AwsConnection,
    item: &Item,
    log: &dyn ActionLog,
) -> Result<(), String> {
    common::intent(log, OPERATION, &item.targets)?;
    let request = crate::clients::ecs(conn).deregister_task_definition().task_definition(&item.id);
    let result = match send(connections, conn, OPERATION, || request.clone().send()).await {
        Ok(_) => Ok(()),
        Err(e) => Err(skyglue_core::error::one_line(&e.to_string())),
    };
    common::outcome(log, OPERATION, outcomes_for(&item.targets, &result));
    result
}

/// A task definition row's connection: its `account_id` and `region` columns,
/// else the ones its ARN names.
pub(crate) fn locate(target: &Target) -> Result<Locator<()>, String> {
    let arn = required(target, "task_definition_arn")?;
    let (region, account) = arn_location(&arn).unzip();
    Ok(Locator {
        account: target.get("account_id").map(str::to_string).or(account),
        region: target.get("region").map(str::to_string).or(region),
        scope: (),
        id: arn,
    })
}

/// `(region, account)` of `arn:<partition>:ecs:<region>:<account>:task-definition/<family>:<rev>`.
fn arn_location(arn: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "ecs", region, account, resource]
            if !region.is_empty() && !account.is_empty() && resource.starts_with("task-definition/") =>
        {
            Some((region.to_string(), account.to_string()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_arn_names_the_region_and_account() {
        let arn = "arn:aws:ecs:eu-west-1:222222222222:task-definition/web:7";
        assert_eq!(arn_location(arn), Some(("eu-west-1".into(), "222222222222".into())));
        assert_eq!(arn_location("web:7"), None);
        assert_eq!(arn_location("arn:aws:ecs:eu-west-1:2:service/c/web"), None);
    }

    #[test]
    fn row_columns_win_over_the_arn() {
        let t = Target::from_pairs([
            ("task_definition_arn", "arn:aws:ecs:eu-west-1:222222222222:task-definition/web:7"),
            ("region", "us-east-1"),
        ]);
        let loc = locate(&t).ok();
        assert_eq!(loc.as_ref().and_then(|l| l.region.as_deref()), Some("us-east-1"));
        assert_eq!(loc.as_ref().and_then(|l| l.account.as_deref()), Some("222222222222"));
    }
}
