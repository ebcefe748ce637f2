//! Batch (REST-JSON): DescribeJobDefinitions paging, filters, shapes and errors.

use serde_json::{Value, json};
use skyglue_sandbox::world::{BatchJobDefinition, RegionWorld};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig};

use crate::client::{PROD_KEY, Resp, rest_as};
use crate::worlds::{prod_world, start};

const PATH: &str = "/v1/describejobdefinitions";
const IMAGE: &str = "111111111111.dkr.ecr.us-east-1.amazonaws.com/jobs";

async fn describe(sb: &Sandbox, body: Value) -> Resp {
    rest_as(sb, PROD_KEY, "us-east-1", "batch", "POST", PATH, &body.to_string()).await
}

async fn ok(sb: &Sandbox, body: Value) -> Value {
    let r = describe(sb, body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

fn ids(out: &Value) -> Vec<String> {
    out["jobDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{}:{}", d["jobDefinitionName"].as_str().unwrap(), d["revision"]))
        .collect()
}

fn mixed() -> RegionWorld {
    RegionWorld::new("us-east-1")
        .with_batch_job_definition(
            BatchJobDefinition::container("nightly", 1, &format!("{IMAGE}:a")).inactive(),
        )
        .with_batch_job_definition(BatchJobDefinition::container("nightly", 2, &format!("{IMAGE}:b")))
        .with_batch_job_definition(BatchJobDefinition::ecs(
            "fargate",
            1,
            &[("main", &format!("{IMAGE}:c")), ("sidecar", "public.ecr.aws/x/y:1")],
        ))
        .with_batch_job_definition(BatchJobDefinition::eks("on-eks", 4, &[("main", &format!("{IMAGE}:d"))]))
}

#[tokio::test]
async fn pages_hold_100_by_default_and_max_results_is_1_to_100() {
    let mut region = RegionWorld::new("us-east-1");
    for rev in 1..=250 {
        region = region.with_batch_job_definition(BatchJobDefinition::container("big", rev, IMAGE));
    }
    let sb = start(prod_world(region)).await;
    let (mut sizes, mut seen) = (Vec::new(), Vec::new());
    let mut body = json!({});
    loop {
        let out = ok(&sb, body.clone()).await;
        sizes.push(out["jobDefinitions"].as_array().unwrap().len());
        seen.extend(ids(&out));
        match out.get("nextToken").and_then(Value::as_str) {
            Some(t) => body["nextToken"] = t.into(),
            None => break,
        }
    }
    assert_eq!(sizes, [100, 100, 50]);
    assert_eq!(seen.len(), 250);
    let out = ok(&sb, json!({"maxResults": 30})).await;
    assert_eq!(out["jobDefinitions"].as_array().unwrap().len(), 30);
    for bad in [json!({"maxResults": 0}), json!({"maxResults": 101}), json!({"nextToken": "garbage"})] {
        let r = describe(&sb, bad.clone()).await;
        assert_eq!((r.status, r.error_type()), (400, "ClientException".into()), "{bad}");
        assert_eq!(r.header("x-amzn-errortype"), Some("ClientException"));
    }
    assert_eq!(sb.calls().get("batch:DescribeJobDefinitions"), Some(&7));
}

#[tokio::test]
async fn filters_by_names_arns_revisions_and_status() {
    let sb = start(prod_world(mixed())).await;
    assert_eq!(ids(&ok(&sb, json!({})).await), ["nightly:1", "nightly:2", "fargate:1", "on-eks:4"]);
    assert_eq!(ids(&ok(&sb, json!({"status": "ACTIVE"})).await), ["nightly:2", "fargate:1", "on-eks:4"]);
    assert_eq!(ids(&ok(&sb, json!({"jobDefinitionName": "nightly"})).await), ["nightly:1", "nightly:2"]);
    let arn = "arn:aws:batch:us-east-1:111111111111:job-definition/on-eks:4";
    let out = ok(&sb, json!({"jobDefinitions": ["nightly:1", arn, "fargate", "nope:1"]})).await;
    assert_eq!(ids(&out), ["nightly:1", "fargate:1", "on-eks:4"]);
    let r = describe(&sb, json!({"jobDefinitions": ["nightly:x"]})).await;
    assert_eq!(r.error_type(), "ClientException");
    let too_many: Vec<String> = (0..101).map(|i| format!("d{i}:1")).collect();
    let r = describe(&sb, json!({"jobDefinitions": too_many})).await;
    assert_eq!(r.error_type(), "ClientException");
}

#[tokio::test]
async fn definitions_have_the_real_shape() {
    let sb = start(prod_world(mixed())).await;
    let out = ok(&sb, json!({})).await;
    let defs = out["jobDefinitions"].as_array().unwrap();
    let nightly = &defs[1];
    assert_eq!(nightly["jobDefinitionArn"], "arn:aws:batch:us-east-1:111111111111:job-definition/nightly:2");
    assert_eq!((nightly["status"].clone(), nightly["type"].clone()), (json!("ACTIVE"), json!("container")));
    assert_eq!(nightly["containerProperties"]["image"], format!("{IMAGE}:b"));
    assert_eq!(nightly["containerProperties"]["vcpus"], 1);
    assert_eq!(nightly["containerProperties"]["memory"], 512);
    assert_eq!(defs[0]["status"], "INACTIVE");
    let fargate = &defs[2];
    assert!(fargate.get("containerProperties").is_none());
    let containers = fargate["ecsProperties"]["taskProperties"][0]["containers"].as_array().unwrap();
    let images: Vec<&str> = containers.iter().map(|c| c["image"].as_str().unwrap()).collect();
    assert_eq!(images, [format!("{IMAGE}:c").as_str(), "public.ecr.aws/x/y:1"]);
    let eks = &defs[3];
    assert_eq!(eks["containerOrchestrationType"], "EKS");
    assert_eq!(eks["eksProperties"]["podProperties"]["containers"][0]["image"], format!("{IMAGE}:d"));
}

#[tokio::test]
async fn faults_reach_batch_and_other_regions_are_empty() {
    let config = SandboxConfig {
        faults: vec![Fault::nth_call("batch:DescribeJobDefinitions", 1).error(400, "ClientException")],
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(prod_world(mixed()), config).await.unwrap();
    let r = describe(&sb, json!({})).await;
    assert_eq!((r.status, r.error_type()), (400, "ClientException".into()));
    assert_eq!(r.json()["Type"], "User");
    assert_eq!(describe(&sb, json!({})).await.status, 200);
    let r = rest_as(&sb, PROD_KEY, "eu-west-1", "batch", "POST", PATH, "").await;
    assert_eq!(r.json()["jobDefinitions"], json!([]));
}
