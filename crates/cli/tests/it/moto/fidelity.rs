//! Fidelity: the sandbox serving the world moto holds answers skyglue's
//! queries with the rows moto does.
//!
//! [`DUMP`] reads the seeded moto world back through boto3 (two accounts x two
//! regions, every repository, image, cluster, service, task and task
//! definition) as the sandbox's `World` JSON, mirroring exactly what moto
//! answers (its push times, deployments, PENDING containers without digests,
//! no start times). The same queries then run over both, and their rows are
//! compared as sets. Pagination and throttling are not compared: moto ignores
//! them, and the sandbox follows the real API.

use std::collections::BTreeSet;

use serde_json::Value;
use skyglue_core::Engine;
use skyglue_sandbox::{Sandbox, SandboxConfig, World};

use super::cli::{Skyglue, two_accounts};
use super::library::{Rows, query, session};
use super::world::{REGIONS, moto, python};

/// `python -c DUMP ENDPOINT REGION...`: moto's state as a sandbox `World`, with
/// account A's default credentials and account B's through its role.
const DUMP: &str = r#"
import json, sys, boto3
E = sys.argv[1]
A, B = "123456789012", "222222222222"
ts = lambda d: d.isoformat() if d else None
def sessions():
    a = boto3.Session()
    sts = a.client("sts", region_name="us-east-1", endpoint_url=E)
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{B}:role/skyglue", RoleSessionName="dump")["Credentials"]
    b = boto3.Session(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                      aws_session_token=c["SessionToken"])
    return [(A, "a", a), (B, "b", b)]
def image(i):
    return {"digest": i["imageDigest"], "tags": i.get("imageTags", []), "size_in_bytes": i["imageSizeInBytes"],
            "pushed_at": ts(i["imagePushedAt"]), "last_recorded_pull_time": ts(i.get("lastRecordedPullTime")),
            "manifest_media_type": i["imageManifestMediaType"], "artifact_media_type": i.get("artifactMediaType")}
def service(s):
    deployments = [{"id": d["id"], "status": d["status"], "task_definition": d["taskDefinition"],
                    "desired_count": d["desiredCount"], "running_count": d["runningCount"],
                    "rollout_state": d["rolloutState"], "created_at": ts(d["createdAt"])} for d in s["deployments"]]
    return {"name": s["serviceName"], "status": s["status"], "task_definition": s["taskDefinition"],
            "desired_count": s["desiredCount"], "running_count": s["runningCount"], "launch_type": s["launchType"],
            "deployments": deployments}
def task(t):
    containers = [{"name": c["name"], "image": c.get("image"), "image_digest": c.get("imageDigest"),
                   "last_status": c["lastStatus"]} for c in t["containers"]]
    return {"id": t["taskArn"].rsplit("/", 1)[1], "task_definition_arn": t["taskDefinitionArn"],
            "group": t["group"], "last_status": t["lastStatus"], "desired_status": t["desiredStatus"],
            "launch_type": t["launchType"], "started_at": ts(t.get("startedAt")), "containers": containers}
def task_definition(ecs, arn):
    td = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
    # Moto records no registeredAt, which the sandbox requires: see SKIP.
    return {"family": td["family"], "revision": td["revision"], "status": td["status"],
            "registered_at": ts(td.get("registeredAt")) or "2000-01-01T00:00:00Z",
            "deregistered_at": ts(td.get("deregisteredAt")),
            "container_definitions": [{"name": c["name"], "image": c["image"], "essential": c["essential"]}
                                      for c in td["containerDefinitions"]]}
def region_world(s, region):
    ecr = s.client("ecr", region_name=region, endpoint_url=E)
    ecs = s.client("ecs", region_name=region, endpoint_url=E)
    images = lambda name: ecr.describe_images(repositoryName=name)["imageDetails"]
    repositories = [{"name": r["repositoryName"], "created_at": ts(r["createdAt"]),
                     "image_tag_mutability": r["imageTagMutability"],
                     "images": [image(i) for i in images(r["repositoryName"])]}
                    for r in ecr.describe_repositories()["repositories"]]
    clusters = []
    for c in ecs.describe_clusters(clusters=ecs.list_clusters()["clusterArns"])["clusters"]:
        name = c["clusterName"]
        arns = ecs.list_services(cluster=name)["serviceArns"]
        services = ecs.describe_services(cluster=name, services=arns)["services"] if arns else []
        tasks = []
        for desired in ["RUNNING", "STOPPED"]:
            arns = ecs.list_tasks(cluster=name, desiredStatus=desired)["taskArns"]
            tasks += ecs.describe_tasks(cluster=name, tasks=arns)["tasks"] if arns else []
        clusters.append({"name": name, "services": [service(x) for x in services],
                         "tasks": [task(t) for t in tasks]})
    tds = [task_definition(ecs, arn) for status in ["ACTIVE", "INACTIVE"]
           for arn in ecs.list_task_definitions(status=status)["taskDefinitionArns"]]
    return {"region": region, "repositories": repositories, "clusters": clusters, "task_definitions": tds}
accounts = [{"id": id, "name": name, "access_key_id": "SANDBOX" + id,
             "regions": [region_world(s, r) for r in sys.argv[2:]]} for id, name, s in sessions()]
json.dump({"accounts": accounts}, sys.stdout)
"#;

/// Columns not compared, because moto answers them unlike ECS and the
/// sandbox's world cannot mirror that:
/// - a cluster's counts: moto reports `activeServicesCount` 0 with active
///   services, `runningTasksCount` 0 with a RUNNING task, and counts its
///   services' pending tasks in `pendingTasksCount`; the sandbox counts them;
/// - `registered_at`: moto's task definitions have no `registeredAt`.
const SKIP: [&str; 4] =
    ["active_services_count", "running_tasks_count", "pending_tasks_count", "registered_at"];

/// Rows as JSON objects without the [`SKIP`] columns, as a set.
fn rendered(rows: &Rows) -> BTreeSet<String> {
    rows.rows
        .iter()
        .map(|row| {
            let mut row = row.clone();
            row.retain(|column, _| !SKIP.contains(&column.as_str()));
            Value::Object(row).to_string()
        })
        .collect()
}

/// The queries compared: every table in full, key-filtered scans, the view, joins.
fn queries() -> Vec<String> {
    let world = &moto().world;
    let inactive = world.ecs[0].task_definitions.iter().find(|td| td.status == "INACTIVE").expect("INACTIVE");
    let first = &world.ecs[0].task_definitions[0].task_definition_arn;
    let last = world.ecs.last().and_then(|p| p.task_definitions.last()).expect("a task definition");
    let image = world.images.iter().find(|i| i.image_tags.len() > 1).expect("a multi-tag image");
    let apps = &world.ecs[0].clusters[0].cluster_arn;
    let unknown = format!("sha256:{}", "0".repeat(64));
    let mut queries: Vec<String> = [
        "aws_ecr_repository",
        "aws_ecr_image",
        "aws_ecs_cluster",
        "aws_ecs_service",
        "aws_ecs_task",
        "aws_ecs_task_definition",
        "aws_ecs_image_in_use",
    ]
    .map(|table| format!("SELECT * FROM {table}"))
    .into();
    queries.extend([
        "SELECT * FROM aws_ecr_repository WHERE repository_name = 'web'".to_owned(),
        format!(
            "SELECT * FROM aws_ecr_image WHERE repository_name = '{}' AND image_digest IN ('{}', '{unknown}')",
            image.repository_name, image.image_digest
        ),
        format!("SELECT * FROM aws_ecs_cluster WHERE cluster_arn = '{apps}'"),
        format!("SELECT * FROM aws_ecs_service WHERE cluster_arn = '{apps}'"),
        "SELECT * FROM aws_ecs_task WHERE desired_status = 'STOPPED'".to_owned(),
        format!(
            "SELECT * FROM aws_ecs_task_definition WHERE task_definition_arn = '{}'",
            inactive.task_definition_arn
        ),
        format!(
            "SELECT * FROM aws_ecs_task_definition WHERE task_definition_arn IN ('{first}', '{}')",
            last.task_definition_arn
        ),
        "SELECT * FROM aws_ecs_task_definition WHERE status = 'INACTIVE'".to_owned(),
        "SELECT * FROM aws_ecs_task_definition WHERE family = 'web'".to_owned(),
        "SELECT account_id, region, count(*) AS images, sum(image_size_in_bytes) AS bytes \
         FROM aws_ecr_image GROUP BY account_id, region"
            .to_owned(),
        // Which pushed images ECS uses, and which none does (the cleanup policy's question).
        "SELECT u.account_id, u.region, u.used_by, u.kind, i.repository_name, i.image_digest, i.image_tags \
         FROM aws_ecs_image_in_use u JOIN aws_ecr_image i \
         ON i.registry_id = u.registry_id AND i.region = u.image_region \
         AND i.repository_name = u.repository_name \
         AND (i.image_digest = u.digest OR array_has(i.image_tags, u.tag))"
            .to_owned(),
        "SELECT i.account_id, i.region, i.repository_name, i.image_digest, i.image_tags, i.image_pushed_at \
         FROM aws_ecr_image i LEFT JOIN aws_ecs_image_in_use u \
         ON i.registry_id = u.registry_id AND i.region = u.image_region \
         AND i.repository_name = u.repository_name \
         AND (i.image_digest = u.digest OR array_has(i.image_tags, u.tag)) \
         WHERE u.used_by IS NULL"
            .to_owned(),
        // Services with the task definitions their deployments run.
        "SELECT s.arn, d['id'] AS deployment, d['rollout_state'] AS rollout, td.family, td.revision, \
         td.status, td.container_definitions \
         FROM (SELECT arn, unnest(deployments) AS d FROM aws_ecs_service) s \
         JOIN aws_ecs_task_definition td ON td.task_definition_arn = s.d['task_definition']"
            .to_owned(),
    ]);
    queries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_serving_motos_world_answers_like_moto() {
    let moto = moto();
    let dump = python("the moto dump", &["-c", DUMP, moto.endpoint(), REGIONS[0], REGIONS[1]])
        .unwrap_or_else(|e| panic!("{e}"));
    let world: World = serde_json::from_str(&dump).expect("moto's state as a sandbox world");
    assert_eq!(world.image_count(), moto.world.images.len(), "the dump has every seeded image");

    let sandbox = Sandbox::start(world.clone(), SandboxConfig::default()).await.expect("sandbox starts");
    // Named like the moto connections; account_id comes from GetCallerIdentity on both sides.
    let triples: Vec<(String, String, String)> = world
        .accounts
        .iter()
        .flat_map(|a| REGIONS.map(|r| (a.name.clone(), a.access_key_id.clone(), r.to_owned())))
        .collect();
    let connections =
        skyglue::sandbox::connections_at(&sandbox.endpoint_url(), &triples).await.expect("connections");
    let sandboxed = Engine::new(connections, skyglue::sandbox::registry()).session().await.expect("session");
    let config = Skyglue::new(&two_accounts(moto.endpoint()));
    let moto_ctx = session(config.config_path()).await;

    let mut differences = Vec::new();
    for sql in queries() {
        let (expected, actual) = (query(&moto_ctx, &sql).await, query(&sandboxed, &sql).await);
        assert!(!expected.rows.is_empty(), "moto returns rows for {sql}");
        assert_eq!(actual.schema, expected.schema, "{sql}");
        let (expected, actual) = (rendered(&expected), rendered(&actual));
        let missing: Vec<&String> = expected.difference(&actual).collect();
        let unexpected: Vec<&String> = actual.difference(&expected).collect();
        if !missing.is_empty() || !unexpected.is_empty() {
            differences
                .push(format!("{sql}\n  only moto: {missing:#?}\n  only the sandbox: {unexpected:#?}"));
        }
    }
    assert!(differences.is_empty(), "{} queries differ:\n{}", differences.len(), differences.join("\n\n"));
}
