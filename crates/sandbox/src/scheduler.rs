//! Amazon EventBridge Scheduler over REST-JSON (signed for service
//! `scheduler`): ListSchedules (`GET /schedules`) and GetSchedule
//! (`GET /schedules/{Name}?groupName=`).
//!
//! ListSchedules covers every group unless `ScheduleGroup` names one, pages
//! with `MaxResults` (1..=100, 100 when absent) and `NextToken`, and, as the
//! real API, summarises each target by its ARN alone: the task definition is
//! only in GetSchedule's answer. A schedule that does not exist in the group
//! (default `default`) is `ResourceNotFoundException` (404).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::aws::{AwsError, Caller, PageRule, page};
use crate::schedules_world::Schedule;
use crate::world::World;

const PAGE: PageRule = PageRule { default: 100, max: 100 };

fn schedules<'w>(world: &'w World, caller: &Caller) -> &'w [Schedule] {
    &crate::aws::region(world, caller).schedules
}

fn schedule_arn(caller: &Caller, s: &Schedule) -> String {
    format!("arn:aws:scheduler:{}:{}:schedule/{}/{}", caller.region, caller.account, s.group, s.name)
}

/// `GET /schedules`.
pub(crate) fn list_schedules(
    world: &World,
    caller: &Caller,
    query: &BTreeMap<String, String>,
) -> Result<Value, AwsError> {
    let group = query.get("ScheduleGroup");
    let state = query.get("State");
    let mut listed: Vec<&Schedule> = schedules(world, caller)
        .iter()
        .filter(|s| group.is_none_or(|g| *g == s.group) && state.is_none_or(|st| *st == s.state))
        .filter(|s| query.get("NamePrefix").is_none_or(|p| s.name.starts_with(p.as_str())))
        .collect();
    listed.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
    let max_results = match query.get("MaxResults") {
        None => None,
        Some(raw) => Some(raw.parse::<i64>().map_err(|_| validation(format!("Invalid MaxResults: {raw}")))?),
    };
    let p = page(listed.len(), query.get("NextToken").map(String::as_str), max_results, PAGE)
        .map_err(|e| validation(e.message))?;
    let items: Vec<Value> = listed[p.start..p.end]
        .iter()
        .map(|s| {
            json!({
                "Arn": schedule_arn(caller, s),
                "Name": s.name,
                "GroupName": s.group,
                "State": s.state,
                "CreationDate": 1_700_000_000.0,
                "LastModificationDate": 1_700_000_000.0,
                "Target": { "Arn": s.target_arn },
            })
        })
        .collect();
    let mut out = json!({ "Schedules": items });
    if let Some(token) = p.next_token {
        out["NextToken"] = json!(token);
    }
    Ok(out)
}

/// `GET /schedules/{Name}`.
pub(crate) fn get_schedule(
    world: &World,
    caller: &Caller,
    name: &str,
    query: &BTreeMap<String, String>,
) -> Result<Value, AwsError> {
    let group = query.get("groupName").map_or("default", String::as_str);
    let s =
        schedules(world, caller).iter().find(|s| s.name == name && s.group == group).ok_or_else(|| {
            AwsError {
                status: 404,
                ..AwsError::new("ResourceNotFoundException", format!("Schedule {name} does not exist."))
            }
        })?;
    let mut target = json!({
        "Arn": s.target_arn,
        "RoleArn": format!("arn:aws:iam::{}:role/scheduler-role", caller.account),
        "RetryPolicy": { "MaximumEventAgeInSeconds": 86400, "MaximumRetryAttempts": 185 },
    });
    if let Some(task_definition) = &s.task_definition {
        target["EcsParameters"] = json!({ "TaskDefinitionArn": task_definition, "TaskCount": 1 });
    }
    if let Some(input) = &s.input {
        target["Input"] = json!(input);
    }
    Ok(json!({
        "Arn": schedule_arn(caller, s),
        "Name": s.name,
        "GroupName": s.group,
        "State": s.state,
        "ScheduleExpression": s.schedule_expression,
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": { "Mode": "OFF" },
        "ActionAfterCompletion": "NONE",
        "CreationDate": 1_700_000_000.0,
        "LastModificationDate": 1_700_000_000.0,
        "Target": target,
    }))
}

fn validation(message: impl Into<String>) -> AwsError {
    AwsError::new("ValidationException", message)
}
