//! `delete_ecs_task_definitions`: deletes ECS task definition revisions,
//! deregistering the ACTIVE ones on the way.
//!
//! ```sql
//! -- @action: delete_ecs_task_definitions
//! SELECT task_definition_arn FROM aws_ecs_task_definition
//! WHERE status = 'INACTIVE' AND deregistered_at < days_ago(30);
//! ```
//!
//! `DeleteTaskDefinitions` takes 10 revisions per call but refuses ACTIVE ones.
//! Learning which are ACTIVE would cost one `DescribeTaskDefinition` each, and
//! deregistering every row first would cost one `DeregisterTaskDefinition`
//! each from the 1-per-second bucket that deploys share. So this sink deletes
//! first, deregisters only the revisions that call refused, and deletes those
//! again: for N rows of which A are ACTIVE that is ceil(N/10) + A + ceil(A/10)
//! calls, against N + ceil(N/10) for deregistering every row and
//! N + A + ceil(N/10) for describing every row.
//!
//! ECS words the refusal of an ACTIVE revision as free text, so any per-revision
//! refusal is retried this way; a revision refused for another reason is refused
//! again, and its second reason is the one reported. A failed call is not
//! retried: its revisions are looked up (DescribeTaskDefinition) and are done
//! when being deleted after all, failed when not, unknown when the lookup fails.
//! A revision the answer mentions neither as deleted nor as failed is looked
//! up (DescribeTaskDefinition): it is done only if ECS says it is being deleted.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ecs::operation::delete_task_definitions::DeleteTaskDefinitionsOutput;
use skyglue_core::sink::{ActionLog, Checked, Description, Outcome, Presence, Sink, Status, Target};
use skyglue_core::{AwsConnection, Connections, Engine, Result};

use skyglue_core::arn::family_and_revision;
use skyglue_core::error::one_line;

use super::common::{self, Item, send, targets_of};
use super::deregister_ecs_task_definitions::deregister;
use super::task_definition_check::locate;

/// The API allows 10 revisions per call.
const BATCH: usize = 10;
const OPERATION: &str = "ecs:DeleteTaskDefinitions";

/// Deletes ECS task definition revisions.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeleteEcsTaskDefinitions;

/// What one call said about one revision.
enum Verdict {
    Deleted,
    /// The call answered with a failure for this revision: worth deregistering and retrying.
    Refused(String),
    /// The call itself failed, or the answer was unusable: final.
    Failed(String),
    /// The answer did not mention it: to be looked up before anything is said.
    Unconfirmed,
    /// The call failed after its retries and a re-read said what became of
    /// it (done, failed or unknown, and why): final.
    Settled(Option<(Status, Option<String>)>),
}

#[async_trait]
impl Sink for DeleteEcsTaskDefinitions {
    fn action(&self) -> &str {
        "delete_ecs_task_definitions"
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
            let items: Vec<&Item> = group.items.iter().collect();
            let mut refused = Vec::new();
            for batch in items.chunks(BATCH) {
                for (item, verdict) in delete_batch(connections, &group.conn, batch, log).await {
                    match verdict {
                        Verdict::Refused(reason) => refused.push((item, reason)),
                        verdict => outcomes.extend(outcomes_of(item, &verdict)),
                    }
                }
            }
            let mut retry = Vec::new();
            for (item, reason) in refused {
                let deregistered = deregister(connections, &group.conn, item, log).await;
                match deregistered.iter().find(|o| o.status != Status::Done) {
                    None => retry.push(item),
                    Some(not) => {
                        let e = not.reason.as_deref().unwrap_or("no reason given");
                        let reason = format!("{reason}; deregistering it failed: {e}");
                        outcomes.extend(common::fail_all(&item.targets, &reason));
                    }
                }
            }
            for batch in retry.chunks(BATCH) {
                for (item, verdict) in delete_batch(connections, &group.conn, batch, log).await {
                    outcomes.extend(outcomes_of(item, &verdict));
                }
            }
        }
        outcomes
    }

    /// DescribeTaskDefinition: DELETE_IN_PROGRESS is gone.
    async fn confirm(&self, connections: &Arc<Connections>, targets: &[Target]) -> Vec<Presence> {
        crate::services::declare_limits(connections);
        super::reread::task_definitions(connections, targets, &["DELETE_IN_PROGRESS"]).await
    }
}

/// One logged `DeleteTaskDefinitions` of up to 10 revisions.
async fn delete_batch<'a>(
    connections: &Connections,
    conn: &AwsConnection,
    batch: &[&'a Item],
    log: &dyn ActionLog,
) -> Vec<(&'a Item, Verdict)> {
    let fail = |reason: &str| batch.iter().map(|item| (*item, Verdict::Failed(reason.to_string()))).collect();
    let targets = targets_of(batch.iter().copied());
    if let Err(reason) = common::intent(log, OPERATION, &targets).await {
        return fail(&reason);
    }
    let arns = batch.iter().map(|item| item.id.clone()).collect();
    let request = crate::clients::ecs(conn).delete_task_definitions().set_task_definitions(Some(arns));
    let mut verdicts = match send(connections, conn, OPERATION, || request.clone().send()).await {
        Ok(out) => judge(batch, &out),
        // The call may have deleted them before failing: look.
        Err(e) => {
            let presence =
                super::reread::task_definitions(connections, &targets, &["DELETE_IN_PROGRESS"]).await;
            let settled = super::reread::after_call_error(&targets, &presence, &e.to_string());
            let logged = common::outcome(log, OPERATION, settled);
            return batch
                .iter()
                .map(|item| {
                    let of_item = logged.iter().find(|o| item.targets.contains(&o.target));
                    (*item, Verdict::Settled(of_item.map(|o| (o.status, o.reason.clone()))))
                })
                .collect();
        }
    };
    for (item, verdict) in &mut verdicts {
        if matches!(verdict, Verdict::Unconfirmed) {
            *verdict = confirm(connections, conn, item).await;
        }
    }
    let logged = verdicts.iter().flat_map(|(item, verdict)| outcomes_of(item, verdict)).collect();
    common::outcome(log, OPERATION, logged);
    verdicts
}

/// Matches the answer to the request by family and revision, since ECS may echo
/// either the ARN it was given or its own.
fn judge<'a>(batch: &[&'a Item], out: &DeleteTaskDefinitionsOutput) -> Vec<(&'a Item, Verdict)> {
    let deleted: HashSet<(&str, i64)> = out
        .task_definitions()
        .iter()
        .filter_map(|td| td.task_definition_arn().and_then(family_and_revision))
        .collect();
    let refused: HashMap<(&str, i64), String> = out
        .failures()
        .iter()
        .filter_map(|f| {
            let reason = [f.reason(), f.detail()].into_iter().flatten().collect::<Vec<_>>().join(": ");
            Some((family_and_revision(f.arn()?)?, one_line(&reason)))
        })
        .collect();
    batch
        .iter()
        .map(|item| {
            // A name that does not parse matches nothing: the re-read settles it.
            let name = family_and_revision(&item.id);
            let verdict =
                match (name.is_some_and(|n| deleted.contains(&n)), name.and_then(|n| refused.get(&n))) {
                    (true, _) => Verdict::Deleted,
                    (false, Some(reason)) => Verdict::Refused(reason.clone()),
                    (false, None) => Verdict::Unconfirmed,
                };
            (*item, verdict)
        })
        .collect()
}

const UNMENTIONED: &str = "DeleteTaskDefinitions reported neither a deletion nor a failure";

/// Looks up a revision the answer did not mention: deleted only when ECS says
/// it is DELETE_IN_PROGRESS, else failed with what ECS says it is.
async fn confirm(connections: &Connections, conn: &AwsConnection, item: &Item) -> Verdict {
    let request = crate::clients::ecs(conn).describe_task_definition().task_definition(&item.id);
    match send(connections, conn, "ecs:DescribeTaskDefinition", || request.clone().send()).await {
        Ok(out) => match out.task_definition().and_then(|td| td.status()).map(|s| s.as_str()) {
            Some("DELETE_IN_PROGRESS") => Verdict::Deleted,
            Some(status) => Verdict::Failed(format!("{UNMENTIONED}, and it is still {status}")),
            None => Verdict::Failed(format!("{UNMENTIONED}, and ECS did not say what it is")),
        },
        Err(e) => {
            Verdict::Failed(format!("{UNMENTIONED}, and looking it up failed: {}", one_line(&e.to_string())))
        }
    }
}

/// The outcome of each target of `item`.
fn outcomes_of(item: &Item, verdict: &Verdict) -> Vec<Outcome> {
    match verdict {
        Verdict::Deleted => common::outcomes_for(&item.targets, &Ok(())),
        Verdict::Refused(reason) | Verdict::Failed(reason) => common::fail_all(&item.targets, reason),
        Verdict::Unconfirmed => common::fail_all(&item.targets, UNMENTIONED),
        Verdict::Settled(Some((status, reason))) => item
            .targets
            .iter()
            .map(|t| Outcome { target: t.clone(), status: *status, reason: reason.clone() })
            .collect(),
        Verdict::Settled(None) => common::fail_all(&item.targets, "the re-read lost this revision"),
    }
}
