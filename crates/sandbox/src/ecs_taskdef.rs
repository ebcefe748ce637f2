//! ECS task definitions: ListTaskDefinitions, ListTaskDefinitionFamilies,
//! DescribeTaskDefinition, DeregisterTaskDefinition and DeleteTaskDefinitions.
//!
//! `ListTaskDefinitions.familyPrefix` is an exact family (as in ECS, despite its name);
//! `ListTaskDefinitionFamilies.familyPrefix` is a true prefix. Only INACTIVE revisions
//! can be deleted; deleted ones leave the world.

use std::collections::BTreeMap;

use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::{AwsError, Caller, PageRule, check_batch, epoch, input, page, region, with_token};
use crate::world::{TaskDefinition, World, task_definition_arn};

const PAGE: PageRule = PageRule { default: 100, max: 100 };

/// Answers one task-definition operation.
pub(crate) fn handle(world: &mut World, caller: &Caller, op: &str, body: &Value) -> Result<Value, AwsError> {
    match op {
        "ListTaskDefinitions" => list_task_definitions(world, caller, input(body)?),
        "ListTaskDefinitionFamilies" => list_families(world, caller, input(body)?),
        "DescribeTaskDefinition" => describe(world, caller, input(body)?),
        "DeregisterTaskDefinition" => deregister(world, caller, input(body)?),
        "DeleteTaskDefinitions" => delete(world, caller, input(body)?),
        _ => Err(AwsError::new(
            "UnknownOperationException",
            format!("the sandbox does not implement ECS {op}"),
        )),
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    family_prefix: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OneInput {
    task_definition: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManyInput {
    task_definitions: Vec<String>,
}

fn arn(caller: &Caller, td: &TaskDefinition) -> String {
    task_definition_arn(&caller.region, &caller.account, &td.family, td.revision)
}

fn list_task_definitions(world: &World, caller: &Caller, req: ListInput) -> Result<Value, AwsError> {
    let status = req.status.as_deref().unwrap_or("ACTIVE");
    let mut tds: Vec<&TaskDefinition> = region(world, caller)
        .task_definitions
        .iter()
        .filter(|td| td.status == status)
        .filter(|td| req.family_prefix.as_ref().is_none_or(|f| &td.family == f))
        .collect();
    tds.sort_by(|a, b| (&a.family, a.revision).cmp(&(&b.family, b.revision)));
    if req.sort.as_deref() == Some("DESC") {
        tds.reverse();
    }
    let p = page(tds.len(), req.next_token.as_deref(), req.max_results, PAGE)?;
    let arns: Vec<String> = tds[p.start..p.end].iter().map(|td| arn(caller, td)).collect();
    Ok(with_token(json!({ "taskDefinitionArns": arns }), &p))
}

fn list_families(world: &World, caller: &Caller, req: ListInput) -> Result<Value, AwsError> {
    // family -> has an ACTIVE revision
    let mut families: BTreeMap<&str, bool> = BTreeMap::new();
    for td in &region(world, caller).task_definitions {
        if req.family_prefix.as_ref().is_none_or(|p| td.family.starts_with(p.as_str())) {
            *families.entry(&td.family).or_default() |= td.status == "ACTIVE";
        }
    }
    let status = req.status.as_deref().unwrap_or("ALL");
    let names: Vec<&str> = families
        .into_iter()
        .filter(|(_, active)| match status {
            "ACTIVE" => *active,
            "INACTIVE" => !*active,
            _ => true,
        })
        .map(|(family, _)| family)
        .collect();
    let p = page(names.len(), req.next_token.as_deref(), req.max_results, PAGE)?;
    Ok(with_token(json!({ "families": names[p.start..p.end] }), &p))
}

fn unable() -> AwsError {
    AwsError::new("ClientException", "Unable to describe task definition.")
}

/// Finds a task definition by ARN, `family:revision`, or `family` (latest ACTIVE).
fn resolve(tds: &[TaskDefinition], reference: &str, allow_family_only: bool) -> Result<usize, AwsError> {
    let tail = reference.rsplit_once("task-definition/").map_or(reference, |(_, tail)| tail);
    match tail.rsplit_once(':') {
        Some((family, rev)) => {
            let rev: i32 = rev.parse().map_err(|_| unable())?;
            tds.iter().position(|td| td.family == family && td.revision == rev).ok_or_else(unable)
        }
        None if allow_family_only => tds
            .iter()
            .enumerate()
            .filter(|(_, td)| td.family == tail && td.status == "ACTIVE")
            .max_by_key(|(_, td)| td.revision)
            .map(|(i, _)| i)
            .ok_or_else(unable),
        None => Err(AwsError::new(
            "ClientException",
            "The specified task definition identifier is invalid. Specify a valid name or ARN and try again.",
        )),
    }
}

/// The `TaskDefinition` shape of ECS.
pub(crate) fn td_json(caller: &Caller, td: &TaskDefinition) -> Value {
    let containers: Vec<Value> = td
        .container_definitions
        .iter()
        .map(|c| json!({ "name": c.name, "image": c.image, "essential": c.essential }))
        .collect();
    let mut out = json!({
        "taskDefinitionArn": arn(caller, td),
        "family": td.family,
        "revision": td.revision,
        "status": td.status,
        "registeredAt": epoch(&td.registered_at),
        "containerDefinitions": containers,
        "compatibilities": ["EC2", "FARGATE"],
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
    });
    if let (Some(t), Some(obj)) = (&td.deregistered_at, out.as_object_mut()) {
        obj.insert("deregisteredAt".to_owned(), epoch(t));
    }
    out
}

fn describe(world: &World, caller: &Caller, req: OneInput) -> Result<Value, AwsError> {
    let tds = &region(world, caller).task_definitions;
    let i = resolve(tds, &req.task_definition, true)?;
    Ok(json!({ "taskDefinition": td_json(caller, &tds[i]), "tags": [] }))
}

fn deregister(world: &mut World, caller: &Caller, req: OneInput) -> Result<Value, AwsError> {
    let tds = world
        .region_mut(&caller.account, &caller.region)
        .map(|r| &mut r.task_definitions)
        .ok_or_else(unable)?;
    let i = resolve(tds, &req.task_definition, false)?;
    let td = &mut tds[i];
    if td.status == "ACTIVE" {
        td.status = "INACTIVE".to_owned();
        td.deregistered_at = Some(Utc::now());
    }
    Ok(json!({ "taskDefinition": td_json(caller, td) }))
}

fn delete(world: &mut World, caller: &Caller, req: ManyInput) -> Result<Value, AwsError> {
    check_batch("taskDefinitions", req.task_definitions.len(), 10)?;
    let Some(rw) = world.region_mut(&caller.account, &caller.region) else {
        let failures: Vec<Value> = req
            .task_definitions
            .iter()
            .map(|r| json!({ "arn": r, "reason": "TASK_DEFINITION_NOT_FOUND" }))
            .collect();
        return Ok(json!({ "taskDefinitions": [], "failures": failures }));
    };
    let tds = &mut rw.task_definitions;
    let (mut deleted, mut failures) = (Vec::new(), Vec::new());
    for reference in &req.task_definitions {
        match resolve(tds, reference, false) {
            Err(e) => failures.push(json!({ "arn": reference, "reason": e.message })),
            Ok(i) if tds[i].status == "ACTIVE" => failures.push(json!({
                "arn": arn(caller, &tds[i]),
                "reason": "The specified task definition is still in ACTIVE status. \
                           Please deregister the target and try again.",
            })),
            Ok(i) => {
                let mut td = tds.remove(i);
                td.status = "DELETE_IN_PROGRESS".to_owned();
                let mut v = td_json(caller, &td);
                if let Some(obj) = v.as_object_mut() {
                    obj.insert("deleteRequestedAt".to_owned(), epoch(&Utc::now()));
                }
                deleted.push(v);
            }
        }
    }
    Ok(json!({ "taskDefinitions": deleted, "failures": failures }))
}
