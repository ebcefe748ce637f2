//! Object Lock, for the check of `delete_s3_objects`: which object versions
//! S3 would refuse to delete (or skyglue must not), and why.
//!
//! Only a version delete can hit a lock: a key delete in a locked bucket
//! adds a delete marker, which Object Lock allows. So for each bucket that
//! has version rows the check asks GetObjectLockConfiguration once; when Object
//! Lock is enabled, each version's GetObjectRetention and GetObjectLegalHold.
//! A legal hold that is ON, or a retention (GOVERNANCE or COMPLIANCE) whose
//! date has not passed, protects the version: its row is skipped with the
//! protection as the reason. skyglue never sends
//! `x-amz-bypass-governance-retention`. "Not configured" answers
//! (`ObjectLockConfigurationNotFoundError`, `NoSuchObjectLockConfiguration`)
//! mean no protection; any other failure fails the check.

use std::collections::HashMap;

use aws_sdk_s3::types::{ObjectLockEnabled, ObjectLockLegalHoldStatus};
use futures::{StreamExt, TryStreamExt};
use skyglue_core::call::aws_call;
use skyglue_core::{AwsConnection, Connections, Result};

/// A bucket's versioning, as GetBucketVersioning says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Versioning {
    /// Never enabled: a key delete removes the object.
    Off,
    /// A key delete adds a delete marker.
    Enabled,
    /// A key delete removes the `null` version and writes a `null` marker.
    Suspended,
}

/// Where a bucket lives and how it versions.
#[derive(Debug, Clone)]
pub(crate) struct Bucket {
    /// The owning account.
    pub account: String,
    /// The bucket's region.
    pub region: String,
    /// Its versioning.
    pub versioning: Versioning,
}

/// Lock reads in flight at once (they share S3's client-side limit).
const CONCURRENCY: usize = 8;

/// One version of one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct VersionRef {
    /// The bucket.
    pub bucket: String,
    /// The key.
    pub key: String,
    /// The version id.
    pub version_id: String,
}

/// The protected versions among `wanted`, each with the reason.
pub(crate) async fn protections(
    connections: &Connections,
    buckets: &HashMap<String, Bucket>,
    wanted: &[&VersionRef],
) -> Result<HashMap<VersionRef, String>> {
    let mut by_bucket: HashMap<&str, Vec<&VersionRef>> = HashMap::new();
    for v in wanted {
        by_bucket.entry(v.bucket.as_str()).or_default().push(v);
    }
    let mut out = HashMap::new();
    for (name, versions) in by_bucket {
        let Some(bucket) = buckets.get(name) else { continue };
        let conn = connections.find_aws(Some(&bucket.account), None).await?;
        if !lock_enabled(connections, &conn, bucket, name).await? {
            continue;
        }
        let conn = &conn;
        let checks = versions.into_iter().cloned().map(|v| async move {
            let reason = protection(connections, conn, bucket, &v).await?;
            Ok::<_, skyglue_core::Error>(reason.map(|r| (v, r)))
        });
        let found: Vec<Option<(VersionRef, String)>> =
            futures::stream::iter(checks).buffer_unordered(CONCURRENCY).try_collect().await?;
        out.extend(found.into_iter().flatten());
    }
    Ok(out)
}

/// Whether Object Lock is enabled on the bucket.
async fn lock_enabled(
    connections: &Connections,
    conn: &AwsConnection,
    bucket: &Bucket,
    name: &str,
) -> Result<bool> {
    let s3 = crate::clients::s3(conn, &bucket.region);
    let request = s3.get_object_lock_configuration().bucket(name);
    let out = aws_call(
        connections,
        &conn.label(),
        "s3:GetObjectLockConfiguration",
        &["ObjectLockConfigurationNotFoundError"],
        None,
        || request.clone().send(),
    )
    .await?;
    Ok(out
        .as_ref()
        .and_then(|o| o.object_lock_configuration())
        .and_then(|c| c.object_lock_enabled())
        .is_some_and(|e| *e == ObjectLockEnabled::Enabled))
}

/// Why the version may not be deleted, if something protects it.
async fn protection(
    connections: &Connections,
    conn: &AwsConnection,
    bucket: &Bucket,
    v: &VersionRef,
) -> Result<Option<String>> {
    let s3 = crate::clients::s3(conn, &bucket.region);
    let label = conn.label();
    let not_set = &["NoSuchObjectLockConfiguration"];
    let hold = s3.get_object_legal_hold().bucket(&v.bucket).key(&v.key).version_id(&v.version_id);
    let hold =
        aws_call(connections, &label, "s3:GetObjectLegalHold", not_set, None, || hold.clone().send()).await?;
    if hold
        .as_ref()
        .and_then(|o| o.legal_hold())
        .and_then(|h| h.status())
        .is_some_and(|s| *s == ObjectLockLegalHoldStatus::On)
    {
        return Ok(Some(format!(
            "protected by Object Lock: version {} has a legal hold (no bypass is sent)",
            v.version_id
        )));
    }
    let retention = s3.get_object_retention().bucket(&v.bucket).key(&v.key).version_id(&v.version_id);
    let retention =
        aws_call(connections, &label, "s3:GetObjectRetention", not_set, None, || retention.clone().send())
            .await?;
    let Some(retention) = retention.as_ref().and_then(|o| o.retention()) else { return Ok(None) };
    let now = chrono::Utc::now().timestamp();
    let mode = retention.mode().map_or("unknown mode", |m| m.as_str());
    match retention.retain_until_date() {
        Some(until) if until.secs() <= now => Ok(None),
        Some(until) => {
            let until = chrono::DateTime::from_timestamp(until.secs(), 0)
                .map_or_else(|| until.secs().to_string(), |t| t.to_rfc3339());
            Ok(Some(format!(
                "protected by Object Lock: version {} is under {mode} retention until {until} \
                 (no bypass is sent)",
                v.version_id
            )))
        }
        // A retention without a date: keep the version (when unsure, keep).
        None => Ok(Some(format!(
            "protected by Object Lock: version {} has a {mode} retention with no date (no bypass is sent)",
            v.version_id
        ))),
    }
}
