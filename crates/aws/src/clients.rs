//! SDK clients for one connection, with skyglue's interceptors.

use skyglue_core::{AttemptCounter, FetchContext};

/// An ECR client for the fetch's connection.
pub fn ecr(ctx: &FetchContext) -> aws_sdk_ecr::Client {
    let conf = aws_sdk_ecr::config::Builder::from(&ctx.aws().sdk_config).interceptor(AttemptCounter).build();
    aws_sdk_ecr::Client::from_conf(conf)
}

/// An ECS client for the fetch's connection.
pub fn ecs(ctx: &FetchContext) -> aws_sdk_ecs::Client {
    let conf = aws_sdk_ecs::config::Builder::from(&ctx.aws().sdk_config).interceptor(AttemptCounter).build();
    aws_sdk_ecs::Client::from_conf(conf)
}
