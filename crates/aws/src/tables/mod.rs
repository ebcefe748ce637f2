//! One file per SQL table, all shaped alike: the spec (with the rate limits
//! of the service it calls), the row, the fetch.

pub mod apprunner_service;
pub mod batch_job_definition;
pub mod ecr_image;
pub mod ecr_image_reference;
pub mod ecr_repository;
pub mod ecs_cluster;
pub(crate) mod ecs_common;
pub mod ecs_scheduled_task;
pub(crate) mod ecs_scheduled_task_read;
pub mod ecs_service;
pub mod ecs_task;
pub mod ecs_task_definition;
pub mod lambda_alias;
pub mod lambda_function;
pub mod lambda_version;
pub mod s3_bucket;
pub(crate) mod s3_common;
pub mod s3_object;
pub mod s3_object_version;

use skyglue_core::Error;

/// An access-denied error of a table that an "in use" source reads, saying
/// how to go on: grant the call, or leave `source` out of `[in_use] sources`
/// (then reported as "not checked"). Other errors pass unchanged.
pub(crate) fn in_use_denied_hint(error: Error, source: &str) -> Error {
    match error {
        Error::AccessDenied { operation, connection, detail } => Error::AccessDenied {
            detail: format!(
                "{detail} (allow {operation}, or leave \"{source}\" out of [in_use] sources to run without it)"
            ),
            operation,
            connection,
        },
        other => other,
    }
}
