//! SDK clients for one connection, by service, so a table, a sink or a
//! service's probe writes `clients::ecr(conn)` (each service's folder
//! re-exports its own as `client`). Every client has skyglue's interceptors
//! and none of the SDK's own retries: every call goes through
//! `skyglue_core::call::aws_call`, which retries within the client-side rate
//! limit. This file depends on nothing else in the crate.

use skyglue_core::call::sdk_retries_off;
use skyglue_core::{AttemptCounter, AwsConnection};

/// A client constructor: the SDK's config from the connection, the SDK's
/// retries off, skyglue's attempt counter on.
macro_rules! client {
    ($(#[$doc:meta])* $name:ident, $sdk:ident) => {
        $(#[$doc])*
        pub fn $name(conn: &AwsConnection) -> $sdk::Client {
            let conf = $sdk::config::Builder::from(&conn.sdk_config)
                .retry_config(sdk_retries_off())
                .interceptor(AttemptCounter)
                .build();
            $sdk::Client::from_conf(conf)
        }
    };
}

client!(
    /// An App Runner client for `conn`.
    apprunner,
    aws_sdk_apprunner
);
client!(
    /// A Batch client for `conn`.
    batch,
    aws_sdk_batch
);
client!(
    /// An ECR client for `conn` (tables, sinks and the guardrail alike).
    ecr,
    aws_sdk_ecr
);
client!(
    /// An ECS client for `conn`.
    ecs,
    aws_sdk_ecs
);
client!(
    /// An EventBridge client for `conn` (rules and their targets).
    events,
    aws_sdk_eventbridge
);
client!(
    /// A Lambda client for `conn`.
    lambda,
    aws_sdk_lambda
);
client!(
    /// An EventBridge Scheduler client for `conn`.
    scheduler,
    aws_sdk_scheduler
);
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
