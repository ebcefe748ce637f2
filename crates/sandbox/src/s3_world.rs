//! The S3 part of the world: buckets (on [`World::s3_buckets`](crate::World), each
//! naming its owner account and region) and their objects' versions.
//!
//! Re-exported from [`world`](crate::world).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ids::hex_id;

/// The version id of a write to an unversioned (or versioning-suspended) bucket.
pub const NULL_VERSION: &str = "null";

/// An S3 bucket. Bucket names are global: the first bucket of a name wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Bucket {
    /// Bucket name.
    pub name: String,
    /// The owner's account id.
    pub account: String,
    /// The bucket's region, e.g. `us-east-1`.
    pub region: String,
    /// When the bucket was created.
    pub created_at: DateTime<Utc>,
    /// `None` (never versioned), `Enabled` or `Suspended`.
    #[serde(default)]
    pub versioning: Option<String>,
    /// Lifecycle rules, each the JSON form of one `<Rule>` (element name -> value; an
    /// array repeats the element), e.g. `{"ID": "x", "Filter": {"Prefix": "tmp/"},
    /// "Status": "Enabled", "Expiration": {"Days": 30}}`. Empty: no configuration.
    #[serde(default)]
    pub lifecycle_rules: Vec<Value>,
    /// Objects by key (ordered as S3 lists them: UTF-8 binary order).
    #[serde(default)]
    pub objects: BTreeMap<String, S3Object>,
    /// Whether Object Lock is enabled (versioning is then Enabled for good).
    #[serde(default)]
    pub object_lock: bool,
}

/// One key of a bucket: its versions, oldest first; the last is the current one
/// (listed unless it is a delete marker). A key without versions does not exist.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct S3Object {
    /// Versions, oldest first.
    #[serde(default)]
    pub versions: Vec<S3ObjectVersion>,
}

/// One version of an object, or a delete marker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3ObjectVersion {
    /// The version id; `null` for writes while versioning was off or suspended.
    pub version_id: String,
    /// Whether this version is a delete marker (no ETag, size or storage class).
    #[serde(default)]
    pub is_delete_marker: bool,
    /// The quoted ETag, e.g. `"9b2cf535f27731c974343645a3985328"`.
    #[serde(default)]
    pub etag: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: i64,
    /// When this version was written.
    pub last_modified: DateTime<Utc>,
    /// `STANDARD`, `STANDARD_IA`, `GLACIER`, ...
    #[serde(default = "standard")]
    pub storage_class: String,
    /// Who wrote it; `None` is the bucket owner.
    #[serde(default)]
    pub owner: Option<S3Owner>,
    /// Its Object Lock retention, if any.
    #[serde(default)]
    pub retention: Option<S3Retention>,
    /// Whether an Object Lock legal hold is ON.
    #[serde(default)]
    pub legal_hold: bool,
}

/// An Object Lock retention: a version may not be deleted before `until`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Retention {
    /// `GOVERNANCE` or `COMPLIANCE`.
    pub mode: String,
    /// When the retention ends.
    pub until: DateTime<Utc>,
}

fn standard() -> String {
    "STANDARD".to_owned()
}

/// An S3 owner: canonical user id and display name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct S3Owner {
    /// 64-hex canonical user id.
    pub id: String,
    /// Display name.
    pub display_name: String,
}

impl S3ObjectVersion {
    /// A version `version_id` of `size` bytes written at `last_modified`, STANDARD,
    /// owned by the bucket owner, with an ETag derived from `seed`.
    pub fn object(version_id: &str, size: i64, last_modified: DateTime<Utc>, seed: &str) -> Self {
        S3ObjectVersion {
            version_id: version_id.to_owned(),
            is_delete_marker: false,
            etag: format!("\"{}\"", hex_id(&format!("etag:{seed}#{version_id}"), 32)),
            size,
            last_modified,
            storage_class: standard(),
            owner: None,
            retention: None,
            legal_hold: false,
        }
    }

    /// A delete marker `version_id` written at `last_modified`.
    pub fn delete_marker(version_id: &str, last_modified: DateTime<Utc>) -> Self {
        S3ObjectVersion {
            version_id: version_id.to_owned(),
            is_delete_marker: true,
            etag: String::new(),
            size: 0,
            last_modified,
            storage_class: standard(),
            owner: None,
            retention: None,
            legal_hold: false,
        }
    }

    /// The same version in another storage class.
    pub fn with_storage_class(mut self, storage_class: &str) -> Self {
        self.storage_class = storage_class.to_owned();
        self
    }

    /// The same version under an Object Lock retention (`GOVERNANCE` or
    /// `COMPLIANCE`) until `until`.
    pub fn with_retention(mut self, mode: &str, until: DateTime<Utc>) -> Self {
        self.retention = Some(S3Retention { mode: mode.to_owned(), until });
        self
    }

    /// The same version with an Object Lock legal hold ON.
    pub fn with_legal_hold(mut self) -> Self {
        self.legal_hold = true;
        self
    }

    /// Why Object Lock forbids deleting this version now, if it does.
    pub fn locked(&self, now: DateTime<Utc>) -> bool {
        self.legal_hold || self.retention.as_ref().is_some_and(|r| r.until > now)
    }
}

impl S3Object {
    /// The current version, unless the key is deleted (no versions, or a delete marker).
    pub fn current(&self) -> Option<&S3ObjectVersion> {
        self.versions.last().filter(|v| !v.is_delete_marker)
    }
}

impl S3Bucket {
    /// An empty, never-versioned bucket `name` of `account` in `region`, created now.
    pub fn new(account: &str, region: &str, name: &str) -> Self {
        S3Bucket {
            name: name.to_owned(),
            account: account.to_owned(),
            region: region.to_owned(),
            created_at: Utc::now(),
            versioning: None,
            lifecycle_rules: Vec::new(),
            objects: BTreeMap::new(),
            object_lock: false,
        }
    }

    /// The same bucket with versioning `Enabled` (call before adding objects).
    pub fn versioned(mut self) -> Self {
        self.versioning = Some("Enabled".to_owned());
        self
    }

    /// The same bucket with Object Lock enabled (and so versioning `Enabled`).
    pub fn with_object_lock(mut self) -> Self {
        self.object_lock = true;
        self.versioned()
    }

    /// The same bucket with versioning `Suspended`.
    pub fn suspended(mut self) -> Self {
        self.versioning = Some("Suspended".to_owned());
        self
    }

    /// The same bucket created at `at`.
    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.created_at = at;
        self
    }

    /// Whether versioning is `Enabled` (new writes get their own version id).
    pub fn versioning_enabled(&self) -> bool {
        self.versioning.as_deref() == Some("Enabled")
    }

    /// The same bucket after a PUT of `key` (`size` bytes at `last_modified`): a new
    /// version in a versioned bucket, else the `null` version replaced.
    pub fn with_object(mut self, key: &str, size: i64, last_modified: DateTime<Utc>) -> Self {
        let id = self.next_version_id(key);
        let version = S3ObjectVersion::object(&id, size, last_modified, &format!("{}/{key}", self.name));
        self.put_version(key, version);
        self
    }

    /// The same bucket with one more version `version_id` of `key` (whatever the
    /// bucket's versioning; `null` replaces an existing `null` version).
    pub fn with_version(
        mut self,
        key: &str,
        version_id: &str,
        size: i64,
        last_modified: DateTime<Utc>,
    ) -> Self {
        let version =
            S3ObjectVersion::object(version_id, size, last_modified, &format!("{}/{key}", self.name));
        self.put_version(key, version);
        self
    }

    /// The same bucket after a DELETE of `key` without a version id: a delete marker
    /// (with a new version id in a versioned bucket, else `null`).
    pub fn with_delete_marker(mut self, key: &str, last_modified: DateTime<Utc>) -> Self {
        let id = self.next_version_id(key);
        self.put_version(key, S3ObjectVersion::delete_marker(&id, last_modified));
        self
    }

    /// The same bucket with `version` added to `key` as its newest version.
    pub fn with_object_version(mut self, key: &str, version: S3ObjectVersion) -> Self {
        self.put_version(key, version);
        self
    }

    /// The same bucket with one more lifecycle rule (the JSON form of a `<Rule>`).
    pub fn with_lifecycle_rule(mut self, rule: Value) -> Self {
        self.lifecycle_rules.push(rule);
        self
    }

    /// The same bucket with an enabled rule `id` expiring objects under `prefix`
    /// `days` after creation.
    pub fn with_expiration_rule(self, id: &str, prefix: &str, days: u32) -> Self {
        self.with_lifecycle_rule(json!({
            "ID": id,
            "Filter": { "Prefix": prefix },
            "Status": "Enabled",
            "Expiration": { "Days": days },
        }))
    }

    /// A PUT of `key` while the world runs (an upload between a check and a
    /// delete, say): a new version in a versioned bucket, else the `null`
    /// version replaced; new content, so a new ETag. Returns the ETag.
    pub fn put_object(&mut self, key: &str, size: i64) -> String {
        let now = Utc::now();
        let id =
            if self.versioning_enabled() { self.runtime_version_id(key) } else { NULL_VERSION.to_owned() };
        let seed = format!("{}/{key}@{}:{}", self.name, now.timestamp_nanos_opt().unwrap_or_default(), id);
        let version = S3ObjectVersion::object(&id, size, now, &seed);
        let etag = version.etag.clone();
        self.put_version(key, version);
        etag
    }

    /// Number of keys with a current (non-delete-marker) version.
    pub fn live_object_count(&self) -> usize {
        self.objects.values().filter(|o| o.current().is_some()).count()
    }

    /// Number of versions and delete markers over all keys.
    pub fn version_count(&self) -> usize {
        self.objects.values().map(|o| o.versions.len()).sum()
    }

    /// Adds `version` as the newest of `key`; a `null` version replaces the old one.
    pub(crate) fn put_version(&mut self, key: &str, version: S3ObjectVersion) {
        let object = self.objects.entry(key.to_owned()).or_default();
        if version.version_id == NULL_VERSION {
            object.versions.retain(|v| v.version_id != NULL_VERSION);
        }
        object.versions.push(version);
    }

    /// The id of the next write to `key`: fresh when versioning is enabled, else `null`.
    fn next_version_id(&self, key: &str) -> String {
        if !self.versioning_enabled() {
            return NULL_VERSION.to_owned();
        }
        let n = self.objects.get(key).map_or(0, |o| o.versions.len());
        version_id(&format!("{}/{key}#{n}", self.name))
    }

    /// A fresh version id for a write the sandbox makes while serving (a delete
    /// marker), unique within the process.
    pub(crate) fn runtime_version_id(&self, key: &str) -> String {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        version_id(&format!("{}/{key}@{nanos}:{n}", self.name))
    }
}

/// A 32-character S3-looking version id (`[A-Za-z0-9._]`) derived from `seed`.
pub(crate) fn version_id(seed: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._";
    let hex = hex_id(&format!("s3-version:{seed}"), 64);
    hex.as_bytes()
        .chunks(2)
        .map(|pair| {
            let byte = u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("0"), 16).unwrap_or(0);
            char::from(ALPHABET[usize::from(byte % 64)])
        })
        .collect()
}

/// The canonical user id S3 shows for `account`'s root user (64 hex digits).
pub fn canonical_user_id(account: &str) -> String {
    hex_id(&format!("s3-canonical-user:{account}"), 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_follow_the_buckets_versioning() {
        let t = Utc::now();
        let plain = S3Bucket::new("1", "us-east-1", "b").with_object("k", 1, t).with_object("k", 2, t);
        assert_eq!(plain.objects["k"].versions.len(), 1, "a null version is replaced");
        assert_eq!(plain.objects["k"].versions[0].version_id, NULL_VERSION);
        assert_eq!(plain.objects["k"].versions[0].size, 2);
        let versioned = S3Bucket::new("1", "us-east-1", "b")
            .versioned()
            .with_object("k", 1, t)
            .with_object("k", 2, t)
            .with_delete_marker("k", t);
        let versions = &versioned.objects["k"].versions;
        assert_eq!(versions.len(), 3);
        assert_ne!(versions[0].version_id, versions[1].version_id);
        assert_eq!(versions[0].version_id.len(), 32);
        assert!(versions[2].is_delete_marker);
        assert!(versioned.objects["k"].current().is_none());
        assert_eq!((versioned.live_object_count(), versioned.version_count()), (0, 3));
        assert!(versions[0].etag.starts_with('"') && versions[0].etag.len() == 34);
    }
}
