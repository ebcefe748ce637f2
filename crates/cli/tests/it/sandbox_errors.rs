//! Failures surface as one clear error naming the operation and connection,
//! and a failing connection fails the whole query: never partial rows.

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use skyglue_core::{AwsConnection, Engine};
use skyglue_sandbox::{Fault, SandboxConfig};

use crate::support::*;

fn message(err: &datafusion::error::DataFusionError) -> String {
    skyglue_core::Error::find(err).map(ToString::to_string).unwrap_or_else(|| err.to_string())
}

#[tokio::test]
async fn error_mid_pagination_names_operation_and_connection() {
    let mut r = region("us-east-1");
    r.repositories.push(repository("web", 3000));
    let config = SandboxConfig {
        faults: vec![
            Fault::nth_call("ecr:DescribeImages", 2).times(u64::MAX).error(400, "AccessDeniedException"),
        ],
        ..SandboxConfig::default()
    };
    let env = Env::start_with(world(vec![account(ACCOUNT, vec![r])]), config).await;
    let err = env.try_query("SELECT * FROM aws_ecr_image").await.expect_err("second page fails");
    let msg = message(&err);
    assert!(msg.contains("ecr:DescribeImages"), "{msg}");
    assert!(msg.contains("acct1/us-east-1"), "{msg}");
    assert!(msg.contains("access denied"), "{msg}");
}

#[tokio::test]
async fn one_failing_connection_fails_the_query() {
    let mut r = region("us-east-1");
    r.repositories.push(repository("web", 3));
    let w = world(vec![account(ACCOUNT, vec![r])]);
    let sandbox = skyglue_sandbox::Sandbox::start(w.clone(), SandboxConfig::default()).await.unwrap();
    let mut connections = skyglue::sandbox::connections(&sandbox, &w).await.unwrap();

    // A second connection whose endpoint refuses connections.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let sdk = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(format!("http://{closed}"))
        .credentials_provider(Credentials::new("x", "y", None, None, "test"))
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1))
        .load()
        .await;
    let mut aws: Vec<_> = connections.aws.drain(..).collect();
    aws.push(std::sync::Arc::new(AwsConnection::new("broken", sdk).unwrap()));
    connections.aws = aws;
    let engine = Engine::new(connections, skyglue::registry());
    let ctx = engine.session().await.unwrap();
    let err = ctx.sql("SELECT * FROM aws_ecr_repository").await.unwrap().collect().await.expect_err("fails");
    let msg = message(&err);
    assert!(msg.contains("broken/eu-west-1"), "{msg}");
}
