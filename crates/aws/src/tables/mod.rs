//! The AWS tables by their module paths (`tables::ecr_image`): each table
//! is one file in its service's folder (`services/<service>/`), shaped alike:
//! the spec (columns declared once with `columns!`, the operations it calls),
//! the fetch. (What tables share across services is in `services/`, e.g.
//! `services/denied.rs`.)

pub use crate::services::apprunner::apprunner_service;
pub use crate::services::batch::batch_job_definition;
pub use crate::services::ecr::{ecr_image, ecr_image_reference, ecr_repository};
pub use crate::services::ecs::{ecs_cluster, ecs_scheduled_task, ecs_service, ecs_task, ecs_task_definition};
pub use crate::services::lambda::{lambda_alias, lambda_function, lambda_version};
pub use crate::services::s3::{s3_bucket, s3_object, s3_object_version};
