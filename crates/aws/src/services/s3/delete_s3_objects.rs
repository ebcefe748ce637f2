//! `delete_s3_objects`: deletes S3 objects (or named versions), 1,000 per
//! `DeleteObjects`, in each bucket's own region.
//!
//! ```sql
//! -- @action: delete_s3_objects
//! SELECT bucket_name, key, etag FROM aws_s3_object
//! WHERE bucket_name = 'acme-ci-artifacts' AND key LIKE 'builds/%' AND last_modified < days_ago(30);
//! ```
//!
//! Its check (`s3_check`) finds each object's account and region, skips one
//! overwritten since the plan, a version that is the object's live one, and a
//! version Object Lock protects; this sink deletes exactly what the check let
//! through. Each object travels as its (key, version) pair, never as a joined
//! string. A key delete is **conditional**: it carries the ETag the check saw,
//! so an object overwritten between the check and the call is refused by S3
//! (`PreconditionFailed`) and skipped as "changed since checked", the new
//! upload kept. Quiet mode is off, so S3 accounts for every key, and each
//! `Deleted` entry says what S3 did with it: removed for good (a bucket never
//! versioned), a delete marker added (versioning Enabled: the data stays as a
//! noncurrent version), or, when versioning is Suspended, the `null` version
//! removed for good under a `null` delete marker. An `Error` entry fails its
//! row with S3's code and message, and a key S3 mentions in neither is failed,
//! not assumed. A failed call fails only its own batch. No Object Lock bypass
//! is ever sent.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::operation::delete_objects::DeleteObjectsOutput;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use skyglue_core::sink::{ActionLog, Checked, Description, Outcome, Presence, Sink, Status, Target};
use skyglue_core::{Connections, Engine, Result};

use super::common::{self, Group, Item, Locator, fail_all, required, send, targets_of};
use super::s3_check::NULL_VERSION;

/// The API allows 1,000 keys per call.
const BATCH: usize = 1000;
const OPERATION: &str = "s3:DeleteObjects";

/// Deletes S3 objects and object versions.
#[derive(Debug, Default, Clone, Copy)]
pub struct DeleteS3Objects;

/// What one `DeleteObjects` call is scoped to: a bucket, in its region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct BucketScope {
    name: String,
    region: String,
}

/// One object to delete: a key (its live object) or one version of it, and
/// for a key the ETag the check saw, sent as the delete's condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct ObjectId {
    key: String,
    version_id: Option<String>,
    if_match: Option<String>,
}

#[async_trait]
impl Sink for DeleteS3Objects {
    fn action(&self) -> &str {
        "delete_s3_objects"
    }

    fn required_columns(&self) -> &[&str] {
        &["bucket_name", "key"]
    }

    fn describe(&self) -> Description {
        crate::descriptions::OBJECTS
    }

    fn optional_columns(&self) -> &[&str] {
        &["account_id", "version_id", "etag"]
    }

    /// The bucket: what its check re-reads (versioning, locks, the objects).
    fn recheck_group(&self, target: &Target) -> Option<String> {
        Some(common::group_key(target, &["account_id", "bucket_name"]))
    }

    async fn check(&self, engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
        crate::services::declare_limits(engine.connections());
        super::s3_check::check(engine, targets).await
    }

    async fn apply(
        &self,
        connections: &Arc<Connections>,
        targets: Vec<Target>,
        log: &dyn ActionLog,
    ) -> Vec<Outcome> {
        let (groups, mut outcomes) =
            crate::services::open_apply(connections, targets, OPERATION, log, locate).await;
        for group in &groups {
            for batch in group.items.chunks(BATCH) {
                outcomes.extend(delete_batch(connections, group, batch, log).await);
            }
        }
        outcomes
    }

    /// HeadObject (with the row's version): `NotFound` is gone.
    async fn confirm(&self, connections: &Arc<Connections>, targets: &[Target]) -> Vec<Presence> {
        crate::services::declare_limits(connections);
        super::reread::s3_objects(connections, targets).await
    }
}

/// The owning account and the bucket's region, as the check resolved them,
/// and the object: a key delete must carry the ETag its check saw.
fn locate(target: &Target) -> std::result::Result<Locator<BucketScope, ObjectId>, String> {
    let name = required(target, "bucket_name")?;
    let key = required(target, "key")?;
    let unresolved = |missing: String| format!("not attempted: {missing} (the check resolves rows)");
    let account = required(target, "account_id").map_err(unresolved)?;
    let region = required(target, "region").map_err(unresolved)?;
    let version_id = target.get("version_id").map(str::to_string);
    let if_match = match &version_id {
        // S3 evaluates a condition against the current version only; a
        // version id names one immutable version.
        Some(_) => None,
        None => Some(required(target, "etag").map_err(unresolved)?),
    };
    let id = ObjectId { key, version_id, if_match };
    Ok(Locator { account: Some(account), region: None, scope: BucketScope { name, region }, id })
}

/// One logged `DeleteObjects` of up to 1,000 keys.
async fn delete_batch(
    connections: &Connections,
    group: &Group<BucketScope, ObjectId>,
    batch: &[Item<ObjectId>],
    log: &dyn ActionLog,
) -> Vec<Outcome> {
    let targets = targets_of(batch);
    if let Err(reason) = common::intent(log, OPERATION, &targets).await {
        return fail_all(&targets, &reason);
    }
    let objects: std::result::Result<Vec<ObjectIdentifier>, _> = batch
        .iter()
        .map(|item| {
            ObjectIdentifier::builder()
                .key(&item.id.key)
                .set_version_id(item.id.version_id.clone())
                .set_e_tag(item.id.if_match.clone())
                .build()
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
        // The call may have taken effect before it failed: look.
        Err(e) => {
            let presence = super::reread::s3_objects(connections, &targets).await;
            super::reread::after_call_error(&targets, &presence, &e.to_string())
        }
    };
    common::outcome(log, OPERATION, outcomes)
}

/// What S3 said about one object.
enum Answer {
    /// Deleted; for a key delete, the version id of the delete marker S3 wrote, if it wrote one.
    Deleted { marker: Option<String> },
    /// Refused, with S3's code and message.
    Refused { code: String, reason: String },
}

/// Each item's entry in the answer, matched by key and the version id S3
/// echoes (none for a key delete); see the module doc for what each means.
fn outcomes(batch: &[Item<ObjectId>], out: &DeleteObjectsOutput) -> Vec<Outcome> {
    let mut answers: HashMap<(&str, Option<&str>), Answer> = HashMap::new();
    for d in out.deleted() {
        if let Some(key) = d.key() {
            let marker = (d.delete_marker() == Some(true))
                .then(|| d.delete_marker_version_id().unwrap_or_default().to_string());
            answers.insert((key, d.version_id()), Answer::Deleted { marker });
        }
    }
    for e in out.errors() {
        if let Some(key) = e.key() {
            let code = e.code().unwrap_or("Error").to_string();
            let reason = format!("{code}: {}", e.message().unwrap_or("no message"));
            let reason = skyglue_core::error::one_line(&reason);
            answers.entry((key, e.version_id())).or_insert(Answer::Refused { code, reason });
        }
    }
    let mut outcomes = Vec::new();
    for item in batch {
        let id = &item.id;
        let answer = answers.get(&(id.key.as_str(), id.version_id.as_deref()));
        for target in &item.targets {
            outcomes.push(outcome(target.clone(), id, answer));
        }
    }
    outcomes
}

fn outcome(target: Target, id: &ObjectId, answer: Option<&Answer>) -> Outcome {
    let done =
        |reason: &str| Outcome { target: target.clone(), status: Status::Done, reason: Some(reason.into()) };
    match answer {
        // A named version (or delete marker) is gone for good.
        Some(Answer::Deleted { .. }) if id.version_id.is_some() => Outcome::done(target),
        Some(Answer::Deleted { marker: None }) => done(PERMANENT),
        Some(Answer::Deleted { marker: Some(v) }) if v == NULL_VERSION => done(NULL_VERSION_REMOVED),
        Some(Answer::Deleted { marker: Some(_) }) => done(MARKER_ADDED),
        Some(Answer::Refused { code, reason }) if code == "PreconditionFailed" && id.if_match.is_some() => {
            Outcome::skipped(target, format!("{CHANGED_SINCE_CHECKED} ({reason})"))
        }
        Some(Answer::Refused { code, .. }) if code == "NoSuchKey" && id.version_id.is_none() => {
            Outcome::skipped(target, "gone since checked (S3: NoSuchKey)")
        }
        Some(Answer::Refused { reason, .. }) => Outcome::failed(target, reason.clone()),
        None => Outcome::failed(target, "S3 reported neither a deletion nor an error"),
    }
}

/// The reason a key delete refused because the object's ETag changed is
/// skipped with: the object was overwritten after the check, and the new
/// upload is kept.
pub const CHANGED_SINCE_CHECKED: &str =
    "changed since checked: S3 refused the delete, its ETag is no longer the one the check saw";

/// The reason a key delete in a bucket never versioned is reported with.
pub const PERMANENT: &str = "deleted permanently (bucket not versioned)";

/// The reason a key delete in a bucket whose versioning is Suspended is
/// reported with.
pub const NULL_VERSION_REMOVED: &str = "deleted permanently: versioning Suspended, S3 removed the null version (a null delete marker took its place)";

/// The reason a key delete on a versioned bucket is reported with.
pub const MARKER_ADDED: &str =
    "delete marker added: versioning Enabled, the data stays as a noncurrent version (0 bytes reclaimed)";

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
        let id = ObjectId { key: "k".into(), version_id: Some("v1".into()), if_match: None };
        assert_eq!(loc.id, id, "a version is named by its id alone, no condition");
    }

    #[test]
    fn a_key_delete_carries_the_etag_the_check_saw() {
        let row = |etag: Option<&str>| {
            let mut t = Target::from_pairs([
                ("bucket_name", "b"),
                ("key", "a\0b"),
                ("account_id", "1"),
                ("region", "us-east-1"),
            ]);
            if let Some(etag) = etag {
                t.set("etag", etag);
            }
            t
        };
        let loc = locate(&row(Some("\"e1\""))).expect("located");
        assert_eq!(
            loc.id,
            ObjectId { key: "a\0b".into(), version_id: None, if_match: Some("\"e1\"".into()) }
        );
        assert!(locate(&row(None)).is_err_and(|e| e.contains("etag")), "never an unconditional key delete");
    }
}
