//! Throttling, injected faults, latency, call counters and environment variables.

use std::time::Duration;

use serde_json::json;
use skyglue_sandbox::{BucketSpec, EcsBuckets, Fault, Sandbox, SandboxConfig, World};

use crate::client::{STAGING_KEY, aws, aws_as, get};

#[tokio::test]
async fn ecs_throttles_after_the_burst_and_recovers_after_waiting() {
    let config = SandboxConfig {
        ecs_buckets: EcsBuckets::uniform(BucketSpec::new(3.0, 1.0)),
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(World::demo(), config).await.unwrap();
    for _ in 0..3 {
        assert_eq!(aws(&sb, "ecs:ListClusters", json!({})).await.status, 200);
    }
    let r = aws(&sb, "ecs:DescribeClusters", json!({"clusters": ["prod"]})).await;
    assert_eq!((r.status, r.error_type()), (400, "ThrottlingException".into()));
    assert_eq!(r.json()["message"], "Rate exceeded");
    // Other buckets and other accounts are unaffected.
    assert_eq!(aws(&sb, "ecs:ListServices", json!({"cluster": "prod"})).await.status, 200);
    assert_eq!(aws_as(&sb, STAGING_KEY, "us-east-1", "ecs:ListClusters", json!({})).await.status, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(aws(&sb, "ecs:ListClusters", json!({})).await.status, 200);
    assert_eq!(sb.calls().get("ecs:DescribeClusters"), Some(&1));
    assert_eq!(sb.throttled_calls().get("ecs:DescribeClusters"), Some(&1));
    assert_eq!(sb.calls().get("ecs:ListClusters"), Some(&5), "3 + staging + 1");
}

#[tokio::test]
async fn the_default_ecs_buckets_are_the_published_ones() {
    let sb = Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap();
    let mut throttled = 0;
    for _ in 0..7 {
        let r = aws(&sb, "ecs:DeleteTaskDefinitions", json!({"taskDefinitions": ["nope:1"]})).await;
        throttled += usize::from(r.status == 400 && r.error_type() == "ThrottlingException");
    }
    // Burst of 5 at 1 per second: at least one of 7 quick calls is throttled.
    assert!(throttled >= 1);
}

#[tokio::test]
async fn ecr_rate_limit_throttles() {
    let config = SandboxConfig { ecr_rate_per_sec: Some(2.0), ..SandboxConfig::default() };
    let sb = Sandbox::start(World::demo(), config).await.unwrap();
    let statuses: Vec<u16> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(aws(&sb, "ecr:DescribeRepositories", json!({})).await.status);
        }
        v
    };
    assert_eq!(statuses, [200, 200, 400]);
}

#[tokio::test]
async fn injected_faults_hit_the_chosen_calls() {
    let config = SandboxConfig {
        faults: vec![
            Fault::nth_call("ecr:DescribeImages", 2),
            Fault::nth_call("ecs:ListServices", 1).times(u64::MAX).error(400, "AccessDeniedException"),
        ],
        latency: Duration::from_millis(5),
        ..SandboxConfig::default()
    };
    let sb = Sandbox::start(World::demo(), config).await.unwrap();
    let body = json!({"repositoryName": "web", "maxResults": 2});
    assert_eq!(aws(&sb, "ecr:DescribeImages", body.clone()).await.status, 200);
    let r = aws(&sb, "ecr:DescribeImages", body.clone()).await;
    assert_eq!((r.status, r.error_type()), (500, "ServerException".into()));
    assert_eq!(aws(&sb, "ecr:DescribeImages", body).await.status, 200);
    for _ in 0..2 {
        let r = aws(&sb, "ecs:ListServices", json!({"cluster": "prod"})).await;
        assert_eq!((r.status, r.error_type()), (400, "AccessDeniedException".into()));
    }
}

#[tokio::test]
async fn calls_are_counted_and_readable_over_http() {
    let sb = Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap();
    aws(&sb, "ecr:DescribeRepositories", json!({})).await;
    aws(&sb, "ecs:ListClusters", json!({})).await;
    aws(&sb, "ecs:ListClusters", json!({})).await;
    get(&sb, "/repos/acme/web/commits/aaa0001").await;
    let calls = sb.calls();
    assert_eq!(calls.get("ecr:DescribeRepositories"), Some(&1));
    assert_eq!(calls.get("ecs:ListClusters"), Some(&2));
    assert_eq!(calls.get("github:GetCommit"), Some(&1));
    let over_http = get(&sb, "/_sandbox/calls").await.json();
    assert_eq!(over_http, serde_json::to_value(&calls).unwrap());
    sb.reset_calls();
    assert!(sb.calls().is_empty());
}

#[tokio::test]
async fn env_vars_point_at_the_sandbox() {
    let sb = Sandbox::start(World::demo(), SandboxConfig::default()).await.unwrap();
    let env: std::collections::HashMap<_, _> = sb.env_vars().into_iter().collect();
    assert_eq!(env["AWS_ENDPOINT_URL"], sb.endpoint_url());
    assert_eq!(env["AWS_ACCESS_KEY_ID"], "SANDBOX111111111111");
    assert_eq!(env["AWS_REGION"], "us-east-1");
    assert_eq!(env["GITHUB_API_URL"], sb.github_api_url());
    assert_eq!(env["SLACK_WEBHOOK_URL"], sb.slack_webhook_url());
    assert!(sb.endpoint_url().starts_with("http://127.0.0.1:"));
    sb.shutdown().await;
}
