//! Delete sinks: what a cleanup policy's rows are fed to once the runner has
//! planned, checked and journaled them.
//!
//! One file per action in its service's folder (`services/<service>/`), all
//! shaped alike: the action's name and columns, its fresh check (ECR's
//! `image_check`, ECS's `task_definition_check`, S3's `s3_check`, with the
//! helpers they share in `fresh`: what "in use" means for what it deletes,
//! and which one resource each row names), how a resolved row finds its
//! connection, and the batched, logged calls. What they share (connection
//! lookup, grouping, rate limits, the intent/outcome bracket) is in `common`,
//! the re-reads that settle a failed call in `reread`. Adding an action is
//! one file and one `SinkDecl` in its service's `SERVICE`.
//!
//! Every sink keeps the rows' order within a repository or connection, sends
//! the largest batches the API allows, logs an intent before and the outcomes
//! after every call, and returns exactly one outcome per row. A row that cannot
//! be acted on at all (no matching connection) gets a failed outcome that is
//! logged without an intent, since nothing was called.

use std::sync::Arc;

use skyglue_core::sink::Sink;

pub(crate) mod common;
pub(crate) mod fresh;
pub(crate) mod reread;

pub use crate::services::ecr::archive_ecr_images::{self, ArchiveEcrImages};
pub use crate::services::ecr::delete_ecr_images::{self, DeleteEcrImages};
pub use crate::services::ecr::restore_ecr_images::{self, RestoreEcrImages};
pub use crate::services::ecs::delete_ecs_task_definitions::{self, DeleteEcsTaskDefinitions};
pub use crate::services::ecs::deregister_ecs_task_definitions::{self, DeregisterEcsTaskDefinitions};
pub use crate::services::s3::delete_s3_objects::{self, DeleteS3Objects};

/// Every AWS sink, service by service (`services::ALL`).
pub fn all() -> Vec<Arc<dyn Sink>> {
    crate::services::sinks().map(|declared| (declared.sink)()).collect()
}

/// The sink for a policy's `@action`, if there is one.
pub fn by_action(name: &str) -> Option<Arc<dyn Sink>> {
    all().into_iter().find(|sink| sink.action() == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_found_by_name() {
        for name in [
            "delete_ecr_images",
            "deregister_ecs_task_definitions",
            "delete_ecs_task_definitions",
            "delete_s3_objects",
            "archive_ecr_images",
            "restore_ecr_images",
        ] {
            assert_eq!(by_action(name).map(|s| s.action().to_string()), Some(name.to_string()));
        }
        assert!(by_action("delete_everything").is_none());
    }
}
