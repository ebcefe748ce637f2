//! Kubernetes workloads: the six lists under `/apis/{apps,batch}/v1`, their
//! required fields, chunking, namespaces, the token and unknown resources.

use serde_json::Value;
use skyglue_sandbox::world::{KubeCluster, KubeWorkload};
use skyglue_sandbox::{Sandbox, World};

use crate::client::{Resp, request};

async fn get(sb: &Sandbox, path: &str, token: bool) -> Resp {
    let headers: Vec<(&str, String)> =
        if token { vec![("Authorization", "Bearer sandbox".to_owned())] } else { vec![] };
    request(sb.local_addr(), "GET", path, &headers, "").await
}

fn world() -> World {
    let mut prod = KubeCluster::new("prod")
        .with_workload(KubeWorkload::new("CronJob", "jobs", "report").with_container("r", "busybox:1"))
        .with_workload(
            KubeWorkload::new("DaemonSet", "kube-system", "agent")
                .with_replicas(3)
                .with_container("a", "agent:1"),
        )
        .with_workload(
            KubeWorkload::new("StatefulSet", "db", "pg")
                .with_init_container("init", "pg-init:1")
                .with_container("pg", "pg:16"),
        );
    for i in 0..5 {
        prod = prod.with_workload(
            KubeWorkload::new("Deployment", if i < 2 { "shop" } else { "web" }, &format!("d{i}"))
                .with_replicas(0)
                .with_container("app", "web:1"),
        );
    }
    World::default().with_kubernetes(prod)
}

#[tokio::test]
async fn each_kind_lists_with_its_required_fields_and_chunks() {
    let sb = crate::worlds::start(world()).await;
    let first = get(&sb, "/k8s/prod/apis/apps/v1/deployments?limit=3", true).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    assert_eq!(first["kind"], "DeploymentList");
    assert_eq!(first["items"].as_array().unwrap().len(), 3);
    assert_eq!(first["items"][0]["spec"]["replicas"], 0);
    assert_eq!(first["items"][0]["spec"]["selector"]["matchLabels"]["app"], "d0");
    assert_eq!(first["items"][0]["spec"]["template"]["spec"]["containers"][0]["image"], "web:1");
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    let rest =
        get(&sb, &format!("/k8s/prod/apis/apps/v1/deployments?limit=3&continue={token}"), true).await.json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 2);
    assert_eq!(rest["metadata"].get("continue"), None);

    let shop = get(&sb, "/k8s/prod/apis/apps/v1/namespaces/shop/deployments", true).await.json();
    assert_eq!(shop["items"].as_array().unwrap().len(), 2);
    let cron = get(&sb, "/k8s/prod/apis/batch/v1/cronjobs", true).await.json();
    let template = &cron["items"][0]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(template["containers"][0]["image"], "busybox:1");
    assert!(cron["items"][0]["spec"]["schedule"].is_string());
    let daemons = get(&sb, "/k8s/prod/apis/apps/v1/daemonsets", true).await.json();
    assert_eq!(daemons["items"][0]["status"]["desiredNumberScheduled"], 3);
    let sets = get(&sb, "/k8s/prod/apis/apps/v1/statefulsets", true).await.json();
    assert_eq!(sets["items"][0]["spec"]["template"]["spec"]["initContainers"][0]["image"], "pg-init:1");
    let jobs = get(&sb, "/k8s/prod/apis/batch/v1/jobs", true).await.json();
    assert_eq!(jobs["items"], Value::Array(vec![]));

    assert_eq!(get(&sb, "/k8s/prod/apis/apps/v1/deployments", false).await.status, 401);
    assert_eq!(get(&sb, "/k8s/prod/apis/apps/v1/widgets", true).await.status, 404);
    assert_eq!(get(&sb, "/k8s/nope/apis/apps/v1/deployments", true).await.status, 404);
    let calls = sb.calls();
    assert_eq!(calls.get("kubernetes:ListDeployments"), Some(&5), "{calls:?}");
    assert_eq!(calls.get("kubernetes:ListCronJobs"), Some(&1));
}
