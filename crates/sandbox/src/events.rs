//! Amazon EventBridge over AWS JSON 1.1 (`X-Amz-Target: AWSEvents.<Op>`, signed
//! for service `events`): ListEventBuses, ListRules and ListTargetsByRule.
//!
//! Each list pages with `Limit` (1..=100, 100 when absent) and an opaque
//! `NextToken`. Every account has the `default` bus; a rule names its own bus
//! (`EventBusName`, default `default`), and asking for a bus that does not
//! exist, or the targets of a rule that does not, is `ResourceNotFoundException`.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::{AwsError, Caller, PageRule, input, page};
use crate::schedules_world::EventRule;
use crate::world::World;

const PAGE: PageRule = PageRule { default: 100, max: 100 };

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListInput {
    event_bus_name: Option<String>,
    rule: Option<String>,
    limit: Option<i64>,
    next_token: Option<String>,
}

/// Answers one EventBridge operation.
pub(crate) fn handle(world: &World, caller: &Caller, op: &str, body: &Value) -> Result<Value, AwsError> {
    let req: ListInput = input(body)?;
    match op {
        "ListEventBuses" => list_event_buses(world, caller, &req),
        "ListRules" => list_rules(world, caller, &req),
        "ListTargetsByRule" => list_targets(world, caller, &req),
        _ => Err(AwsError::new("UnknownOperationException", format!("unknown operation AWSEvents.{op}"))),
    }
}

fn rules<'w>(world: &'w World, caller: &Caller) -> &'w [EventRule] {
    &crate::aws::region(world, caller).event_rules
}

/// The buses of the caller's account and region: `default` and every bus a rule names.
fn buses(world: &World, caller: &Caller) -> Vec<String> {
    let mut names: BTreeSet<String> = rules(world, caller).iter().map(|r| r.event_bus.clone()).collect();
    names.insert("default".to_owned());
    names.into_iter().collect()
}

fn bus_arn(caller: &Caller, bus: &str) -> String {
    format!("arn:aws:events:{}:{}:event-bus/{bus}", caller.region, caller.account)
}

fn rule_arn(caller: &Caller, rule: &EventRule) -> String {
    let path = match rule.event_bus.as_str() {
        "default" => rule.name.clone(),
        bus => format!("{bus}/{}", rule.name),
    };
    format!("arn:aws:events:{}:{}:rule/{path}", caller.region, caller.account)
}

fn not_found(message: String) -> AwsError {
    AwsError::new("ResourceNotFoundException", message)
}

/// The page `req` asks for, as `(start, end, next token)`.
fn paged(total: usize, req: &ListInput) -> Result<(usize, usize, Option<String>), AwsError> {
    let p = page(total, req.next_token.as_deref(), req.limit, PAGE).map_err(|_| {
        AwsError::new("ValidationException", "Invalid Limit or NextToken: Limit must be between 1 and 100")
    })?;
    Ok((p.start, p.end, p.next_token))
}

fn with_next(mut out: Value, next: Option<String>) -> Value {
    if let Some(token) = next {
        out["NextToken"] = json!(token);
    }
    out
}

fn list_event_buses(world: &World, caller: &Caller, req: &ListInput) -> Result<Value, AwsError> {
    let names = buses(world, caller);
    let (start, end, next) = paged(names.len(), req)?;
    let items: Vec<Value> =
        names[start..end].iter().map(|n| json!({ "Name": n, "Arn": bus_arn(caller, n) })).collect();
    Ok(with_next(json!({ "EventBuses": items }), next))
}

fn bus_of(world: &World, caller: &Caller, req: &ListInput) -> Result<String, AwsError> {
    let bus = req.event_bus_name.clone().unwrap_or_else(|| "default".to_owned());
    // A bus may be named by its ARN too.
    let bus = bus.rsplit_once(":event-bus/").map_or(bus.clone(), |(_, name)| name.to_owned());
    if !buses(world, caller).contains(&bus) {
        return Err(not_found(format!("Event bus {bus} does not exist.")));
    }
    Ok(bus)
}

fn list_rules(world: &World, caller: &Caller, req: &ListInput) -> Result<Value, AwsError> {
    let bus = bus_of(world, caller, req)?;
    let mut on_bus: Vec<&EventRule> = rules(world, caller).iter().filter(|r| r.event_bus == bus).collect();
    on_bus.sort_by(|a, b| a.name.cmp(&b.name));
    let (start, end, next) = paged(on_bus.len(), req)?;
    let items: Vec<Value> = on_bus[start..end]
        .iter()
        .map(|r| {
            let mut rule = json!({
                "Name": r.name,
                "Arn": rule_arn(caller, r),
                "State": r.state,
                "EventBusName": r.event_bus,
            });
            if let Some(expression) = &r.schedule_expression {
                rule["ScheduleExpression"] = json!(expression);
            }
            if let Some(pattern) = &r.event_pattern {
                rule["EventPattern"] = json!(pattern);
            }
            rule
        })
        .collect();
    Ok(with_next(json!({ "Rules": items }), next))
}

fn list_targets(world: &World, caller: &Caller, req: &ListInput) -> Result<Value, AwsError> {
    let bus = bus_of(world, caller, req)?;
    let name = req.rule.clone().unwrap_or_default();
    let rule = rules(world, caller)
        .iter()
        .find(|r| r.event_bus == bus && r.name == name)
        .ok_or_else(|| not_found(format!("Rule {name} does not exist on EventBus {bus}.")))?;
    let (start, end, next) = paged(rule.targets.len(), req)?;
    let items: Vec<Value> = rule.targets[start..end]
        .iter()
        .map(|t| {
            let mut target = json!({ "Id": t.id, "Arn": t.arn });
            if let Some(task_definition) = &t.task_definition {
                target["RoleArn"] = json!(format!("arn:aws:iam::{}:role/ecsEventsRole", caller.account));
                target["EcsParameters"] = json!({ "TaskDefinitionArn": task_definition, "TaskCount": 1 });
            }
            target
        })
        .collect();
    Ok(with_next(json!({ "Targets": items }), next))
}
