//! `aws_ecs_scheduled_task`: ECS tasks that EventBridge rules and EventBridge
//! Scheduler schedules launch, with the task definition revision each pins.
//! Between runs no task exists, so only this table knows the revision (and
//! its images) is still needed.
//!
//! ```sql
//! SELECT source, name, state, schedule_expression, task_definition, task_definition_arn
//! FROM aws_ecs_scheduled_task;
//! ```
//!
//! Rules: ListEventBuses, then ListRules per bus and ListTargetsByRule per
//! rule (100 per page each); a target with `EcsParameters` launches a task.
//! Schedules: ListSchedules (every group, 100 per page) has no task
//! definitions, so each schedule whose target is an ECS cluster (or the
//! universal `aws-sdk:ecs:runTask` target) takes one GetSchedule,
//! concurrently and within Scheduler's rate. A target that names a family
//! alone runs its latest ACTIVE revision: one DescribeTaskDefinition per such
//! family says which.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use datafusion::arrow::array::RecordBatch;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::describe_each;
use skyglue_core::spec::text;
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use super::ecs_scheduled_task_read::{Launch, rule_launches, schedule_launches};
use crate::arn::TaskDefinitionName;
use crate::services::denied::in_use_denied_hint;
use crate::{clients, services};

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &[
    "events:ListEventBuses",
    "events:ListRules",
    "events:ListTargetsByRule",
    "scheduler:ListSchedules",
    "scheduler:GetSchedule",
    "ecs:DescribeTaskDefinition",
];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_ecs_scheduled_task",
    description: "ECS tasks that EventBridge rules and Scheduler schedules launch, with the revision each pins.",
    scope: Scope::Aws,
    columns: Row::columns(),
    not_found_codes: &[
        ("events:ListTargetsByRule", "ResourceNotFoundException"),
        ("scheduler:GetSchedule", "ResourceNotFoundException"),
        // A family without an ACTIVE revision: ECS could not start the task either.
        ("ecs:DescribeTaskDefinition", "ClientException"),
    ],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

skyglue_core::columns! {
    struct Row<'a> {
        source: &'static str => (
            text(),
            "events_rule (an EventBridge rule's target) or scheduler (a schedule).",
        ),
        name: &'a str => (text(), "The rule's or the schedule's name."),
        arn: Option<&'a str> => (text(), "The rule's or the schedule's ARN."),
        state: Option<&'a str> => (text(), "ENABLED or DISABLED (a disabled one can be enabled again)."),
        schedule_expression: Option<&'a str> => (
            text(),
            "cron(...), rate(...) or at(...); NULL for an event pattern.",
        ),
        cluster_arn: Option<&'a str> => (text(), "The cluster the task runs in."),
        task_definition: &'a str => (
            text(),
            "The task definition as the target names it: family, family:revision or ARN.",
        ),
        task_definition_arn: Option<&'a str> => (
            text(),
            "The revision it runs (a family alone: its latest ACTIVE revision; NULL when it has none).",
        ),
    }
}

/// The `aws_ecs_scheduled_task` table.
#[derive(Debug)]
pub struct EcsScheduledTask;

impl ApiTable for EcsScheduledTask {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        100
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let rules = rule_launches(ctx.clone());
        let schedules = schedule_launches(ctx.clone());
        futures::stream::select(rules, schedules)
            .and_then(move |launches| {
                let ctx = ctx.clone();
                async move {
                    let resolved = resolve(&ctx, &launches).await?;
                    let rows: Vec<Row> = launches
                        .iter()
                        .map(|l| Row {
                            source: l.source,
                            name: &l.name,
                            arn: l.arn.as_deref(),
                            state: l.state.as_deref(),
                            schedule_expression: l.schedule_expression.as_deref(),
                            cluster_arn: l.cluster_arn.as_deref(),
                            task_definition: &l.task_definition,
                            task_definition_arn: resolved.get(&l.task_definition).and_then(Option::as_deref),
                        })
                        .collect();
                    ctx.batch(&rows)
                }
            })
            .map_err(|e| in_use_denied_hint(e, "ecs_schedules"))
            .boxed()
    }
}

/// The revision each distinct `task_definition` of `launches` runs: an ARN or
/// `family:revision` names it (a short name in this connection's account and
/// region); a family alone, its latest ACTIVE revision (DescribeTaskDefinition).
async fn resolve(ctx: &FetchContext, launches: &[Launch]) -> Result<BTreeMap<String, Option<String>>> {
    let conn = ctx.aws();
    let mut resolved = BTreeMap::new();
    let mut families = Vec::new();
    for launch in launches {
        let named = &launch.task_definition;
        if resolved.contains_key(named) || families.contains(named) {
            continue;
        }
        match TaskDefinitionName::parse(named) {
            Some(name) if name.location.is_some() => {
                resolved.insert(named.clone(), Some(named.clone()));
            }
            Some(name) => {
                let account = conn.account_id().await?;
                resolved.insert(named.clone(), Some(name.arn_in(&conn.region, &account)));
            }
            None => families.push(named.clone()),
        }
    }
    let ecs = clients::ecs(conn);
    let latest = describe_each(families, DEFAULT_CONCURRENCY, |family| {
        let req = ecs.describe_task_definition().task_definition(&family);
        async move {
            let out = ctx.call("ecs:DescribeTaskDefinition", || req.clone().send()).await?;
            let arn = out.and_then(|o| o.task_definition()?.task_definition_arn().map(str::to_string));
            Ok(Some((family, arn)))
        }
    })
    .await?;
    resolved.extend(latest);
    Ok(resolved)
}
