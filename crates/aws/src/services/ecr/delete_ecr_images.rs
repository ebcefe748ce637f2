//! `delete_ecr_images`: deletes ECR images by digest, 100 per `BatchDeleteImage`.
//!
//! ```sql
//! -- @action: delete_ecr_images
//! SELECT account_id, region, registry_id, repository_name, image_digest
//! FROM aws_ecr_image WHERE repository_name = 'web' AND cardinality(image_tags) = 0;
//! ```
//!
//! Its check (`image_check`) resolves every row to exactly one copy of the
//! image (account, region, registry, repository, digest) and keeps what is in
//! use; this sink deletes exactly the resolved copies and refuses a row that
//! does not name its account and region. Rows are grouped by connection,
//! registry and repository, and each group is sent in the order the check
//! gave: an image index before its child manifests, so the index is gone by
//! the time ECR is asked for a child (ECR refuses a child an index still
//! references); repositories are worked on concurrently (up to
//! `DEFAULT_CONCURRENCY` at once). Deleting by digest removes the image with all its tags. Each
//! per-image failure is reported as `<failureCode>: <failureReason>`; a failed
//! call fails only its own batch. An image the answer neither lists as deleted
//! nor as failed is looked up again (BatchGetImage): it is done only when ECR
//! says it is gone. A call that fails after its retries may still have
//! deleted its images (its answer lost): each is re-read (BatchGetImage) and
//! is done when gone, failed when still there, unknown when the re-read fails;
//! on a retried call, `ImageNotFound` is done for the same reason.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use async_trait::async_trait;
use aws_sdk_ecr::operation::batch_delete_image::BatchDeleteImageOutput;
use aws_sdk_ecr::types::{ImageFailure, ImageIdentifier};
use futures::StreamExt;
use skyglue_core::sink::{ActionLog, Checked, Description, Outcome, Presence, Sink, Status, Target};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{Connections, Engine, Result};

use super::common::{self, Group, Item, Locator, fail_all, required, send, targets_of};

/// The API allows 100 image ids per call.
const BATCH: usize = 100;
const OPERATION: &str = "ecr:BatchDeleteImage";

/// Deletes ECR images by digest.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeleteEcrImages;

/// The columns of an image's re-check group: its repository.
pub(crate) const REPOSITORY_GROUP: [&str; 4] = ["account_id", "region", "registry_id", "repository_name"];

/// What one `BatchDeleteImage` call is scoped to (and one repository's
/// `UpdateImageStorageClass` calls, in `storage_class`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Repository {
    pub(crate) registry_id: Option<String>,
    pub(crate) name: String,
}

#[async_trait]
impl Sink for DeleteEcrImages {
    fn action(&self) -> &str {
        "delete_ecr_images"
    }

    fn required_columns(&self) -> &[&str] {
        &["repository_name", "image_digest"]
    }

    fn describe(&self) -> Description {
        crate::descriptions::IMAGES
    }

    fn optional_columns(&self) -> &[&str] {
        &["account_id", "region", "registry_id"]
    }

    /// The repository: what its check re-reads and one `BatchDeleteImage` is scoped to.
    fn recheck_group(&self, target: &Target) -> Option<String> {
        Some(common::group_key(target, &REPOSITORY_GROUP))
    }

    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
        crate::services::declare_limits(engine.connections());
        super::image_check::check(engine, targets).await
    }

    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome> {
        let (groups, mut outcomes) =
            crate::services::open_apply(connections, targets, OPERATION, log, locate).await;
        // Repositories are deleted from concurrently, each one's batches in
        // order (an index before its children); outcomes keep the plan's order.
        let groups = &groups;
        let per_group: Vec<Vec<Outcome>> = futures::stream::iter(0..groups.len())
            .map(|g| delete_group(connections, &groups[g], log))
            .buffered(DEFAULT_CONCURRENCY)
            .collect()
            .await;
        outcomes.extend(per_group.into_iter().flatten());
        outcomes
    }

    /// BatchGetImage by digest: `ImageNotFound` is gone.
    async fn confirm(&self, connections: &Arc<Connections>, targets: &[Target]) -> Vec<Presence> {
        crate::services::declare_limits(connections);
        super::reread::ecr_images(connections, targets).await
    }
}

/// One repository's batches, one after another (an index before its children).
async fn delete_group(
    connections: &Connections,
    group: &Group<Repository>,
    log: &dyn ActionLog,
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for batch in group.items.chunks(BATCH) {
        outcomes.extend(delete_batch(connections, group, batch, log).await);
    }
    outcomes
}

/// The connection is the resolved row's account and region: never a guess.
pub(crate) fn locate(target: &Target) -> std::result::Result<Locator<Repository>, String> {
    let name = required(target, "repository_name")?;
    let digest = required(target, "image_digest")?;
    let account = required(target, "account_id").map_err(unresolved)?;
    let region = required(target, "region").map_err(unresolved)?;
    let registry_id = target.get("registry_id").map(str::to_string);
    Ok(Locator {
        account: Some(account),
        region: Some(region),
        scope: Repository { registry_id, name },
        id: digest,
    })
}

fn unresolved(missing: String) -> String {
    format!("not attempted: {missing}, so it does not name one image (the check resolves rows)")
}

/// One logged `BatchDeleteImage` of up to 100 digests.
async fn delete_batch(
    connections: &Connections,
    group: &Group<Repository>,
    batch: &[Item],
    log: &dyn ActionLog,
) -> Vec<Outcome> {
    let targets = targets_of(batch);
    if let Err(reason) = common::intent(log, OPERATION, &targets).await {
        return fail_all(&targets, &reason);
    }
    let ids = batch.iter().map(|item| ImageIdentifier::builder().image_digest(&item.id).build()).collect();
    let request = crate::clients::ecr(&group.conn)
        .batch_delete_image()
        .set_registry_id(group.scope.registry_id.clone())
        .repository_name(&group.scope.name)
        .set_image_ids(Some(ids));
    // Counted, so an answer to a retried call can be read as one: its first
    // attempt may have deleted images and lost the answer.
    let attempts = AtomicU32::new(0);
    let sent = send(connections, &group.conn, OPERATION, || {
        attempts.fetch_add(1, Ordering::Relaxed);
        request.clone().send()
    })
    .await;
    let outcomes = match sent {
        Ok(out) => {
            let retried = attempts.load(Ordering::Relaxed) > 1;
            let (mut outcomes, unconfirmed) = outcomes(batch, &out, retried);
            if !unconfirmed.is_empty() {
                outcomes.extend(confirm(connections, group, &unconfirmed).await);
            }
            outcomes
        }
        // The call may have deleted them before failing: look.
        Err(e) => {
            let presence = super::reread::ecr_images(connections, &targets).await;
            super::reread::after_call_error(&targets, &presence, &e.to_string())
        }
    };
    common::outcome(log, OPERATION, outcomes)
}

/// Deleted digests are done, failed ones carry ECR's code and reason; the
/// items the answer does not mention are returned to be looked up again.
/// When the call was `retried`, `ImageNotFound` means an earlier attempt
/// deleted the image and its answer was lost: done, saying so.
fn outcomes<'a>(
    batch: &'a [Item],
    out: &BatchDeleteImageOutput,
    retried: bool,
) -> (Vec<Outcome>, Vec<&'a Item>) {
    let deleted: HashSet<&str> = out.image_ids().iter().filter_map(|id| id.image_digest()).collect();
    let failures: HashMap<&str, &ImageFailure> =
        out.failures().iter().filter_map(|f| Some((f.image_id()?.image_digest()?, f))).collect();
    let mut outcomes = Vec::new();
    let mut unconfirmed = Vec::new();
    for item in batch {
        let failure = failures.get(item.id.as_str());
        let not_found =
            failure.is_some_and(|f| f.failure_code().is_some_and(|c| c.as_str() == "ImageNotFound"));
        if deleted.contains(item.id.as_str()) {
            outcomes.extend(item.targets.iter().cloned().map(Outcome::done));
        } else if retried && not_found {
            outcomes.extend(item.targets.iter().map(|t| Outcome {
                target: t.clone(),
                status: Status::Done,
                reason: Some(GONE_ON_RETRY.into()),
            }));
        } else if let Some(reason) = failure.map(|f| failure_reason(f)) {
            outcomes.extend(item.targets.iter().map(|t| Outcome::failed(t.clone(), reason.clone())));
        } else {
            unconfirmed.push(item);
        }
    }
    (outcomes, unconfirmed)
}

/// Looks up images a delete answer did not mention (moto, for one, leaves
/// untagged images out of `imageIds`): done when ECR says `ImageNotFound`,
/// failed when the image is still there or the lookup fails. One image per
/// lookup, so a failure that does not echo the digest (moto's do not) still
/// says which image it is about; real ECR mentions every image, so this is rare.
async fn confirm(connections: &Connections, group: &Group<Repository>, items: &[&Item]) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for item in items {
        let verdict = look_up(connections, group, &item.id).await;
        outcomes.extend(item.targets.iter().map(|t| match &verdict {
            Ok(()) => Outcome::done(t.clone()),
            Err(reason) => Outcome::failed(t.clone(), reason.clone()),
        }));
    }
    outcomes
}

/// `Ok` when ECR says the image with `digest` is gone, else why not.
async fn look_up(
    connections: &Connections,
    group: &Group<Repository>,
    digest: &str,
) -> std::result::Result<(), String> {
    const LOOKUP: &str = "ecr:BatchGetImage";
    let unknown = "BatchDeleteImage reported neither a deletion nor a failure";
    let request = crate::clients::ecr(&group.conn)
        .batch_get_image()
        .set_registry_id(group.scope.registry_id.clone())
        .repository_name(&group.scope.name)
        .image_ids(ImageIdentifier::builder().image_digest(digest).build());
    let answer = send(connections, &group.conn, LOOKUP, || request.clone().send())
        .await
        .map_err(|e| format!("{unknown}, and looking it up failed: {e}"))?;
    if !answer.images().is_empty() {
        return Err(format!("{unknown}, and the image still exists"));
    }
    match answer.failures() {
        [only] if only.failure_code().is_some_and(|c| c.as_str() == "ImageNotFound") => Ok(()),
        _ => Err(format!("{unknown}, and ECR could not say whether it exists")),
    }
}

/// The reason of an image a retried call answered `ImageNotFound` for.
const GONE_ON_RETRY: &str = "gone: ECR answered ImageNotFound to a retried call, so an earlier attempt \
     deleted it and its answer was lost";

/// `<failureCode>: <failureReason>`, as ECR gives them.
fn failure_reason(failure: &ImageFailure) -> String {
    let code = failure.failure_code().map_or("UnknownFailure", |c| c.as_str());
    match failure.failure_reason() {
        Some(reason) => skyglue_core::error::one_line(&format!("{code}: {reason}")),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_that_does_not_name_its_account_and_region_is_not_guessed() {
        let t = Target::from_pairs([("registry_id", "1"), ("repository_name", "web"), ("image_digest", "d")]);
        assert!(locate(&t).is_err_and(|e| e.contains("account_id")));
        let t = Target::from_pairs([
            ("account_id", "2"),
            ("region", "us-east-1"),
            ("registry_id", "1"),
            ("repository_name", "web"),
            ("image_digest", "d"),
        ]);
        let loc = locate(&t).ok();
        assert_eq!(loc.as_ref().and_then(|l| l.account.as_deref()), Some("2"));
        assert_eq!(loc.as_ref().and_then(|l| l.region.as_deref()), Some("us-east-1"));
    }

    #[test]
    fn a_row_without_a_digest_is_refused() {
        let t = Target::from_pairs([("repository_name", "web")]);
        assert_eq!(locate(&t).err(), Some("the row has no image_digest column".into()));
    }
}
