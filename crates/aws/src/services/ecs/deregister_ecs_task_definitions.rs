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
//! which keeps it from starving deploys. Its check (`task_definition_check`)
//! resolves every row to one revision, its full ARN, `account_id` and
//! `region`, and keeps the revisions in use; the sink acts exactly there.
//!
//! An already-INACTIVE revision is done: moto and the sandbox answer its
//! deregistration with success and the INACTIVE revision, and the ECS API
//! reference documents no error for it. A revision is done only when the
//! answer shows it INACTIVE. A call that fails after its retries is followed
//! by a DescribeTaskDefinition: done when the revision is INACTIVE after all,
//! failed when it is still ACTIVE, unknown when the lookup fails.

use std::sync::Arc;

use async_trait::async_trait;
use skyglue_core::sink::{ActionLog, Checked, Description, Outcome, Presence, Sink, Target};
use skyglue_core::{AwsConnection, Connections, Engine, Result};

use super::common::{self, Item, outcomes_for, send};
use super::task_definition_check::locate;

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

    fn describe(&self) -> Description {
        crate::descriptions::TASK_DEFINITIONS
    }

    fn optional_columns(&self) -> &[&str] {
        &["account_id", "region"]
    }

    /// The family (in its account and region).
    fn recheck_group(&self, target: &Target) -> Option<String> {
        Some(super::task_definition_check::family_group(target))
    }

    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
        crate::services::declare_limits(engine.connections());
        super::task_definition_check::check(engine, targets).await
    }

    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome> {
        let (groups, mut outcomes) =
            crate::services::open_apply(connections, targets, OPERATION, log, locate).await;
        for group in &groups {
            for item in &group.items {
                outcomes.extend(deregister(connections, &group.conn, item, log).await);
            }
        }
        outcomes
    }

    /// DescribeTaskDefinition: INACTIVE (or being deleted) is gone.
    async fn confirm(&self, connections: &Arc<Connections>, targets: &[Target]) -> Vec<Presence> {
        crate::services::declare_limits(connections);
        super::reread::task_definitions(connections, targets, &["INACTIVE", "DELETE_IN_PROGRESS"]).await
    }
}

/// Deregisters one revision, logged; the outcome of each of its targets
/// (all done, or all failed or unknown with the reason).
pub(crate) async fn deregister(
    connections: &Connections,
    conn: &AwsConnection,
    item: &Item,
    log: &dyn ActionLog,
) -> Vec<Outcome> {
    if let Err(reason) = common::intent(log, OPERATION, &item.targets).await {
        return common::fail_all(&item.targets, &reason);
    }
    let request = crate::clients::ecs(conn).deregister_task_definition().task_definition(&item.id);
    let outcomes = match send(connections, conn, OPERATION, || request.clone().send()).await {
        // Done only when ECS answers with the revision INACTIVE.
        Ok(out) => outcomes_for(
            &item.targets,
            &match out.task_definition().and_then(|td| td.status()).map(|s| s.as_str()) {
                Some("INACTIVE") => Ok(()),
                Some(status) => {
                    Err(format!("DeregisterTaskDefinition answered, but the revision is {status}"))
                }
                None => Err("DeregisterTaskDefinition answered without the revision's status".to_string()),
            },
        ),
        // The call may have taken effect before failing: look.
        Err(e) => {
            let done = ["INACTIVE", "DELETE_IN_PROGRESS"];
            let presence = super::reread::task_definitions(connections, &item.targets, &done).await;
            super::reread::after_call_error(&item.targets, &presence, &e.to_string())
        }
    };
    common::outcome(log, OPERATION, outcomes)
}
