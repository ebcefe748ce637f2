//! Re-reading targets whose call never said what it did: a call that failed
//! after its retries (its answer may have been lost after the action took
//! effect), or a call a crash cut short ([`Sink::confirm`], which the runner
//! calls for every intent journaled without an outcome).
//!
//! Each re-read asks the API, never a cache, and answers per target:
//! [`Presence::Gone`] when the action took effect, [`Presence::Present`] when
//! the resource is as it was, [`Presence::Unknown`] when the re-read failed
//! or the answer did not say. Callers turn these into done, failed and unknown
//! outcomes ([`after_call_error`]): a target is never called done on a guess.
//!
//! - ECR images: `BatchGetImage` by digest, 100 per call per repository;
//!   `ImageNotFound` is gone.
//! - ECS task definitions: `DescribeTaskDefinition`, one per revision; the
//!   statuses that mean the action took effect are the caller's (`INACTIVE`
//!   for deregistering, `DELETE_IN_PROGRESS` for deleting).
//! - S3 objects: `HeadObject` (with the row's `version_id`), one per key;
//!   `NotFound` is gone.
//!
//! [`Sink::confirm`]: skyglue_core::sink::Sink::confirm

use std::collections::HashMap;

use aws_sdk_ecr::types::ImageIdentifier;
use skyglue_core::Connections;
use skyglue_core::call::aws_call;
use skyglue_core::error::one_line;
use skyglue_core::sink::{Outcome, Presence, Target};

use super::common::{self, Locator, required, send};

/// BatchGetImage takes 100 image ids per call.
const ECR_BATCH: usize = 100;

/// The outcomes of `targets` after their call failed with `error` once its
/// retries were spent, from a re-read of each: done (gone: the call took
/// effect and its answer was lost), failed (still there), unknown (the
/// re-read failed).
pub(crate) fn after_call_error(targets: &[Target], presence: &[Presence], error: &str) -> Vec<Outcome> {
    let error = one_line(error);
    let gone = format!("the call failed after its retries ({error}), but it had taken effect");
    let no_answer = Presence::Unknown("no answer".into());
    targets
        .iter()
        .zip(presence.iter().chain(std::iter::repeat(&no_answer)))
        .map(|(t, p)| match p {
            Presence::Gone => Outcome::confirmed(t.clone(), p, &gone, &error),
            // The reason starts with the call's error, as it did before re-reads.
            _ => Outcome::confirmed(t.clone(), p, &error, &error),
        })
        .collect()
}

/// What one BatchGetImage call is scoped to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Repository {
    registry_id: Option<String>,
    name: String,
}

/// Whether each ECR image (a resolved `delete_ecr_images` row) still exists.
pub(crate) async fn ecr_images(connections: &Connections, targets: &[Target]) -> Vec<Presence> {
    let locate = |t: &Target| -> Result<Locator<Repository>, String> {
        Ok(Locator {
            account: Some(required(t, "account_id")?),
            region: Some(required(t, "region")?),
            scope: Repository {
                registry_id: t.get("registry_id").map(str::to_string),
                name: required(t, "repository_name")?,
            },
            id: required(t, "image_digest")?,
        })
    };
    let plan = common::plan(connections, targets.to_vec(), locate).await;
    let mut found: HashMap<Target, Presence> = HashMap::new();
    for o in plan.unreachable {
        let reason = o.reason.unwrap_or_default();
        found.insert(o.target, Presence::Unknown(reason));
    }
    for group in &plan.groups {
        for batch in group.items.chunks(ECR_BATCH) {
            let ids = batch.iter().map(|i| ImageIdentifier::builder().image_digest(&i.id).build()).collect();
            let request = crate::clients::ecr(&group.conn)
                .batch_get_image()
                .set_registry_id(group.scope.registry_id.clone())
                .repository_name(&group.scope.name)
                .set_image_ids(Some(ids));
            let answer = send(connections, &group.conn, "ecr:BatchGetImage", || request.clone().send()).await;
            for item in batch {
                let presence = match &answer {
                    Err(e) => {
                        Presence::Unknown(format!("ecr:BatchGetImage failed: {}", one_line(&e.to_string())))
                    }
                    Ok(out) => {
                        let digest = Some(item.id.as_str());
                        let listed = out
                            .images()
                            .iter()
                            .any(|i| i.image_id().and_then(|id| id.image_digest()) == digest);
                        let failure = out
                            .failures()
                            .iter()
                            .find(|f| f.image_id().and_then(|id| id.image_digest()) == digest);
                        match (listed, failure) {
                            (true, _) => Presence::Present,
                            (false, Some(f))
                                if f.failure_code().is_some_and(|c| c.as_str() == "ImageNotFound") =>
                            {
                                Presence::Gone
                            }
                            (false, Some(f)) => Presence::Unknown(format!(
                                "ECR answered {}",
                                f.failure_code().map_or("an unnamed failure", |c| c.as_str())
                            )),
                            (false, None) => Presence::Unknown("ECR's answer did not mention it".into()),
                        }
                    }
                };
                for t in &item.targets {
                    found.insert(t.clone(), presence.clone());
                }
            }
        }
    }
    in_order(targets, found)
}

/// Whether each ECS task definition revision (a resolved row) has reached
/// one of the `done` statuses: gone when it has, present when it has another.
pub(crate) async fn task_definitions(
    connections: &Connections,
    targets: &[Target],
    done: &[&str],
) -> Vec<Presence> {
    let plan =
        common::plan(connections, targets.to_vec(), crate::services::ecs::task_definition_check::locate)
            .await;
    let mut found: HashMap<Target, Presence> = HashMap::new();
    for o in plan.unreachable {
        found.insert(o.target, Presence::Unknown(o.reason.unwrap_or_default()));
    }
    for group in &plan.groups {
        for item in &group.items {
            let request =
                crate::clients::ecs(&group.conn).describe_task_definition().task_definition(&item.id);
            let answer =
                send(connections, &group.conn, "ecs:DescribeTaskDefinition", || request.clone().send()).await;
            let presence = match answer {
                Ok(out) => match out.task_definition().and_then(|td| td.status()).map(|s| s.as_str()) {
                    Some(status) if done.contains(&status) => Presence::Gone,
                    Some(_) => Presence::Present,
                    None => Presence::Unknown("ECS did not say what the revision is".into()),
                },
                Err(e) => Presence::Unknown(format!(
                    "ecs:DescribeTaskDefinition failed: {}",
                    one_line(&e.to_string())
                )),
            };
            for t in &item.targets {
                found.insert(t.clone(), presence.clone());
            }
        }
    }
    in_order(targets, found)
}

/// Whether each S3 object (or the row's `version_id` of it) still exists.
pub(crate) async fn s3_objects(connections: &Connections, targets: &[Target]) -> Vec<Presence> {
    let mut out = Vec::with_capacity(targets.len());
    for t in targets {
        out.push(s3_object(connections, t).await.unwrap_or_else(Presence::Unknown));
    }
    out
}

async fn s3_object(connections: &Connections, t: &Target) -> Result<Presence, String> {
    let bucket = required(t, "bucket_name")?;
    let key = required(t, "key")?;
    let region = required(t, "region")?;
    let conn = connections.find_aws(t.get("account_id"), None).await.map_err(|e| one_line(&e.to_string()))?;
    let request = crate::clients::s3(&conn, &region)
        .head_object()
        .bucket(&bucket)
        .key(&key)
        .set_version_id(t.get("version_id").map(str::to_string));
    let gone = ["NotFound", "NoSuchKey", "NoSuchVersion"];
    let answer =
        aws_call(connections, &conn.label(), "s3:HeadObject", &gone, None, || request.clone().send())
            .await
            .map_err(|e| format!("s3:HeadObject failed: {}", one_line(&e.to_string())))?;
    Ok(if answer.is_some() { Presence::Present } else { Presence::Gone })
}

/// One presence per target, in the targets' order.
fn in_order(targets: &[Target], found: HashMap<Target, Presence>) -> Vec<Presence> {
    let missing = || Presence::Unknown("it was not re-read".into());
    targets.iter().map(|t| found.get(t).cloned().unwrap_or_else(missing)).collect()
}
