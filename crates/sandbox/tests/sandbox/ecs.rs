//! ECS: default page sizes, batch limits, shapes, task definitions and deletions.

use serde_json::{Value, json};
use skyglue_sandbox::World;

use crate::client::{STAGING_KEY, aws, aws_as, ok, walk};
use crate::worlds::{sized_world, start};

#[tokio::test]
async fn list_services_defaults_to_pages_of_10() {
    for n in [9, 10, 11] {
        let sb = start(sized_world(n)).await;
        let first = ok(&sb, "ecs:ListServices", json!({"cluster": "big"})).await;
        assert_eq!(first["serviceArns"].as_array().unwrap().len(), n.min(10), "n={n}");
        assert_eq!(first.get("nextToken").is_some(), n > 10, "n={n}");
        let (all, pages) = walk(&sb, "ecs:ListServices", json!({"cluster": "big"}), "serviceArns").await;
        assert_eq!((all.len(), pages), (n, n.div_ceil(10)));
    }
}

#[tokio::test]
async fn lists_default_to_pages_of_100() {
    for n in [99, 100, 101] {
        let sb = start(sized_world(n)).await;
        for (op, body, field) in [
            ("ecs:ListTasks", json!({"cluster": "big"}), "taskArns"),
            ("ecs:ListTaskDefinitions", json!({"familyPrefix": "big"}), "taskDefinitionArns"),
            ("ecs:ListClusters", json!({}), "clusterArns"),
        ] {
            let first = ok(&sb, op, body.clone()).await;
            assert_eq!(first[field].as_array().unwrap().len(), n.min(100), "{op} n={n}");
            assert_eq!(first.get("nextToken").is_some(), n > 100, "{op} n={n}");
            let (all, _) = walk(&sb, op, body, field).await;
            assert_eq!(all.len(), n, "{op}");
        }
    }
}

#[tokio::test]
async fn max_results_above_100_is_rejected() {
    let sb = start(sized_world(3)).await;
    for (op, body) in [
        ("ecs:ListServices", json!({"cluster": "big", "maxResults": 101})),
        ("ecs:ListTasks", json!({"cluster": "big", "maxResults": 101})),
        ("ecs:ListClusters", json!({"maxResults": 0})),
        ("ecs:ListTaskDefinitions", json!({"maxResults": 101})),
        ("ecs:ListTaskDefinitionFamilies", json!({"maxResults": 101})),
    ] {
        let r = aws(&sb, op, body).await;
        assert_eq!((r.status, r.error_type()), (400, "InvalidParameterException".into()), "{op}");
    }
    let out = ok(&sb, "ecs:ListServices", json!({"cluster": "big", "maxResults": 100})).await;
    assert_eq!(out["serviceArns"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn batch_maxima_are_enforced() {
    let sb = start(sized_world(101)).await;
    let services = |n: usize| (0..n).map(|i| format!("s{i}")).collect::<Vec<_>>();
    let out = ok(&sb, "ecs:DescribeServices", json!({"cluster": "big", "services": services(10)})).await;
    assert_eq!(out["services"].as_array().unwrap().len(), 10);
    let r = aws(&sb, "ecs:DescribeServices", json!({"cluster": "big", "services": services(11)})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
    let tasks = |n: usize| (0..n).map(|i| format!("{i:032x}")).collect::<Vec<_>>();
    let out = ok(&sb, "ecs:DescribeTasks", json!({"cluster": "big", "tasks": tasks(100)})).await;
    assert_eq!(out["tasks"].as_array().unwrap().len(), 100);
    let r = aws(&sb, "ecs:DescribeTasks", json!({"cluster": "big", "tasks": tasks(101)})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
    let clusters: Vec<String> = (0..101).map(|i| format!("c{i}")).collect();
    let r = aws(&sb, "ecs:DescribeClusters", json!({"clusters": clusters})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
    let tds: Vec<String> = (1..=11).map(|i| format!("big:{i}")).collect();
    let r = aws(&sb, "ecs:DeleteTaskDefinitions", json!({"taskDefinitions": tds})).await;
    assert_eq!(r.error_type(), "InvalidParameterException");
}

#[tokio::test]
async fn services_and_tasks_have_the_real_shape() {
    let sb = start(World::demo()).await;
    let out = ok(&sb, "ecs:DescribeServices", json!({"cluster": "prod", "services": ["web", "nope"]})).await;
    let web = &out["services"][0];
    assert_eq!(web["serviceArn"], "arn:aws:ecs:us-east-1:111111111111:service/prod/web");
    assert_eq!(web["clusterArn"], "arn:aws:ecs:us-east-1:111111111111:cluster/prod");
    let deployments = web["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 2, "mid-rollout");
    assert_eq!(deployments[0]["rolloutState"], "IN_PROGRESS");
    assert_eq!(deployments[1]["taskDefinition"], "arn:aws:ecs:us-east-1:111111111111:task-definition/web:7");
    assert!(deployments[0]["createdAt"].is_number());
    assert_eq!(out["failures"][0]["reason"], "MISSING");
    let arns = ok(&sb, "ecs:ListTasks", json!({"cluster": "prod"})).await["taskArns"].clone();
    let tasks = ok(&sb, "ecs:DescribeTasks", json!({"cluster": "prod", "tasks": arns})).await;
    let task = &tasks["tasks"][0];
    assert_eq!(task["lastStatus"], "RUNNING");
    assert!(task["containers"][0]["imageDigest"].as_str().unwrap().starts_with("sha256:"));
    let clusters = ok(&sb, "ecs:DescribeClusters", json!({"clusters": ["prod"]})).await;
    assert_eq!(clusters["clusters"][0]["activeServicesCount"], 2);
    assert_eq!(clusters["clusters"][0]["runningTasksCount"], 2);
    let r = aws(&sb, "ecs:ListServices", json!({"cluster": "nope"})).await;
    assert_eq!(r.error_type(), "ClusterNotFoundException");
}

#[tokio::test]
async fn list_tasks_filters_on_desired_status() {
    let sb = start(World::demo()).await;
    let list = |status: Option<&str>| {
        let mut body = json!({"cluster": "staging"});
        if let Some(s) = status {
            body["desiredStatus"] = s.into();
        }
        body
    };
    let count = |v: Value| v["taskArns"].as_array().unwrap().len();
    let running = aws_as(&sb, STAGING_KEY, "us-east-1", "ecs:ListTasks", list(None)).await;
    assert_eq!(count(running.json()), 2);
    let stopped = aws_as(&sb, STAGING_KEY, "us-east-1", "ecs:ListTasks", list(Some("STOPPED"))).await;
    assert_eq!(count(stopped.json()), 1);
}

#[tokio::test]
async fn task_definitions_list_describe_deregister_and_delete() {
    let sb = start(World::demo()).await;
    let arn = |rev: i32| format!("arn:aws:ecs:us-east-1:111111111111:task-definition/web:{rev}");
    let active = ok(&sb, "ecs:ListTaskDefinitions", json!({"familyPrefix": "web"})).await;
    assert_eq!(active["taskDefinitionArns"], json!((7..=12).map(arn).collect::<Vec<_>>()));
    let desc = ok(
        &sb,
        "ecs:ListTaskDefinitions",
        json!({"familyPrefix": "web", "status": "INACTIVE", "sort": "DESC"}),
    )
    .await;
    assert_eq!(desc["taskDefinitionArns"][0], arn(6));
    let families = ok(&sb, "ecs:ListTaskDefinitionFamilies", json!({"familyPrefix": "web"})).await;
    assert_eq!(families["families"], json!(["web", "web-batch"]));
    let latest = ok(&sb, "ecs:DescribeTaskDefinition", json!({"taskDefinition": "web"})).await;
    assert_eq!(latest["taskDefinition"]["revision"], 12);
    assert!(
        latest["taskDefinition"]["containerDefinitions"][0]["image"]
            .as_str()
            .unwrap()
            .ends_with("web:bbb0012")
    );
    let r = aws(&sb, "ecs:DescribeTaskDefinition", json!({"taskDefinition": "nope:1"})).await;
    assert_eq!(
        (r.error_type(), r.json()["message"].clone()),
        ("ClientException".into(), json!("Unable to describe task definition."))
    );

    let out = ok(&sb, "ecs:DeregisterTaskDefinition", json!({"taskDefinition": "web:8"})).await;
    assert_eq!(out["taskDefinition"]["status"], "INACTIVE");
    assert!(out["taskDefinition"]["deregisteredAt"].is_number());
    let out =
        ok(&sb, "ecs:DeleteTaskDefinitions", json!({"taskDefinitions": [arn(1), "web:8", "web:12"]})).await;
    let deleted: Vec<&str> =
        out["taskDefinitions"].as_array().unwrap().iter().map(|t| t["status"].as_str().unwrap()).collect();
    assert_eq!(deleted, ["DELETE_IN_PROGRESS", "DELETE_IN_PROGRESS"]);
    assert_eq!(out["failures"][0]["arn"], arn(12));
    let world = sb.world_snapshot();
    let tds = &world.region("111111111111", "us-east-1").unwrap().task_definitions;
    let web: Vec<(i32, &str)> =
        tds.iter().filter(|t| t.family == "web").map(|t| (t.revision, t.status.as_str())).collect();
    assert!(!web.iter().any(|(rev, _)| *rev == 1 || *rev == 8));
    assert!(web.contains(&(12, "ACTIVE")));
}
