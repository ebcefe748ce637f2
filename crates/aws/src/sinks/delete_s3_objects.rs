//! `delete_s3_objects`: deletes S3 objects (or named versions), 1,000 per
//! `DeleteObjects`, in each bucket's own region.
//!
//! ```sql
//! -- @action: delete_s3_objects
//! SELECT bucket_name, key, etag FROM aws_s3_object
//! WHERE bucket_name = 'acme-ci-artifacts' AND key LIKE 'builds/%' AND last_modified < days_ago(30);
//! ```
//!
//! Its check (`s3_check`) finds each object's account and region and skips
//! one overwritten since the plan; this sink deletes exactly what the check let
//! through. Quiet mode is off, so S3 accounts for every key: each `Deleted`
//! entry is done (on a versioned bucket, deleting the current object without a
//! `version_id` adds a delete marker: done, "delete marker added", no bytes
//! reclaimed), each `Error` entry fails its row with S3's code and message, and
//! a key S3 mentions in neither is failed, not assumed. A failed call fails
//! only its own batch.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use skyglue_core::sink::{ActionLog, Checked, Outcome, Presence, Sink, Status, Target};
use skyglue_core::{Connections, Engine, Result};

use super::common::{self, Group, Item, Locator, fail_all, required, send, targets_of};

/// The API allows 1,000 keys per call.
const BATCH: usize = 1000;
const OPERATION: &str = "s3:DeleteObjects";

/// Separates a key from a version id in an item id.
const VERSION_SEPARATOR: char = '\0';

/// Deletes S3 objects and object versions.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeleteS3Objects;

/// What one `DeleteObjects` call is scoped to: a bucket, in its region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct BucketScope {
    name: String,
    region: String,
}

#[async_trait]
impl Sink for DeleteS3Objects {
    fn action(&self) -> &str {
        "delete_s3_objects"
    }

    fn required_columns(&self) -> &[&str] {
        &["bucket_name", "key"]
    }

    fn optional_columns(&self) -> &[&str] {
        &["account_id", "version_id", "etag"]
    }

    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
        super::common::declare_limits(engine.connections());
        super::s3_check::check(engine, targets).await
    }

    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome> {
        super::common::declare_limits(connections);
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

    /// HeadObject (with the row's version): `NotFound` is gone.
    async fn confirm(&self, connections: &Arc<Connections>, targets: &[Target]) -> Vec<Presence> {
        super::reread::s3_objects(connections, targets).await
    }
}

/// The owning account and the bucket's region, as the check resolved them.
fn locate(target: &Target) -> std::result::Result<Locator<BucketScope>, String> {
    let name = required(target, "bucket_name")?;
    let key = required(target, "key")?;
    let unresolved = |missing: String| format!("not attempted: {missing} (the check resolves rows)");
    let account = required(target, "account_id").map_err(unresolved)?;
    let region = required(target, "region").map_err(unresolved)?;
    let id = match target.get("version_id") {
        Some(version) => format!("{key}{VERSION_SEPARATOR}{version}"),
        None => key,
    };
    Ok(Locator { account: Some(account), region: None, scope: BucketScope { name, region }, id })
}

/// `(key, version_id)` of an item id.
fn split(id: &str) -> (&str, Option<&str>) {
    match id.split_once(VERSION_SEPARATOR) {
        Some((key, version)) => (key, Some(version)),
        None => (id, None),
    }
}

/// One logged `DeleteObjects` of up to 1,000 keys.
async fn delete_batch(
    connections: &Connections,
    group: &Group<BucketScope>,
    batch: &[Item],
    log: &dyn ActionLog,
) -> Vec<Outcome> {
    let targets = targets_of(batch);
    if let Err(reason) = common::intent(log, OPERATION, &targets) {
        return fail_all(&targets, &reason);
    }
    let objects: std::result::Result<Vec<ObjectIdentifier>, _> = batch
        .iter()
        .map(|item| {
            let (key, version) = split(&item.id);
            ObjectIdentifier::builder().key(key).set_version_id(version.map(str::to_string)).build()
        })
        .collect();
    let delete =
        objects.and_then(|objects| Delete::builder().set_objects(Some(objects)).quiet(false).build());
    let delete = match delete {
        Ok(delete) => delete,
        Err(e) => return common::outcome(log, OPERATION, fail_all(&targets, &e.to_string())),
    };
    let s3 = crate::clients::s3(&group.conn, &group.scope.region);
    let request = s3.delete_objects().bucket(&group.scope.name).delete(delete);
    let outcomes = match send(connections, &group.conn, OPERATION, || request.clone().send()).await {
        Ok(out) => outcomes(batch, &out),
        Err(e) => fail_all(&targets, &e.to_string()),
    };
    common::outcome(log, OPERATION, outcomes)
}

/// Each item's entry in the answer, matched by key and the version id S3
/// echoes (none for a current-object delete): deleted (on a versioned bucket
/// a current-object delete only adds a delete marker), failed with S3's code,
/// or not mentioned, which is a failure too.
fn outcomes(batch: &[Item], out: &DeleteObjectsOutput) -> Vec<Outcome> {
    let deleted: HashMap<(&str, Option<&str>), bool> = out
        .deleted()
        .iter()
        .filter_map(|d| Some(((d.key()?, d.version_id()), d.delete_marker() == Some(true))))
        .collect();
    let errors: HashMap<(&str, Option<&str>), String> = out
        .errors()
        .iter()
        .filter_map(|e| {
            let reason = format!("{}: {}", e.code().unwrap_or("Error"), e.message().unwrap_or("no message"));
            Some(((e.key()?, e.version_id()), skyglue_core::error::one_line(&reason)))
        })
        .collect();
    let mut outcomes = Vec::new();
    for item in batch {
        let id = split(&item.id);
        for target in &item.targets {
            outcomes.push(match (deleted.get(&id), errors.get(&id)) {
                (Some(true), _) if id.1.is_none() => Outcome {
                    target: target.clone(),
                    status: Status::Done,
                    reason: Some(MARKER_ADDED.into()),
                },
                (Some(_), _) => Outcome::done(target.clone()),
                (None, Some(reason)) => Outcome::failed(target.clone(), reason.clone()),
                (None, None) => {
                    Outcome::failed(target.clone(), "S3 reported neither a deletion nor an error")
                }
            });
        }
    }
    outcomes
}

/// The reason a current-object delete on a versioned bucket is reported with.
pub const MARKER_ADDED: &str =
    "delete marker added (versioned bucket: the data stays as a noncurrent version)";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_must_be_resolved_to_its_account_and_region() {
        let t = Target::from_pairs([("bucket_name", "b"), ("key", "k")]);
        assert!(locate(&t).is_err_and(|e| e.contains("account_id")));
        let t = Target::from_pairs([
            ("bucket_name", "b"),
            ("key", "k"),
            ("version_id", "v1"),
            ("account_id", "1"),
            ("region", "eu-west-1"),
        ]);
        let loc = locate(&t).expect("located");
        assert_eq!(loc.scope, BucketScope { name: "b".into(), region: "eu-west-1".into() });
        assert_eq!(split(&loc.id), ("k", Some("v1")));
    }
}
