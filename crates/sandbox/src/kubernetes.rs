//! A Kubernetes API server fake: listing pods (`GET .../api/v1/pods` and
//! `GET .../api/v1/namespaces/{ns}/pods`; workloads are in
//! `kubernetes_workloads.rs`) of every world cluster, each under its own
//! path prefix `/k8s/<context>` so one port serves every kubeconfig context.
//!
//! Lists are `PodList` JSON as the API server sends it (items without `kind` and
//! `apiVersion`), ordered by namespace and name, chunked like the real server: with
//! `limit`, at most that many items plus `metadata.continue` (and
//! `remainingItemCount`) while more remain. `labelSelector` and `fieldSelector` are
//! ignored. Requests need `Authorization: Bearer sandbox`; errors are `Status` objects.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::aws::{decode_token, encode_token};
use crate::ids::hex_id;
use crate::world::{KubeContainer, KubePod, World};

/// The bearer token the sandbox's API servers accept.
pub(crate) const TOKEN: &str = "sandbox";

/// A failed request: the `Status` object's code, reason and message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KubeError {
    /// HTTP status.
    pub code: u16,
    /// `Unauthorized`, `NotFound`, `BadRequest`, ...
    pub reason: String,
    /// Human-readable message.
    pub message: String,
}

impl KubeError {
    pub(crate) fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        KubeError { code, reason: reason.to_owned(), message: message.into() }
    }

    /// 401, as the API server answers a missing or wrong token.
    pub(crate) fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    /// The `Status` response. A 429 carries `Retry-After: 1`.
    pub(crate) fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response.headers_mut().insert("retry-after", axum::http::HeaderValue::from_static("1"));
        }
        response
    }
}

/// Whether the request carries the sandbox's bearer token.
pub(crate) fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|token| token.trim() == TOKEN)
}

/// `GET /api/v1/pods` (`namespace` None) or `GET /api/v1/namespaces/{ns}/pods` of the
/// cluster of `context`, with the `limit` and `continue` query parameters.
pub(crate) fn list_pods(
    world: &World,
    context: &str,
    namespace: Option<&str>,
    limit: Option<&str>,
    continue_token: Option<&str>,
) -> Result<Value, KubeError> {
    let cluster = cluster(world, context)?;
    let mut pods: Vec<&KubePod> =
        cluster.pods.iter().filter(|p| namespace.is_none_or(|ns| p.namespace == ns)).collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let (range, metadata) = chunk(pods.len(), limit, continue_token)?;
    let items: Vec<Value> = pods[range].iter().map(|p| pod_json(context, p)).collect();
    Ok(json!({ "apiVersion": "v1", "kind": "PodList", "metadata": metadata, "items": items }))
}

/// The cluster of `context`, or the `NotFound` a request for another gets.
pub(crate) fn cluster<'w>(
    world: &'w World,
    context: &str,
) -> Result<&'w crate::world::KubeCluster, KubeError> {
    world.kube_cluster(context).ok_or_else(|| {
        KubeError::new(404, "NotFound", format!("the sandbox has no cluster for context {context}"))
    })
}

/// The chunk of a list of `total` items that `limit` and `continue` ask for,
/// and the list's `metadata` (with `continue` and `remainingItemCount` while
/// more remain).
pub(crate) fn chunk(
    total: usize,
    limit: Option<&str>,
    continue_token: Option<&str>,
) -> Result<(std::ops::Range<usize>, Value), KubeError> {
    let limit = match limit.filter(|l| !l.is_empty()) {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(n) if n > 0 => Some(n as usize),
            Ok(_) => None,
            Err(_) => return Err(KubeError::new(400, "BadRequest", format!("invalid limit {raw:?}"))),
        },
    };
    let start = match continue_token.filter(|c| !c.is_empty()) {
        None => 0,
        Some(token) => decode_token(token)
            .filter(|&offset| offset <= total)
            .ok_or_else(|| KubeError::new(400, "BadRequest", "continue key is not valid"))?,
    };
    let end = limit.map_or(total, |l| (start + l).min(total));
    let mut metadata = json!({ "resourceVersion": "1" });
    if end < total {
        metadata["continue"] = json!(encode_token(end));
        metadata["remainingItemCount"] = json!(total - end);
    }
    Ok((start..end, metadata))
}

pub(crate) fn spec_json(c: &KubeContainer) -> Value {
    json!({
        "name": c.name,
        "image": c.image,
        "imagePullPolicy": "IfNotPresent",
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    })
}

/// A container's status in a pod of `phase`; `init` containers have completed in a
/// running pod.
fn status_json(context: &str, pod: &KubePod, c: &KubeContainer, init: bool) -> Value {
    let image_id = c.image_id.clone().unwrap_or_default();
    let terminated =
        |code: i32, reason: &str| json!({ "terminated": { "exitCode": code, "reason": reason } });
    let (state, ready, started) = match pod.phase.as_str() {
        _ if image_id.is_empty() => (json!({ "waiting": { "reason": "ContainerCreating" } }), false, false),
        "Running" if init => (terminated(0, "Completed"), true, false),
        "Running" => (json!({ "running": {} }), true, true),
        "Succeeded" => (terminated(0, "Completed"), false, false),
        "Failed" => (terminated(1, "Error"), false, false),
        _ => (json!({ "waiting": { "reason": "PodInitializing" } }), false, false),
    };
    let mut status = json!({
        "name": c.name,
        "image": c.image,
        "imageID": image_id,
        "ready": ready,
        "restartCount": 0,
        "started": started,
        "state": state,
    });
    if !image_id.is_empty() {
        let seed = format!("container:{context}:{}:{}:{}", pod.namespace, pod.name, c.name);
        status["containerID"] = json!(format!("containerd://{}", hex_id(&seed, 64)));
    }
    status
}

fn pod_json(context: &str, p: &KubePod) -> Value {
    let uid = hex_id(&format!("pod:{context}:{}:{}", p.namespace, p.name), 32);
    let uid = format!("{}-{}-{}-{}-{}", &uid[..8], &uid[8..12], &uid[12..16], &uid[16..20], &uid[20..]);
    let mut spec = json!({
        "containers": p.containers.iter().map(spec_json).collect::<Vec<_>>(),
        "restartPolicy": "Always",
        "serviceAccountName": "default",
    });
    if !p.init_containers.is_empty() {
        spec["initContainers"] = json!(p.init_containers.iter().map(spec_json).collect::<Vec<_>>());
    }
    let mut status = json!({ "phase": p.phase, "qosClass": "BestEffort" });
    if let Some(node) = &p.node_name {
        spec["nodeName"] = json!(node);
        status["containerStatuses"] =
            json!(p.containers.iter().map(|c| status_json(context, p, c, false)).collect::<Vec<_>>());
        if !p.init_containers.is_empty() {
            status["initContainerStatuses"] =
                json!(p.init_containers.iter().map(|c| status_json(context, p, c, true)).collect::<Vec<_>>());
        }
    }
    json!({
        "metadata": {
            "name": p.name,
            "namespace": p.namespace,
            "uid": uid,
            "resourceVersion": "1",
        },
        "spec": spec,
        "status": status,
    })
}

/// A kubeconfig with one cluster, context and user per world cluster, each served at
/// `<base_url>/k8s/<context>` with the sandbox's token; the first is current.
pub(crate) fn kubeconfig(world: &World, base_url: &str) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let mut clusters = String::new();
    let mut contexts = String::new();
    let mut users = String::new();
    for c in &world.kubernetes {
        let name = q(&c.context);
        let server = q(&format!("{base_url}/k8s/{}", path_segment(&c.context)));
        clusters.push_str(&format!("- name: {name}\n  cluster:\n    server: {server}\n"));
        contexts.push_str(&format!("- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n"));
        users.push_str(&format!("- name: {name}\n  user:\n    token: {}\n", q(TOKEN)));
    }
    let list = |items: String| if items.is_empty() { " []\n".to_owned() } else { format!("\n{items}") };
    let current = world.kubernetes.first().map_or_else(|| q(""), |c| q(&c.context));
    format!(
        "apiVersion: v1\nkind: Config\npreferences: {{}}\nclusters:{}contexts:{}users:{}current-context: {current}\n",
        list(clusters),
        list(contexts),
        list(users),
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a context
/// such as `arn:aws:eks:us-east-1:111111111111:cluster/prod` stays one path segment.
pub(crate) fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::world::KubeCluster;

    #[test]
    fn contexts_become_single_path_segments() {
        assert_eq!(path_segment("prod-eks"), "prod-eks");
        assert_eq!(
            path_segment("arn:aws:eks:us-east-1:111111111111:cluster/prod"),
            "arn%3Aaws%3Aeks%3Aus-east-1%3A111111111111%3Acluster%2Fprod"
        );
    }

    #[test]
    fn kubeconfig_lists_every_cluster_and_picks_the_first() {
        let world =
            World::default().with_kubernetes(KubeCluster::new("a")).with_kubernetes(KubeCluster::new("b/c"));
        let config = kubeconfig(&world, "http://127.0.0.1:9");
        assert!(config.contains("server: \"http://127.0.0.1:9/k8s/a\"\n"), "{config}");
        assert!(config.contains("server: \"http://127.0.0.1:9/k8s/b%2Fc\"\n"), "{config}");
        assert!(config.contains("current-context: \"a\"\n"), "{config}");
        assert_eq!(config.matches("token: \"sandbox\"").count(), 2);
        let empty = kubeconfig(&World::default(), "http://x");
        assert!(empty.contains("clusters: []\n"), "{empty}");
    }
}
