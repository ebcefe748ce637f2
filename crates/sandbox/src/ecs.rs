//! Amazon ECS over AWS JSON 1.1 (`X-Amz-Target: AmazonEC2ContainerServiceV20141113.<Op>`):
//! clusters, services and tasks here; task definitions in [`crate::ecs_taskdef`].
//!
//! Page sizes and batch limits are the documented ones (ListServices defaults to 10,
//! DescribeServices takes 10, DescribeTasks and DescribeClusters 100).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::aws::{AwsError, Caller, PageRule, check_batch, epoch, input, page, region, with_token};
use crate::config::{BucketSpec, DescribeFailure, EcsBuckets};
use crate::world::{
    Cluster, Service, Task, TaskSet, World, cluster_arn, service_arn, task_arn, task_set_arn,
};

const LIST_PAGE_100: PageRule = PageRule { default: 100, max: 100 };
const SERVICES_PAGE: PageRule = PageRule { default: 10, max: 100 };

/// The throttling bucket an ECS operation draws from.
pub(crate) fn bucket(op: &str, buckets: &EcsBuckets) -> Option<(&'static str, BucketSpec)> {
    Some(match op {
        "ListClusters" | "DescribeClusters" => ("cluster_read", buckets.cluster_read),
        "ListServices" | "DescribeServices" => ("service_read", buckets.service_read),
        "ListTasks" | "DescribeTasks" => ("cluster_resource_read", buckets.cluster_resource_read),
        "ListTaskDefinitions" | "ListTaskDefinitionFamilies" | "DescribeTaskDefinition" => {
            ("task_definition_read", buckets.task_definition_read)
        }
        "DeregisterTaskDefinition" => ("task_definition_modify", buckets.task_definition_modify),
        "DeleteTaskDefinitions" => ("task_definition_delete", buckets.task_definition_delete),
        _ => return None,
    })
}

/// Answers one ECS operation.
pub(crate) fn handle(world: &mut World, caller: &Caller, op: &str, body: &Value) -> Result<Value, AwsError> {
    match op {
        "ListClusters" => list_clusters(world, caller, input(body)?),
        "DescribeClusters" => describe_clusters(world, caller, input(body)?),
        "ListServices" => list_services(world, caller, input(body)?),
        "DescribeServices" => describe_services(world, caller, input(body)?),
        "ListTasks" => list_tasks(world, caller, input(body)?),
        "DescribeTasks" => describe_tasks(world, caller, input(body)?),
        _ => crate::ecs_taskdef::handle(world, caller, op, body),
    }
}

/// Moves the items of a describe answer that a [`DescribeFailure`] names into its
/// `failures` list, shaped as ECS shapes them.
pub(crate) fn inject_failures(knobs: &[DescribeFailure], op: &str, out: &mut Value) {
    let (list, arn_field) = match op {
        "DescribeServices" => ("services", "serviceArn"),
        "DescribeTasks" => ("tasks", "taskArn"),
        "DescribeClusters" => ("clusters", "clusterArn"),
        _ => return,
    };
    let key = format!("ecs:{op}");
    let knobs: Vec<&DescribeFailure> = knobs.iter().filter(|k| k.op == key).collect();
    let Some(obj) = out.as_object_mut().filter(|_| !knobs.is_empty()) else { return };
    let items = match obj.remove(list) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let (mut kept, mut failed) = (Vec::new(), Vec::new());
    for item in items {
        let arn = item.get(arn_field).and_then(Value::as_str).unwrap_or_default().to_owned();
        match knobs.iter().find(|k| arn.contains(&k.arn_contains)) {
            Some(k) => {
                let mut failure = json!({ "arn": arn, "reason": k.reason });
                if let (Some(detail), Some(f)) = (&k.detail, failure.as_object_mut()) {
                    f.insert("detail".to_owned(), json!(detail));
                }
                failed.push(failure);
            }
            None => kept.push(item),
        }
    }
    obj.insert(list.to_owned(), Value::Array(kept));
    match obj.get_mut("failures").and_then(Value::as_array_mut) {
        Some(failures) => failures.extend(failed),
        None => {
            obj.insert("failures".to_owned(), Value::Array(failed));
        }
    }
}

/// The last `/`-separated part of an ARN, or the string itself.
pub(crate) fn short_name(name_or_arn: &str) -> &str {
    name_or_arn.rsplit('/').next().unwrap_or(name_or_arn)
}

fn cluster<'w>(
    world: &'w World,
    caller: &Caller,
    name_or_arn: Option<&str>,
) -> Result<&'w Cluster, AwsError> {
    let name = short_name(name_or_arn.unwrap_or("default"));
    region(world, caller)
        .clusters
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| AwsError::new("ClusterNotFoundException", "Cluster not found."))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListInput {
    cluster: Option<String>,
    next_token: Option<String>,
    max_results: Option<i64>,
    desired_status: Option<String>,
    service_name: Option<String>,
    family: Option<String>,
    launch_type: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeInput {
    cluster: Option<String>,
    clusters: Option<Vec<String>>,
    services: Option<Vec<String>>,
    tasks: Option<Vec<String>>,
}

fn missing(arn: String) -> Value {
    json!({ "arn": arn, "reason": "MISSING" })
}

fn list_clusters(world: &World, caller: &Caller, req: ListInput) -> Result<Value, AwsError> {
    let clusters = &region(world, caller).clusters;
    let p = page(clusters.len(), req.next_token.as_deref(), req.max_results, LIST_PAGE_100)?;
    let arns: Vec<String> = clusters[p.start..p.end]
        .iter()
        .map(|c| cluster_arn(&caller.region, &caller.account, &c.name))
        .collect();
    Ok(with_token(json!({ "clusterArns": arns }), &p))
}

fn describe_clusters(world: &World, caller: &Caller, req: DescribeInput) -> Result<Value, AwsError> {
    let names = req.clusters.unwrap_or_else(|| vec!["default".to_owned()]);
    if names.len() > 100 {
        return Err(AwsError::invalid("Clusters cannot have more than 100 elements"));
    }
    let (mut found, mut failures) = (Vec::new(), Vec::new());
    for name in &names {
        match cluster(world, caller, Some(name)) {
            Ok(c) => found.push(json!({
                "clusterArn": cluster_arn(&caller.region, &caller.account, &c.name),
                "clusterName": c.name,
                "status": "ACTIVE",
                "registeredContainerInstancesCount": 0,
                "activeServicesCount": c.services.iter().filter(|s| s.status == "ACTIVE").count(),
                "runningTasksCount": c.tasks.iter().filter(|t| t.last_status == "RUNNING").count(),
                "pendingTasksCount": c.tasks.iter().filter(|t| t.last_status == "PENDING").count(),
            })),
            Err(_) => failures.push(missing(cluster_arn(&caller.region, &caller.account, short_name(name)))),
        }
    }
    Ok(json!({ "clusters": found, "failures": failures }))
}

fn list_services(world: &World, caller: &Caller, req: ListInput) -> Result<Value, AwsError> {
    let c = cluster(world, caller, req.cluster.as_deref())?;
    let services: Vec<&Service> = c
        .services
        .iter()
        .filter(|s| s.status != "INACTIVE")
        .filter(|s| req.launch_type.as_ref().is_none_or(|l| &s.launch_type == l))
        .collect();
    let p = page(services.len(), req.next_token.as_deref(), req.max_results, SERVICES_PAGE)?;
    let arns: Vec<String> = services[p.start..p.end]
        .iter()
        .map(|s| service_arn(&caller.region, &caller.account, &c.name, &s.name))
        .collect();
    Ok(with_token(json!({ "serviceArns": arns }), &p))
}

fn service_json(caller: &Caller, cluster: &str, s: &Service) -> Value {
    let deployments: Vec<Value> = s
        .deployments
        .iter()
        .map(|d| {
            json!({
                "id": d.id,
                "status": d.status,
                "taskDefinition": d.task_definition,
                "desiredCount": d.desired_count,
                "pendingCount": 0,
                "runningCount": d.running_count,
                "failedTasks": 0,
                "createdAt": epoch(&d.created_at),
                "updatedAt": epoch(&d.created_at),
                "launchType": s.launch_type,
                "rolloutState": d.rollout_state,
            })
        })
        .collect();
    let mut out = json!({
        "serviceArn": service_arn(&caller.region, &caller.account, cluster, &s.name),
        "serviceName": s.name,
        "clusterArn": cluster_arn(&caller.region, &caller.account, cluster),
        "status": s.status,
        "desiredCount": s.desired_count,
        "runningCount": s.running_count,
        "pendingCount": 0,
        "launchType": s.launch_type,
        "taskDefinition": s.task_definition,
        "deployments": deployments,
        "deploymentController": { "type": s.deployment_controller },
        "taskSets": s.task_sets.iter().map(|t| task_set_json(caller, cluster, s, t)).collect::<Vec<_>>(),
        "schedulingStrategy": "REPLICA",
    });
    if let (Some(created), Some(obj)) =
        (s.deployments.iter().map(|d| d.created_at).min(), out.as_object_mut())
    {
        obj.insert("createdAt".to_owned(), epoch(&created));
    }
    out
}

/// A task set as DescribeServices returns it within its service.
fn task_set_json(caller: &Caller, cluster: &str, s: &Service, t: &TaskSet) -> Value {
    let mut out = json!({
        "id": t.id,
        "taskSetArn": task_set_arn(&caller.region, &caller.account, cluster, &s.name, &t.id),
        "serviceArn": service_arn(&caller.region, &caller.account, cluster, &s.name),
        "clusterArn": cluster_arn(&caller.region, &caller.account, cluster),
        "status": t.status,
        "taskDefinition": t.task_definition,
        "computedDesiredCount": t.computed_desired_count,
        "pendingCount": 0,
        "runningCount": t.running_count,
        "createdAt": epoch(&t.created_at),
        "updatedAt": epoch(&t.created_at),
        "launchType": t.launch_type,
        "scale": { "value": 100.0, "unit": "PERCENT" },
        "stabilityStatus": "STEADY_STATE",
        "stabilityStatusAt": epoch(&t.created_at),
    });
    if let (Some(external_id), Some(obj)) = (&t.external_id, out.as_object_mut()) {
        obj.insert("externalId".to_owned(), json!(external_id));
    }
    out
}

fn describe_services(world: &World, caller: &Caller, req: DescribeInput) -> Result<Value, AwsError> {
    let c = cluster(world, caller, req.cluster.as_deref())?;
    let names = req.services.unwrap_or_default();
    check_batch("services", names.len(), 10)?;
    let (mut found, mut failures) = (Vec::new(), Vec::new());
    for name in &names {
        let short = short_name(name);
        match c.services.iter().find(|s| s.name == short) {
            Some(s) => found.push(service_json(caller, &c.name, s)),
            None => failures.push(missing(service_arn(&caller.region, &caller.account, &c.name, short))),
        }
    }
    Ok(json!({ "services": found, "failures": failures }))
}

/// The family of a task definition ARN (`...:task-definition/<family>:<rev>`).
fn family_of(task_definition_arn: &str) -> &str {
    let tail = short_name(task_definition_arn);
    tail.rsplit_once(':').map_or(tail, |(family, _)| family)
}

fn list_tasks(world: &World, caller: &Caller, req: ListInput) -> Result<Value, AwsError> {
    let c = cluster(world, caller, req.cluster.as_deref())?;
    let desired = req.desired_status.as_deref().unwrap_or("RUNNING");
    let group = req.service_name.as_deref().map(|s| format!("service:{}", short_name(s)));
    let tasks: Vec<&Task> = c
        .tasks
        .iter()
        .filter(|t| t.desired_status == desired)
        .filter(|t| group.as_ref().is_none_or(|g| &t.group == g))
        .filter(|t| req.family.as_ref().is_none_or(|f| family_of(&t.task_definition_arn) == f))
        .filter(|t| req.launch_type.as_ref().is_none_or(|l| &t.launch_type == l))
        .collect();
    let p = page(tasks.len(), req.next_token.as_deref(), req.max_results, LIST_PAGE_100)?;
    let arns: Vec<String> = tasks[p.start..p.end]
        .iter()
        .map(|t| task_arn(&caller.region, &caller.account, &c.name, &t.id))
        .collect();
    Ok(with_token(json!({ "taskArns": arns }), &p))
}

fn task_json(caller: &Caller, cluster: &str, t: &Task) -> Value {
    let arn = task_arn(&caller.region, &caller.account, cluster, &t.id);
    let containers: Vec<Value> = t
        .containers
        .iter()
        .map(|c| {
            let mut v = json!({
                "taskArn": arn,
                "name": c.name,
                "image": c.image,
                "lastStatus": c.last_status,
            });
            if let (Some(d), Some(obj)) = (&c.image_digest, v.as_object_mut()) {
                obj.insert("imageDigest".to_owned(), json!(d));
            }
            v
        })
        .collect();
    let mut out = json!({
        "taskArn": arn,
        "clusterArn": cluster_arn(&caller.region, &caller.account, cluster),
        "taskDefinitionArn": t.task_definition_arn,
        "group": t.group,
        "lastStatus": t.last_status,
        "desiredStatus": t.desired_status,
        "launchType": t.launch_type,
        "containers": containers,
    });
    if let (Some(s), Some(obj)) = (&t.started_at, out.as_object_mut()) {
        obj.insert("startedAt".to_owned(), epoch(s));
    }
    out
}

fn describe_tasks(world: &World, caller: &Caller, req: DescribeInput) -> Result<Value, AwsError> {
    let c = cluster(world, caller, req.cluster.as_deref())?;
    let ids = req.tasks.unwrap_or_default();
    check_batch("tasks", ids.len(), 100)?;
    let (mut found, mut failures) = (Vec::new(), Vec::new());
    for id in &ids {
        let short = short_name(id);
        match c.tasks.iter().find(|t| t.id == short) {
            Some(t) => found.push(task_json(caller, &c.name, t)),
            None => failures.push(missing(task_arn(&caller.region, &caller.account, &c.name, short))),
        }
    }
    Ok(json!({ "tasks": found, "failures": failures }))
}
