//! skyglue's AWS tables: ECR repositories and images, ECS clusters, services,
//! tasks, task definitions and scheduled tasks (EventBridge rules and
//! Scheduler schedules), Lambda functions, aliases and versions, Batch job
//! definitions, App Runner services, S3 buckets, objects and versions; and the views that define "in use":
//! `aws_ecs_task_definition_in_use`, `aws_ecs_image_in_use`, `aws_ecs_scheduled_image`
//! and `image_in_use`.
//!
//! Each table is one file under `tables/`, registered in [`registry`].

pub mod arn;
mod clients;
pub mod descriptions;
pub mod manifests;
pub mod permissions;
pub mod sinks;
pub mod tables;
mod time;
mod views;

use skyglue_core::Registry;

pub use views::{IMAGE_IN_USE_SQL, TASK_DEFINITION_IN_USE_SQL, image_in_use_sql};

/// Every AWS table and view. Adding a table is one line here.
pub fn registry() -> Registry {
    Registry::new()
        .table(tables::ecr_repository::EcrRepository)
        .table(tables::ecr_image::EcrImage)
        .table(tables::ecs_cluster::EcsCluster)
        .table(tables::ecs_service::EcsService)
        .table(tables::ecs_task::EcsTask)
        .table(tables::ecs_task_definition::EcsTaskDefinition)
        .table(tables::ecs_scheduled_task::EcsScheduledTask)
        .table(tables::lambda_function::LambdaFunction)
        .table(tables::lambda_alias::LambdaAlias)
        .table(tables::lambda_version::LambdaVersion)
        .table(tables::batch_job_definition::BatchJobDefinition)
        .table(tables::apprunner_service::AppRunnerService)
        .table(tables::s3_bucket::S3Bucket)
        .table(tables::s3_object::S3Object)
        .table(tables::s3_object_version::S3ObjectVersion)
        .view(views::task_definition_in_use())
        .view(views::ecs_image_in_use())
        .view(views::scheduled_image())
        .view(views::image_in_use())
}
