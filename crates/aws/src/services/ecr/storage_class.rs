//! What `archive_ecr_images` and `restore_ecr_images` share: one
//! `UpdateImageStorageClass` per image (the API takes one), each bracketed by
//! the action log and sent under the operation's own rate limit
//! (`tables::ecr_repository::ECR`).
//!
//! Rows are located as `delete_ecr_images` locates them (the resolved
//! account, region, registry and repository; never a guess) and grouped by
//! repository; repositories are worked on concurrently (up to
//! `DEFAULT_CONCURRENCY`), each one's images in the order the check gave. A
//! failed call fails only its own image.

use aws_sdk_ecr::types::{ImageIdentifier, TargetStorageClass};
use futures::StreamExt;
use skyglue_core::Connections;
use skyglue_core::sink::{ActionLog, Outcome, Target};
use skyglue_core::table::DEFAULT_CONCURRENCY;

use super::common::{self, Group, Item, fail_all, send};
use super::delete_ecr_images::{Repository, locate};

/// The operation, as the journal and the call counters name it.
pub(crate) const OPERATION: &str = "ecr:UpdateImageStorageClass";

/// Moves every target's image to `class`, one logged call per image, and
/// returns one outcome per target.
pub(crate) async fn move_images(
    connections: &Connections,
    targets: Vec<Target>,
    log: &dyn ActionLog,
    class: TargetStorageClass,
) -> Vec<Outcome> {
    let (groups, mut outcomes) =
        crate::services::open_apply(connections, targets, OPERATION, log, locate).await;
    let groups = &groups;
    let class = &class;
    let per_group: Vec<Vec<Outcome>> = futures::stream::iter(0..groups.len())
        .map(|g| move_group(connections, &groups[g], log, class))
        .buffered(DEFAULT_CONCURRENCY)
        .collect()
        .await;
    outcomes.extend(per_group.into_iter().flatten());
    outcomes
}

/// One repository's images, one call after another.
async fn move_group(
    connections: &Connections,
    group: &Group<Repository>,
    log: &dyn ActionLog,
    class: &TargetStorageClass,
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for item in &group.items {
        outcomes.extend(move_one(connections, group, item, log, class).await);
    }
    outcomes
}

/// One logged `UpdateImageStorageClass`.
async fn move_one(
    connections: &Connections,
    group: &Group<Repository>,
    item: &Item,
    log: &dyn ActionLog,
    class: &TargetStorageClass,
) -> Vec<Outcome> {
    let targets = &item.targets;
    if let Err(reason) = common::intent(log, OPERATION, targets).await {
        return fail_all(targets, &reason);
    }
    let request = crate::clients::ecr(&group.conn)
        .update_image_storage_class()
        .set_registry_id(group.scope.registry_id.clone())
        .repository_name(&group.scope.name)
        .image_id(ImageIdentifier::builder().image_digest(&item.id).build())
        .target_storage_class(class.clone());
    let outcomes = match send(connections, &group.conn, OPERATION, || request.clone().send()).await {
        Ok(_) => targets.iter().cloned().map(Outcome::done).collect(),
        Err(e) => fail_all(targets, &e.to_string()),
    };
    common::outcome(log, OPERATION, outcomes)
}
