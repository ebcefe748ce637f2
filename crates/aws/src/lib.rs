//! skyglue's AWS tables: ECR repositories and images, ECS clusters, services,
//! tasks, task definitions and scheduled tasks (EventBridge rules and
//! Scheduler schedules), Lambda functions, aliases and versions, Batch job
//! definitions, App Runner services, S3 buckets, objects and versions; and the views that define "in use":
//! `aws_ecs_task_definition_in_use`, `aws_ecs_image_in_use`, `aws_ecs_scheduled_image`
//! and `image_in_use`.
//!
//! Each service is one folder under `services/` (its tables, sinks, probes,
//! limits and in-use SQL), listed once in [`services::ALL`].

pub mod arn;
mod clients;
pub mod descriptions;
pub mod manifests;
pub mod permissions;
mod probe;
pub mod services;
pub mod sinks;
pub mod tables;
mod time;
mod views;

use skyglue_core::Registry;

pub use views::{IMAGE_IN_USE_SQL, TASK_DEFINITION_IN_USE_SQL, image_in_use_sql};

/// Every AWS table and view, service by service ([`services::ALL`]), and
/// every source of "in use" `[in_use] sources` may name.
pub fn registry() -> Registry {
    let registry = services::tables().into_iter().fold(Registry::new(), Registry::table_arc);
    let registry = views::in_use_sources().fold(registry, |r, source| r.in_use_source(source.source));
    registry
        .view(views::task_definition_in_use())
        .view(views::ecs_image_in_use())
        .view(views::scheduled_image())
        .view(views::image_in_use())
}
