//! The AWS tables by their module paths (`tables::ecr_image`): each table
//! is one file in its service's folder (`services/<service>/`), shaped alike:
//! the spec (columns declared once with `columns!`, the operations it calls),
//! the fetch. What tables share across services is here.

pub use crate::services::apprunner::apprunner_service;
pub use crate::services::batch::batch_job_definition;
pub use crate::services::ecr::{ecr_image, ecr_image_reference, ecr_repository};
pub use crate::services::ecs::{ecs_cluster, ecs_scheduled_task, ecs_service, ecs_task, ecs_task_definition};
pub(crate) use crate::services::ecs::{ecs_common, ecs_scheduled_task_read};
pub use crate::services::lambda::{lambda_alias, lambda_function, lambda_version};
pub(crate) use crate::services::s3::s3_common;
pub use crate::services::s3::{s3_bucket, s3_object, s3_object_version};

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
