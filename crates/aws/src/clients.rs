//! SDK clients for one connection, with skyglue's interceptors and without
//! the SDK's own retries: every call goes through `skyglue_core::call::aws_call`,
//! which retries within the client-side rate limit.

use skyglue_core::call::sdk_retries_off;
use skyglue_core::{AttemptCounter, AwsConnection};

/// An ECR client for `conn` (tables, sinks and the guardrail alike).
pub fn ecr(conn: &AwsConnection) -> aws_sdk_ecr::Client {
    let conf = aws_sdk_ecr::config::Builder::from(&conn.sdk_config)
        .retry_config(sdk_retries_off())
        .interceptor(AttemptCounter)
        .build();
    aws_sdk_ecr::Client::from_conf(conf)
}

/// An ECS client for `conn`.
pub fn ecs(conn: &AwsConnection) -> aws_sdk_ecs::Client {
    let conf = aws_sdk_ecs::config::Builder::from(&conn.sdk_config)
        .retry_config(sdk_retries_off())
        .interceptor(AttemptCounter)
        .build();
    aws_sdk_ecs::Client::from_conf(conf)
}

/// A Lambda client for `conn`.
pub fn lambda(conn: &AwsConnection) -> aws_sdk_lambda::Client {
    let conf = aws_sdk_lambda::config::Builder::from(&conn.sdk_config)
        .retry_config(sdk_retries_off())
        .interceptor(AttemptCounter)
        .build();
    aws_sdk_lambda::Client::from_conf(conf)
}

/// A Batch client for `conn`.
pub fn batch(conn: &AwsConnection) -> aws_sdk_batch::Client {
    let conf = aws_sdk_batch::config::Builder::from(&conn.sdk_config)
        .retry_config(sdk_retries_off())
        .interceptor(AttemptCounter)
        .build();
    aws_sdk_batch::Client::from_conf(conf)
}

/// An App Runner client for `conn`.
pub fn apprunner(conn: &AwsConnection) -> aws_sdk_apprunner::Client {
    let conf = aws_sdk_apprunner::config::Builder::from(&conn.sdk_config)
        .retry_config(sdk_retries_off())
        .interceptor(AttemptCounter)
        .build();
    aws_sdk_apprunner::Client::from_conf(conf)
}

/// An S3 client for `conn`, signing for `region` (a bucket's own; S3 answers
/// a request signed for another region with a redirect). Emulators (an
/// endpoint URL in the config) get path-style addressing, since they cannot
/// resolve `<bucket>.127.0.0.1`.
pub fn s3(conn: &AwsConnection, region: &str) -> aws_sdk_s3::Client {
    let conf = aws_sdk_s3::config::Builder::from(&conn.sdk_config)
        .region(aws_sdk_s3::config::Region::new(region.to_string()))
        .force_path_style(conn.sdk_config.endpoint_url().is_some())
        .retry_config(sdk_retries_off())
        .interceptor(AttemptCounter)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

/// An EventBridge client for `conn` (rules and their targets).
pub fn events(conn: &AwsConnection) -> aws_sdk_eventbridge::Client {
    let conf = aws_sdk_eventbridge::config::Builder::from(&conn.sdk_config)
        .retry_config(sdk_retries_off())
        .interceptor(AttemptCounter)
        .build();
    aws_sdk_eventbridge::Client::from_conf(conf)
}

/// An EventBridge Scheduler client for `conn`.
pub fn scheduler(conn: &AwsConnection) -> aws_sdk_scheduler::Client {
    let conf = aws_sdk_scheduler::config::Builder::from(&conn.sdk_config)
        .retry_config(sdk_retries_off())
        .interceptor(AttemptCounter)
        .build();
    aws_sdk_scheduler::Client::from_conf(conf)
}
