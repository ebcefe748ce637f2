//! Delete sinks: what a cleanup policy's rows are fed to once the runner has
//! planned, checked and journaled them.
//!
//! One file per action, all shaped alike: the action's name and columns, its
//! fresh check (in `image_check`, `task_definition_check` and `s3_check`, with
//! the helpers they share in `fresh`: what "in use"
//! means for what it deletes, and which one resource each row names), how a
//! resolved row finds its connection, and the batched, logged calls. What they share
//! (connection lookup, grouping, rate limits, the intent/outcome bracket) is in
//! `common`. Adding an action means adding one file and one line in [`all`].
//!
//! Every sink keeps the rows' order within a repository or connection, sends
//! the largest batches the API allows, logs an intent before and the outcomes
//! after every call, and returns exactly one outcome per row. A row that cannot
//! be acted on at all (no matching connection) gets a failed outcome that is
//! logged without an intent, since nothing was called.

use std::sync::Arc;

use skyglue_core::sink::Sink;

pub mod archive_ecr_images;
mod common;
pub mod delete_ecr_images;
pub mod delete_ecs_task_definitions;
pub mod delete_s3_objects;
pub mod deregister_ecs_task_definitions;
mod fresh;
mod image_check;
mod image_graph;
mod reread;
pub mod restore_ecr_images;
mod s3_check;
mod s3_lock;
mod storage_class;
mod task_definition_check;

pub use archive_ecr_images::ArchiveEcrImages;
pub use delete_ecr_images::DeleteEcrImages;
pub use delete_ecs_task_definitions::DeleteEcsTaskDefinitions;
pub use delete_s3_objects::DeleteS3Objects;
pub use deregister_ecs_task_definitions::DeregisterEcsTaskDefinitions;
pub use restore_ecr_images::RestoreEcrImages;

/// Every AWS sink. Adding an action is one line here.
pub fn all() -> Vec<Arc<dyn Sink>> {
    vec![
        Arc::new(DeleteEcrImages),
        Arc::new(DeregisterEcsTaskDefinitions),
        Arc::new(DeleteEcsTaskDefinitions),
        Arc::new(DeleteS3Objects),
        Arc::new(ArchiveEcrImages),
        Arc::new(RestoreEcrImages),
    ]
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
