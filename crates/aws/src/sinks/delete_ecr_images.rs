//! `delete_ecr_images`: deletes ECR images by digest, 100 per `BatchDeleteImage`.
//!
//! ```sql
//! -- @action: delete_ecr_images
//! SELECT account_id, region, registry_id, repository_name, image_digest
//! FROM aws_ecr_image WHERE repository_name = 'web' AND cardinality(image_tags) = 0;
//! ```
//!
//! Rows are grouped by connection, registry and repository, and each group is
//! sent in the order the rows came: the runner puts an image index before its
//! child manifests, so the index is gone by the time ECR is asked for a child
//! (ECR refuses a child an index still references). Deleting by digest removes
//! the image with all its tags. Each per-image failure is reported as
//! `<failureCode>: <failureReason>`; a failed call fails only its own batch.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_ecr::operation::batch_delete_image::BatchDeleteImageOutput;
use aws_sdk_ecr::types::{ImageFailure, ImageIdentifier};
use skyglue_core::Connections;
use skyglue_core::sink::{ActionLog, Outcome, Sink, Target};

use super::common::{self, Group, Item, Locator, fail_all, required, send, targets_of};

/// The API allows 100 image ids per call.
const BATCH: usize = 100;
const OPERATION: &str = "ecr:BatchDeleteImage";

/// Deletes ECR images by digest.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeleteEcrImages;

/// What one `BatchDeleteImage` call is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Repository {
    registry_id: Option<String>,
    name: String,
}

#[async_trait]
impl Sink for DeleteEcrImages {
    fn action(&self) -> &str {
        "delete_ecr_images"
    }

    fn required_columns(&self) -> &[&str] {
        &["repository_name", "image_digest"]
    }

    fn optional_columns(&self) -> &[&str] {
        &["account_id", "region", "registry_id"]
    }

    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome> {
        let plan = common::plan(connections, targets, locate).await;
        common::log_unreachable(log, OPERATION, &plan.unreachable);
        let mut outcomes = plan.unreachable;
        for group in &plan.groups {
            for batch in group.items.chunks(BATCH) {
                outcomes.extend(delete_batch(connections, group, batch, log).await);
            }
        }
        outcomes
    }
}

/// The connection is the row's account, else the registry's owner; the region is the row's.
fn locate(target: &Target) -> Result<Locator<Repository>, String> {
    let name = required(target, "repository_name")?;
    let digest = required(target, "image_digest")?;
    let registry_id = target.get("registry_id").map(str::to_string);
    Ok(Locator {
        account: target.get("account_id").map(str::to_string).or_else(|| registry_id.clone()),
        region: target.get("region").map(str::to_string),
        scope: Repository { registry_id, name },
        id: digest,
    })
}

/// One logged `BatchDeleteImage` of up to 100 digests.
async fn delete_batch(
    connections: &Connections,
    group: &Group<Repository>,
    batch: &[Item],
    log: &dyn ActionLog,
) -> Vec<Outcome> {
    let targets = targets_of(batch);
    if let Err(reason) = common::intent(log, OPERATION, &targets) {
        return fail_all(&targets, &reason);
    }
    let ids = batch.iter().map(|item| ImageIdentifier::builder().image_digest(&item.id).build()).collect();
    let request = crate::clients::ecr(&group.conn)
        .batch_delete_image()
        .set_registry_id(group.scope.registry_id.clone())
        .repository_name(&group.scope.name)
        .set_image_ids(Some(ids));
    let outcomes = match send(connections, &group.conn, OPERATION, || request.clone().send()).await {
        Ok(out) => outcomes(batch, &out),
        Err(e) => fail_all(&targets, &e.to_string()),
    };
    common::outcome(log, OPERATION, outcomes)
}

/// Deleted digests are done, failed ones carry ECR's code and reason.
fn outcomes(batch: &[Item], out: &BatchDeleteImageOutput) -> Vec<Outcome> {
    let deleted: HashSet<&str> = out.image_ids().iter().filter_map(|id| id.image_digest()).collect();
    let failures: HashMap<&str, String> = out
        .failures()
        .iter()
        .filter_map(|f| Some((f.image_id()?.image_digest()?, failure_reason(f))))
        .collect();
    let mut outcomes = Vec::new();
    for item in batch {
        for target in &item.targets {
            let outcome = if deleted.contains(item.id.as_str()) {
                Outcome::done(target.clone())
            } else if let Some(reason) = failures.get(item.id.as_str()) {
                Outcome::failed(target.clone(), reason.clone())
            } else {
                // The call succeeded and did not list this image as a failure:
                // ECR reports per-image failures, so it was deleted. (Moto, for
                // one, leaves untagged images out of `imageIds`.)
                Outcome::done(target.clone())
            };
            outcomes.push(outcome);
        }
    }
    outcomes
}

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
    fn the_registry_owner_is_the_account_when_the_row_names_none() {
        let t = Target::from_pairs([("registry_id", "1"), ("repository_name", "web"), ("image_digest", "d")]);
        let loc = locate(&t).ok();
        assert_eq!(loc.as_ref().and_then(|l| l.account.as_deref()), Some("1"));
        let t = Target::from_pairs([
            ("account_id", "2"),
            ("registry_id", "1"),
            ("repository_name", "web"),
            ("image_digest", "d"),
        ]);
        assert_eq!(locate(&t).ok().and_then(|l| l.account), Some("2".into()));
    }

    #[test]
    fn a_row_without_a_digest_is_refused() {
        let t = Target::from_pairs([("repository_name", "web")]);
        assert_eq!(locate(&t).err(), Some("the row has no image_digest column".into()));
    }
}
