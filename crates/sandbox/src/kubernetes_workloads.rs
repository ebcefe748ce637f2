//! The Kubernetes fake's workload lists: `GET .../apis/apps/v1/{deployments,
//! statefulsets,daemonsets,replicasets}` and `GET .../apis/batch/v1/{jobs,cronjobs}`,
//! cluster-wide or under `namespaces/{ns}/`, chunked with `limit` and
//! `continue` like the pod list. Each item carries every field the API
//! requires of its kind (a selector and a pod template; a CronJob's schedule
//! and job template; a DaemonSet's status counts), ordered by namespace and
//! name.

use serde_json::{Value, json};

use crate::ids::hex_id;
use crate::kubernetes::{KubeError, chunk, cluster, spec_json};
use crate::world::{KubeContainer, KubeWorkload, World};

/// The kind a `(group/version, resource)` path lists, and its counter name.
pub(crate) fn kind_of(group_version: &str, resource: &str) -> Option<(&'static str, &'static str)> {
    Some(match (group_version, resource) {
        ("apps/v1", "deployments") => ("Deployment", "ListDeployments"),
        ("apps/v1", "statefulsets") => ("StatefulSet", "ListStatefulSets"),
        ("apps/v1", "daemonsets") => ("DaemonSet", "ListDaemonSets"),
        ("apps/v1", "replicasets") => ("ReplicaSet", "ListReplicaSets"),
        ("batch/v1", "jobs") => ("Job", "ListJobs"),
        ("batch/v1", "cronjobs") => ("CronJob", "ListCronJobs"),
        _ => return None,
    })
}

/// Lists `kind` (from [`kind_of`]) in the cluster of `context`.
pub(crate) fn list_workloads(
    world: &World,
    context: &str,
    group_version: &str,
    kind: &str,
    namespace: Option<&str>,
    limit: Option<&str>,
    continue_token: Option<&str>,
) -> Result<Value, KubeError> {
    let cluster = cluster(world, context)?;
    let mut items: Vec<&KubeWorkload> = cluster
        .workloads
        .iter()
        .filter(|w| w.kind == kind && namespace.is_none_or(|ns| w.namespace == ns))
        .collect();
    items.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let (range, metadata) = chunk(items.len(), limit, continue_token)?;
    let items: Vec<Value> = items[range].iter().map(|w| workload_json(context, w)).collect();
    Ok(
        json!({ "apiVersion": group_version, "kind": format!("{kind}List"), "metadata": metadata, "items": items }),
    )
}

fn containers(list: &[(String, String)]) -> Vec<Value> {
    list.iter()
        .map(|(name, image)| {
            spec_json(&KubeContainer { name: name.clone(), image: image.clone(), image_id: None })
        })
        .collect()
}

/// The pod template (`spec.template`) of `w`.
fn template(w: &KubeWorkload, restart_policy: &str) -> Value {
    let mut spec = json!({
        "containers": containers(&w.containers),
        "restartPolicy": restart_policy,
        "serviceAccountName": "default",
    });
    if !w.init_containers.is_empty() {
        spec["initContainers"] = json!(containers(&w.init_containers));
    }
    json!({ "metadata": { "labels": { "app": w.name } }, "spec": spec })
}

fn workload_json(context: &str, w: &KubeWorkload) -> Value {
    let uid = hex_id(&format!("{}:{context}:{}:{}", w.kind, w.namespace, w.name), 32);
    let uid = format!("{}-{}-{}-{}-{}", &uid[..8], &uid[8..12], &uid[12..16], &uid[16..20], &uid[20..]);
    let selector = json!({ "matchLabels": { "app": w.name } });
    let (spec, status) = match w.kind.as_str() {
        "Deployment" | "ReplicaSet" => (
            json!({ "replicas": w.replicas, "selector": selector, "template": template(w, "Always") }),
            json!({ "replicas": w.replicas, "observedGeneration": 1 }),
        ),
        "StatefulSet" => (
            json!({
                "replicas": w.replicas, "selector": selector, "serviceName": w.name,
                "template": template(w, "Always"),
            }),
            json!({ "replicas": w.replicas, "observedGeneration": 1 }),
        ),
        "DaemonSet" => (
            json!({ "selector": selector, "template": template(w, "Always") }),
            json!({
                "currentNumberScheduled": w.replicas, "desiredNumberScheduled": w.replicas,
                "numberMisscheduled": 0, "numberReady": w.replicas,
            }),
        ),
        "Job" => (
            json!({ "parallelism": w.replicas, "completions": 1, "backoffLimit": 6, "template": template(w, "Never") }),
            json!({}),
        ),
        _ => (
            json!({
                "schedule": "0 3 * * *",
                "concurrencyPolicy": "Forbid",
                "suspend": false,
                "jobTemplate": { "spec": { "backoffLimit": 6, "template": template(w, "Never") } },
            }),
            json!({}),
        ),
    };
    json!({
        "metadata": { "name": w.name, "namespace": w.namespace, "uid": uid, "resourceVersion": "1", "generation": 1 },
        "spec": spec,
        "status": status,
    })
}
