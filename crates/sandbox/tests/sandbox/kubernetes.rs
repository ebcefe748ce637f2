//! Kubernetes: PodList shape, limit/continue chunking, namespaces, contexts, the
//! bearer token, faults and the kubeconfig.

use serde_json::{Value, json};
use skyglue_sandbox::world::{KubeCluster, KubePod};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig, World};

use crate::client::{Resp, request};

const ECR: &str = "111111111111.dkr.ecr.us-east-1.amazonaws.com";
const EKS_CONTEXT: &str = "arn:aws:eks:us-east-1:111111111111:cluster/staging";

fn image_id(n: u32) -> String {
    format!("docker-pullable://{ECR}/web@sha256:{n:064x}")
}

/// `prod` with 7 pods over three namespaces, and an EKS-style context with one.
fn world() -> World {
    let web = |name: &str, n: u32| {
        KubePod::running("web", name, "node-a").with_container(
            "app",
            &format!("{ECR}/web:v{n}"),
            Some(&image_id(n)),
        )
    };
    let prod = KubeCluster::new("prod")
        .with_pod(web("web-2", 2))
        .with_pod(web("web-1", 1).with_init_container(
            "migrate",
            &format!("{ECR}/migrate:v1"),
            Some(&image_id(9)),
        ))
        .with_pod(web("web-3", 3).with_container(
            "envoy",
            "envoyproxy/envoy:v1.30",
            Some("docker.io/envoyproxy/envoy@sha256:ab"),
        ))
        .with_pod(KubePod::new("jobs", "nightly-1", "Succeeded", "node-b").with_container(
            "job",
            "busybox:1",
            Some("busybox@sha256:cd"),
        ))
        .with_pod(KubePod::new("jobs", "nightly-2", "Failed", "node-b").with_container(
            "job",
            "busybox:1",
            Some("busybox@sha256:cd"),
        ))
        .with_pod(KubePod::new("jobs", "pending", "Pending", "").with_container("job", "busybox:2", None))
        .with_pod(
            KubePod::new("default", "pulling", "Pending", "node-a").with_container("x", "nginx:1", None),
        );
    let staging = KubeCluster::new(EKS_CONTEXT).with_pod(web("web-0", 0));
    World::default().with_kubernetes(prod).with_kubernetes(staging)
}

async fn get(sb: &Sandbox, path: &str, token: Option<&str>) -> Resp {
    let headers: Vec<(&str, String)> =
        token.map(|t| ("Authorization", format!("Bearer {t}"))).into_iter().collect();
    request(sb.local_addr(), "GET", path, &headers, "").await
}

async fn list(sb: &Sandbox, path: &str) -> Value {
    let r = get(sb, path, Some("sandbox")).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["metadata"]["namespace"].as_str().unwrap(),
                p["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect()
}

async fn start() -> Sandbox {
    Sandbox::start(world(), SandboxConfig::default()).await.unwrap()
}

#[tokio::test]
async fn pod_lists_have_the_api_servers_shape() {
    let sb = start().await;
    let all = list(&sb, "/k8s/prod/api/v1/pods").await;
    assert_eq!((all["apiVersion"].clone(), all["kind"].clone()), (json!("v1"), json!("PodList")));
    assert_eq!(all["metadata"], json!({"resourceVersion": "1"}), "no continue without a limit");
    assert_eq!(
        names(&all),
        [
            "default/pulling",
            "jobs/nightly-1",
            "jobs/nightly-2",
            "jobs/pending",
            "web/web-1",
            "web/web-2",
            "web/web-3"
        ]
    );
    let web1 = &all["items"][4];
    assert!(web1.get("kind").is_none(), "list items carry no kind, like the API server's");
    assert_eq!(web1["metadata"]["uid"].as_str().unwrap().len(), 36);
    assert_eq!(web1["spec"]["nodeName"], "node-a");
    assert_eq!(web1["spec"]["containers"][0]["image"], format!("{ECR}/web:v1"));
    assert_eq!(web1["spec"]["initContainers"][0]["name"], "migrate");
    let status = &web1["status"];
    assert_eq!(status["phase"], "Running");
    let app = &status["containerStatuses"][0];
    assert_eq!(app["imageID"], image_id(1));
    assert_eq!(app["image"], format!("{ECR}/web:v1"));
    assert_eq!((app["ready"].clone(), app["restartCount"].clone()), (json!(true), json!(0)));
    assert_eq!(app["state"], json!({"running": {}}));
    let init = &status["initContainerStatuses"][0];
    assert_eq!(init["imageID"], image_id(9));
    assert_eq!(init["state"]["terminated"]["exitCode"], 0);
    assert_eq!(all["items"][6]["status"]["containerStatuses"].as_array().unwrap().len(), 2);
    let failed = &all["items"][2]["status"]["containerStatuses"][0];
    assert_eq!(failed["state"]["terminated"]["exitCode"], 1);
    let unscheduled = &all["items"][3];
    assert!(unscheduled["spec"].get("nodeName").is_none());
    assert!(unscheduled["status"].get("containerStatuses").is_none());
    let pulling = &all["items"][0]["status"]["containerStatuses"][0];
    assert_eq!(pulling["imageID"], "");
    assert_eq!(pulling["state"]["waiting"]["reason"], "ContainerCreating");
}

#[tokio::test]
async fn limit_and_continue_chunk_the_list() {
    let sb = start().await;
    let mut seen = Vec::new();
    let mut sizes = Vec::new();
    let mut remaining = Vec::new();
    let mut path = "/k8s/prod/api/v1/pods?limit=3".to_owned();
    loop {
        let page = list(&sb, &path).await;
        sizes.push(page["items"].as_array().unwrap().len());
        seen.extend(names(&page));
        match page["metadata"].get("continue").and_then(Value::as_str) {
            Some(token) => {
                remaining.push(page["metadata"]["remainingItemCount"].as_u64().unwrap());
                path = format!("/k8s/prod/api/v1/pods?limit=3&continue={token}");
            }
            None => break,
        }
    }
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(remaining, [4, 1]);
    assert_eq!(seen, names(&list(&sb, "/k8s/prod/api/v1/pods").await));
    // limit=0 means no limit, as on the real server.
    assert_eq!(list(&sb, "/k8s/prod/api/v1/pods?limit=0").await["items"].as_array().unwrap().len(), 7);
    let r = get(&sb, "/k8s/prod/api/v1/pods?limit=3&continue=garbage", Some("sandbox")).await;
    assert_eq!((r.status, r.json()["reason"].clone()), (400, json!("BadRequest")));
    assert_eq!(sb.calls().get("kubernetes:ListPods"), Some(&6));
}

#[tokio::test]
async fn namespaces_and_contexts_scope_the_list() {
    let sb = start().await;
    let web = list(&sb, "/k8s/prod/api/v1/namespaces/web/pods?limit=2").await;
    assert_eq!(names(&web), ["web/web-1", "web/web-2"]);
    assert!(web["metadata"]["continue"].is_string());
    let none = list(&sb, "/k8s/prod/api/v1/namespaces/nope/pods").await;
    assert_eq!(none["items"], json!([]));
    let eks =
        format!("/k8s/{}/api/v1/pods", "arn%3Aaws%3Aeks%3Aus-east-1%3A111111111111%3Acluster%2Fstaging");
    assert_eq!(names(&list(&sb, &eks).await), ["web/web-0"]);
    let r = get(&sb, "/k8s/ghost/api/v1/pods", Some("sandbox")).await;
    assert_eq!(
        (r.status, r.json()["kind"].clone(), r.json()["reason"].clone()),
        (404, json!("Status"), json!("NotFound"))
    );
}

#[tokio::test]
async fn requests_need_the_bearer_token() {
    let sb = start().await;
    for token in [None, Some("wrong")] {
        let r = get(&sb, "/k8s/prod/api/v1/pods", token).await;
        assert_eq!(r.status, 401);
        assert_eq!(
            r.json(),
            json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                   "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
        );
    }
    assert_eq!(sb.calls().get("kubernetes:ListPods"), Some(&2), "refused calls count too");
}

#[tokio::test]
async fn faults_answer_with_a_status() {
    let config = SandboxConfig {
        faults: vec![Fault::nth_call("kubernetes:ListPods", 1).error(429, "TooManyRequests")],
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(world(), config).await.unwrap();
    let r = get(&sb, "/k8s/prod/api/v1/pods", Some("sandbox")).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("1"));
    assert_eq!(
        (r.json()["kind"].clone(), r.json()["reason"].clone()),
        (json!("Status"), json!("TooManyRequests"))
    );
    assert_eq!(r.json()["code"], 429);
    assert_eq!(get(&sb, "/k8s/prod/api/v1/pods", Some("sandbox")).await.status, 200);
}

#[tokio::test]
async fn kubeconfig_points_every_context_at_the_sandbox() {
    let sb = start().await;
    let config = sb.kubeconfig();
    let base = sb.endpoint_url();
    assert!(config.starts_with("apiVersion: v1\nkind: Config\n"), "{config}");
    assert!(config.contains(&format!("    server: \"{base}/k8s/prod\"\n")), "{config}");
    let encoded = "arn%3Aaws%3Aeks%3Aus-east-1%3A111111111111%3Acluster%2Fstaging";
    assert!(config.contains(&format!("    server: \"{base}/k8s/{encoded}\"\n")), "{config}");
    assert!(config.contains(&format!("- name: \"{EKS_CONTEXT}\"\n")), "{config}");
    assert_eq!(config.matches("    token: \"sandbox\"\n").count(), 2);
    assert!(config.ends_with("current-context: \"prod\"\n"), "{config}");
    // The server URL of each context serves that cluster.
    for (context, pods) in [("prod", 7), (encoded, 1)] {
        let path = format!("/k8s/{context}/api/v1/pods");
        assert_eq!(list(&sb, &path).await["items"].as_array().unwrap().len(), pods);
    }
}
