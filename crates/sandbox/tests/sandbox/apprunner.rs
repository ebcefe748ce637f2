//! App Runner (AWS JSON 1.0): ListServices paging, DescribeService shape, errors.

use serde_json::{Value, json};
use skyglue_sandbox::world::{AppRunnerService, RegionWorld};
use skyglue_sandbox::{Fault, Sandbox, SandboxConfig};

use crate::client::{PROD_KEY, aws, aws_as};
use crate::worlds::{prod_world, start};

const IMAGE: &str = "111111111111.dkr.ecr.us-east-1.amazonaws.com/web:latest";

fn services(n: usize) -> RegionWorld {
    let mut region = RegionWorld::new("us-east-1");
    for i in 0..n {
        region = region.with_apprunner_service(AppRunnerService::image(&format!("svc{i:02}"), IMAGE));
    }
    region
}

async fn ok(sb: &Sandbox, op: &str, body: Value) -> Value {
    let r = aws(sb, op, body).await;
    assert_eq!(r.status, 200, "{op}: {}", r.body);
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    r.json()
}

#[tokio::test]
async fn list_services_pages_by_20() {
    let sb = start(prod_world(services(45))).await;
    let (mut sizes, mut names) = (Vec::new(), Vec::new());
    let mut body = json!({});
    loop {
        let out = ok(&sb, "apprunner:ListServices", body.clone()).await;
        let page = out["ServiceSummaryList"].as_array().unwrap();
        sizes.push(page.len());
        names.extend(page.iter().map(|s| s["ServiceName"].as_str().unwrap().to_owned()));
        match out.get("NextToken").and_then(Value::as_str) {
            Some(t) => body["NextToken"] = t.into(),
            None => break,
        }
    }
    assert_eq!(sizes, [20, 20, 5]);
    assert_eq!(names.len(), 45);
    assert_eq!(names[44], "svc44");
    let out = ok(&sb, "apprunner:ListServices", json!({"MaxResults": 7})).await;
    assert_eq!(out["ServiceSummaryList"].as_array().unwrap().len(), 7);
    for bad in [json!({"MaxResults": 21}), json!({"MaxResults": 0}), json!({"NextToken": "nope"})] {
        let r = aws(&sb, "apprunner:ListServices", bad.clone()).await;
        assert_eq!((r.status, r.error_type()), (400, "InvalidRequestException".into()), "{bad}");
        assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
    }
    assert_eq!(sb.calls().get("apprunner:ListServices"), Some(&7));
    let other = aws_as(&sb, PROD_KEY, "eu-west-1", "apprunner:ListServices", json!({})).await;
    assert_eq!(other.json()["ServiceSummaryList"], json!([]));
}

#[tokio::test]
async fn describe_service_has_every_required_member() {
    let region = RegionWorld::new("us-east-1")
        .with_apprunner_service(AppRunnerService::image("web", IMAGE))
        .with_apprunner_service(
            AppRunnerService::image("public", "public.ecr.aws/nginx/nginx:1")
                .public_ecr()
                .with_status("PAUSED"),
        );
    let sb = start(prod_world(region)).await;
    let list = ok(&sb, "apprunner:ListServices", json!({})).await;
    let summary = &list["ServiceSummaryList"][0];
    let arn = summary["ServiceArn"].as_str().unwrap().to_owned();
    let id = summary["ServiceId"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert_eq!(arn, format!("arn:aws:apprunner:us-east-1:111111111111:service/web/{id}"));
    assert!(summary["CreatedAt"].is_number() && summary["UpdatedAt"].is_number());
    assert!(summary["ServiceUrl"].as_str().unwrap().ends_with(".us-east-1.awsapprunner.com"));
    assert_eq!(summary["Status"], "RUNNING");

    let out = ok(&sb, "apprunner:DescribeService", json!({"ServiceArn": arn})).await;
    let service = &out["Service"];
    for member in [
        "ServiceName",
        "ServiceId",
        "ServiceArn",
        "CreatedAt",
        "UpdatedAt",
        "Status",
        "SourceConfiguration",
        "InstanceConfiguration",
        "AutoScalingConfigurationSummary",
        "NetworkConfiguration",
    ] {
        assert!(service.get(member).is_some(), "{member} missing");
    }
    assert_eq!(service["SourceConfiguration"]["ImageRepository"]["ImageIdentifier"], IMAGE, "{service}");
    assert_eq!(service["SourceConfiguration"]["ImageRepository"]["ImageRepositoryType"], "ECR");
    assert_eq!(service["InstanceConfiguration"], json!({"Cpu": "1024", "Memory": "2048"}));

    let public_arn = list["ServiceSummaryList"][1]["ServiceArn"].clone();
    let public = ok(&sb, "apprunner:DescribeService", json!({"ServiceArn": public_arn})).await;
    assert_eq!(public["Service"]["Status"], "PAUSED");
    assert_eq!(
        public["Service"]["SourceConfiguration"]["ImageRepository"]["ImageRepositoryType"],
        "ECR_PUBLIC"
    );
    assert!(public["Service"]["SourceConfiguration"].get("AuthenticationConfiguration").is_none());
}

#[tokio::test]
async fn unknown_services_are_not_found() {
    let sb = start(prod_world(services(1))).await;
    let missing = "arn:aws:apprunner:us-east-1:111111111111:service/ghost/0123456789abcdef0123456789abcdef";
    let r = aws(&sb, "apprunner:DescribeService", json!({"ServiceArn": missing})).await;
    assert_eq!((r.status, r.error_type()), (400, "ResourceNotFoundException".into()));
    assert_eq!(r.header("x-amzn-errortype"), Some("ResourceNotFoundException"));
    let r = aws(&sb, "apprunner:DescribeService", json!({"ServiceArn": "not-an-arn"})).await;
    assert_eq!(r.error_type(), "InvalidRequestException");
    assert_eq!(sb.calls().get("apprunner:DescribeService"), Some(&2));
}

#[tokio::test]
async fn faults_reach_app_runner() {
    let config = SandboxConfig {
        faults: vec![Fault::nth_call("apprunner:ListServices", 2).error(400, "InvalidRequestException")],
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(prod_world(services(2)), config).await.unwrap();
    assert_eq!(aws(&sb, "apprunner:ListServices", json!({})).await.status, 200);
    let r = aws(&sb, "apprunner:ListServices", json!({})).await;
    assert_eq!((r.status, r.error_type()), (400, "InvalidRequestException".into()));
    assert_eq!(r.header("content-type"), Some("application/x-amz-json-1.0"));
}
