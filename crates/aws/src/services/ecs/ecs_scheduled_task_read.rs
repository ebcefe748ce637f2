//! Reading `aws_ecs_scheduled_task`'s two sources: EventBridge rules whose
//! targets carry `EcsParameters`, and EventBridge Scheduler schedules whose
//! target runs an ECS task. Each yields pages of [`Launch`]es; the table
//! resolves their task definitions.

use aws_sdk_scheduler::types::ScheduleSummary;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::{describe_each, fan_out};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{FetchContext, Result};

use crate::clients;

/// Page size of every listing here (the APIs' maximum).
const PAGE: i32 = 100;

/// One ECS task launch a rule or schedule makes.
#[derive(Debug, Clone)]
pub(crate) struct Launch {
    /// `events_rule` or `scheduler`.
    pub source: &'static str,
    pub name: String,
    pub arn: Option<String>,
    pub state: Option<String>,
    pub schedule_expression: Option<String>,
    pub cluster_arn: Option<String>,
    /// As the target names it.
    pub task_definition: String,
}

/// Every rule of every event bus, with its ECS targets.
pub(crate) fn rule_launches(ctx: FetchContext) -> BoxStream<'static, Result<Vec<Launch>>> {
    let events = clients::events(ctx.aws());
    let buses = ctx
        .paginate(
            "events:ListEventBuses",
            move |token| events.list_event_buses().limit(PAGE).set_next_token(token).send(),
            |out| out.next_token().map(str::to_string),
        )
        .map_ok(|out| {
            let names: Vec<Result<String>> =
                out.event_buses().iter().filter_map(|b| b.name().map(str::to_string)).map(Ok).collect();
            futures::stream::iter(names)
        })
        .try_flatten()
        .boxed();
    fan_out(buses, DEFAULT_CONCURRENCY, move |bus| bus_launches(ctx.clone(), bus))
}

/// One bus's rules, a page at a time, each page with its rules' ECS targets.
fn bus_launches(ctx: FetchContext, bus: String) -> BoxStream<'static, Result<Vec<Launch>>> {
    let events = clients::events(ctx.aws());
    let list_bus = bus.clone();
    ctx.paginate(
        "events:ListRules",
        move |token| events.list_rules().event_bus_name(&list_bus).limit(PAGE).set_next_token(token).send(),
        |out| out.next_token().map(str::to_string),
    )
    .and_then(move |out| {
        let (ctx, bus) = (ctx.clone(), bus.clone());
        async move {
            let rules = out.rules().to_vec();
            let per_rule = describe_each(rules, DEFAULT_CONCURRENCY, |rule| {
                let (ctx, bus) = (&ctx, &bus);
                async move { rule_targets(ctx, bus, rule).await.map(Some) }
            })
            .await?;
            Ok(per_rule.into_iter().flatten().collect())
        }
    })
    .boxed()
}

/// A rule's targets that launch ECS tasks, every page of them.
async fn rule_targets(
    ctx: &FetchContext,
    bus: &str,
    rule: aws_sdk_eventbridge::types::Rule,
) -> Result<Vec<Launch>> {
    let events = clients::events(ctx.aws());
    let name = rule.name().unwrap_or_default().to_string();
    let (list_name, list_bus) = (name.clone(), bus.to_string());
    let targets: Vec<aws_sdk_eventbridge::types::Target> = ctx
        .paginate(
            "events:ListTargetsByRule",
            move |token| {
                events
                    .list_targets_by_rule()
                    .rule(&list_name)
                    .event_bus_name(&list_bus)
                    .limit(PAGE)
                    .set_next_token(token)
                    .send()
            },
            |out| out.next_token().map(str::to_string),
        )
        .map_ok(|out| futures::stream::iter(out.targets().to_vec()).map(Ok))
        .try_flatten()
        .try_collect()
        .await?;
    Ok(targets
        .iter()
        .filter_map(|t| {
            let ecs = t.ecs_parameters()?;
            Some(Launch {
                source: "events_rule",
                name: name.clone(),
                arn: rule.arn().map(str::to_string),
                state: rule.state().map(|s| s.as_str().to_string()),
                schedule_expression: rule.schedule_expression().map(str::to_string),
                cluster_arn: Some(t.arn().to_string()),
                task_definition: ecs.task_definition_arn().to_string(),
            })
        })
        .collect())
}

/// Every schedule of every group, a page at a time; the ones that may run an
/// ECS task are read whole (GetSchedule), concurrently.
pub(crate) fn schedule_launches(ctx: FetchContext) -> BoxStream<'static, Result<Vec<Launch>>> {
    let scheduler = clients::scheduler(ctx.aws());
    ctx.paginate(
        "scheduler:ListSchedules",
        move |token| scheduler.list_schedules().max_results(PAGE).set_next_token(token).send(),
        |out| out.next_token().map(str::to_string),
    )
    .and_then(move |out| {
        let ctx = ctx.clone();
        async move {
            let wanted: Vec<ScheduleSummary> =
                out.schedules().iter().filter(|s| may_run_ecs(s)).cloned().collect();
            let scheduler = clients::scheduler(ctx.aws());
            describe_each(wanted, DEFAULT_CONCURRENCY, |summary| {
                let req = scheduler
                    .get_schedule()
                    .name(summary.name().unwrap_or_default())
                    .set_group_name(summary.group_name().map(str::to_string));
                let ctx = &ctx;
                async move {
                    let Some(got) = ctx.call("scheduler:GetSchedule", || req.clone().send()).await? else {
                        return Ok(None);
                    };
                    let Some(target) = got.target() else { return Ok(None) };
                    let Some((cluster, task_definition)) = ecs_target(target) else { return Ok(None) };
                    Ok(Some(Launch {
                        source: "scheduler",
                        name: got.name().unwrap_or_default().to_string(),
                        arn: got.arn().map(str::to_string),
                        state: got.state().map(|s| s.as_str().to_string()),
                        schedule_expression: got.schedule_expression().map(str::to_string),
                        cluster_arn: cluster,
                        task_definition,
                    }))
                }
            })
            .await
        }
    })
    .boxed()
}

/// Whether a schedule's summary leaves open that it runs an ECS task: its
/// target is a cluster, the universal `ecs:runTask` target, or not given.
fn may_run_ecs(summary: &ScheduleSummary) -> bool {
    summary.target().is_none_or(|t| is_cluster(t.arn()) || is_universal_run_task(t.arn()))
}

fn is_cluster(arn: &str) -> bool {
    arn.split(':').nth(2) == Some("ecs") && arn.split(':').nth(5).is_some_and(|r| r.starts_with("cluster/"))
}

fn is_universal_run_task(arn: &str) -> bool {
    arn.ends_with(":scheduler:::aws-sdk:ecs:runTask")
}

/// The cluster and task definition a schedule's target runs: its
/// `EcsParameters`, or the `TaskDefinition` (and `Cluster`) of the universal
/// `ecs:runTask` target's input.
fn ecs_target(target: &aws_sdk_scheduler::types::Target) -> Option<(Option<String>, String)> {
    if let Some(ecs) = target.ecs_parameters() {
        return Some((Some(target.arn().to_string()), ecs.task_definition_arn().to_string()));
    }
    if !is_universal_run_task(target.arn()) {
        return None;
    }
    let input: serde_json::Value = serde_json::from_str(target.input()?).ok()?;
    let task_definition = input.get("TaskDefinition")?.as_str()?.to_string();
    let cluster = input.get("Cluster").and_then(|c| c.as_str()).map(str::to_string);
    Some((cluster, task_definition))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_ecs_targets_are_read_whole() {
        assert!(is_cluster("arn:aws:ecs:us-east-1:111111111111:cluster/jobs"));
        assert!(!is_cluster("arn:aws:lambda:us-east-1:111111111111:function:f"));
        assert!(is_universal_run_task("arn:aws:scheduler:::aws-sdk:ecs:runTask"));
        assert!(!is_universal_run_task("arn:aws:scheduler:::aws-sdk:sqs:sendMessage"));
    }

    #[test]
    fn the_universal_target_names_its_task_definition_in_its_input() {
        let target = aws_sdk_scheduler::types::Target::builder()
            .arn("arn:aws:scheduler:::aws-sdk:ecs:runTask")
            .role_arn("arn:aws:iam::111111111111:role/r")
            .input(r#"{"Cluster":"jobs","TaskDefinition":"nightly:4"}"#)
            .build()
            .ok();
        let got = target.as_ref().and_then(ecs_target);
        assert_eq!(got, Some((Some("jobs".to_string()), "nightly:4".to_string())));
    }
}
