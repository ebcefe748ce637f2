//! The fresh check of `delete_s3_objects`, run on a cache-free session
//! immediately before acting (and in a dry run, on what the run's query has
//! just read: `Engine::check_session`):
//!
//! 1. **Find.** Each row's bucket is looked up in every account (bucket names
//!    are global; the owning account is the one whose ListBuckets has it), and
//!    the object is read again: a few keys by HeadObject each, many by
//!    listing their common prefix. A row naming an account that does not own
//!    the bucket, or an object that is gone, is skipped.
//! 2. **Unchanged.** A row deleting the live object (a key delete) must carry
//!    the `etag` it was selected with; an object whose etag differs now was
//!    overwritten since the plan and is skipped ("modified since planned"). A
//!    row without an etag is skipped too, since a change could not be seen.
//!    The etag the check saw goes with the delete as its condition, so an
//!    overwrite after the check is refused by S3 itself.
//! 3. **Never the live version by id.** A row naming a `version_id` deletes
//!    exactly that version, which S3 never changes; but when that version is
//!    the object's current one, deleting it would silently make the previous
//!    version live (and a current delete marker's removal would bring the
//!    object back). Such a row is skipped, saying so: deleting the live object
//!    is a key delete.
//! 4. **Object Lock.** In a bucket with Object Lock enabled, each version row
//!    has its retention and legal hold read (`s3_lock`); a protected version
//!    is skipped with the protection. No bypass is ever sent.
//! 5. **What it frees**, as S3 does it: a key delete in a bucket never
//!    versioned removes the object (its bytes); with versioning Enabled it
//!    only adds a delete marker (0 bytes); with versioning Suspended it
//!    removes the key's `null` version for good (its bytes) and writes a
//!    `null` delete marker, while a version written when versioning was on
//!    stays. A version delete frees that version's bytes.
//!
//! Any failure to read is an error: the run fails and nothing is deleted.

use std::collections::{BTreeSet, HashMap};

use datafusion::prelude::SessionContext;
use skyglue_core::columns::{int64s, strings};
use skyglue_core::sink::{Checked, Outcome, Target};
use skyglue_core::{Engine, Result};

use super::fresh::{collect, df_err, sql_list};
use super::s3_lock::{self, Bucket, VersionRef, Versioning};

/// The version id of what is written while versioning is off or suspended.
pub(crate) const NULL_VERSION: &str = "null";

/// Keys of one bucket read one HeadObject each up to this many; more are
/// read by listing their common prefix (1,000 per call).
const HEAD_AT_MOST: usize = 100;

/// The live object of a key, as the fresh read found it.
#[derive(Debug, Clone)]
struct Current {
    account: String,
    region: String,
    etag: Option<String>,
    size: Option<i64>,
}

/// One version (or delete marker) of a key, from the version listing.
#[derive(Debug, Clone)]
struct Version {
    account: String,
    region: String,
    version_id: String,
    size: Option<i64>,
    is_latest: bool,
    is_delete_marker: bool,
}

/// What the first pass decided for a row that may go: the row resolved,
/// the bytes it frees, and the version Object Lock may protect.
struct Candidate {
    target: Target,
    bytes: Option<i64>,
    lock: Option<VersionRef>,
}

/// Checks `delete_s3_objects` targets; see the module doc.
pub(crate) async fn check(engine: &Engine, targets: Vec<Target>) -> Result<Checked> {
    let ctx = engine.check_session().await.map_err(df_err)?;
    let mut by_bucket: HashMap<String, Vec<&Target>> = HashMap::new();
    for t in &targets {
        if let Some(bucket) = t.get("bucket_name") {
            by_bucket.entry(bucket.to_string()).or_default().push(t);
        }
    }
    let names: Vec<String> = by_bucket.keys().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let buckets = read_buckets(&ctx, &names).await?;
    let mut current: HashMap<(String, String), Current> = HashMap::new();
    let mut versions: HashMap<(String, String), Vec<Version>> = HashMap::new();
    for (bucket, rows) in &by_bucket {
        let Some(info) = buckets.get(bucket) else { continue };
        let keys = |versioned: bool| -> BTreeSet<String> {
            rows.iter()
                .filter(|t| t.get("version_id").is_some() == versioned)
                .filter_map(|t| t.get("key").map(str::to_string))
                .collect()
        };
        let key_deletes = keys(false);
        current.extend(read_current(&ctx, bucket, &key_deletes.iter().cloned().collect::<Vec<_>>()).await?);
        // Version rows need their key's versions; a Suspended bucket's key
        // deletes need them too, to find the `null` version they remove.
        let mut listed = keys(true);
        if info.versioning == Versioning::Suspended {
            listed.extend(key_deletes);
        }
        versions.extend(read_versions(&ctx, bucket, &listed.into_iter().collect::<Vec<_>>()).await?);
    }

    let mut checked = Checked::default();
    let mut candidates = Vec::new();
    for target in targets {
        match decide(target, &buckets, &current, &versions) {
            Ok(candidate) => candidates.push(candidate),
            Err(skipped) => checked.skipped.push(skipped),
        }
    }

    let wanted: Vec<&VersionRef> = candidates.iter().filter_map(|c| c.lock.as_ref()).collect();
    let protected = s3_lock::protections(engine.connections(), &buckets, &wanted).await?;
    for candidate in candidates {
        if let Some(reason) = candidate.lock.as_ref().and_then(|v| protected.get(v)) {
            checked.skipped.push(Outcome::skipped(candidate.target, reason.clone()));
            continue;
        }
        if let Some(size) = candidate.bytes {
            checked.bytes.insert(candidate.target.clone(), size);
        }
        checked.proceed.push(candidate.target);
    }
    Ok(checked)
}

/// The first pass over one row: skipped with a reason, or a candidate.
fn decide(
    target: Target,
    buckets: &HashMap<String, Bucket>,
    current: &HashMap<(String, String), Current>,
    versions: &HashMap<(String, String), Vec<Version>>,
) -> std::result::Result<Candidate, Outcome> {
    let (Some(bucket), Some(key)) = (target.get("bucket_name"), target.get("key")) else {
        return Err(Outcome::skipped(target, "the row names no bucket_name and key"));
    };
    let (bucket, key) = (bucket.to_string(), key.to_string());
    let Some(info) = buckets.get(&bucket) else {
        return Err(Outcome::skipped(target, format!("bucket {bucket} is in no configured account")));
    };
    if let Some(account) = target.get("account_id").filter(|a| *a != info.account) {
        let reason = format!("bucket {bucket} belongs to account {}, not {account}", info.account);
        return Err(Outcome::skipped(target, reason));
    }
    let listed = versions.get(&(bucket.clone(), key.clone())).map(Vec::as_slice).unwrap_or_default();
    if let Some(version_id) = target.get("version_id").map(str::to_string) {
        let Some(found) = listed.iter().find(|v| v.version_id == version_id) else {
            return Err(Outcome::skipped(target, "gone since planned"));
        };
        if found.is_latest && !found.is_delete_marker {
            let reason = format!(
                "version {version_id} is the current version of {key}: deleting it by id would make the \
                 previous version live (to delete the live object, select the row without version_id: a key delete)"
            );
            return Err(Outcome::skipped(target, reason));
        }
        if found.is_latest && listed.len() > 1 {
            let reason = format!(
                "version {version_id} is the delete marker that hides {key}: deleting it would make the \
                 previous version live again"
            );
            return Err(Outcome::skipped(target, reason));
        }
        let lock = (info.versioning != Versioning::Off && !found.is_delete_marker).then(|| VersionRef {
            bucket: bucket.clone(),
            key: key.clone(),
            version_id: version_id.clone(),
        });
        let mut located = target;
        located.set("account_id", &found.account);
        located.set("region", &found.region);
        return Ok(Candidate { target: located, bytes: Some(found.size.unwrap_or(0)), lock });
    }

    let Some(found) = current.get(&(bucket.clone(), key.clone())) else {
        return Err(Outcome::skipped(target, "gone since planned"));
    };
    match (target.get("etag"), found.etag.as_deref()) {
        (None, _) => {
            let reason = "the row has no etag, so a change since planned could not be seen (select etag)";
            return Err(Outcome::skipped(target, reason));
        }
        (Some(planned), Some(now)) if planned != now => {
            let reason = format!("modified since planned (etag {planned}, now {now})");
            return Err(Outcome::skipped(target, reason));
        }
        (Some(_), None) => {
            let reason = "S3 gave the object no etag, so a change since planned could not be seen";
            return Err(Outcome::skipped(target, reason));
        }
        _ => {}
    }
    let bytes = match info.versioning {
        Versioning::Off => found.size,
        // Only a delete marker is added: the data stays as a noncurrent version.
        Versioning::Enabled => Some(0),
        // The `null` version goes for good, current or not; others stay.
        Versioning::Suspended => Some(
            listed
                .iter()
                .find(|v| v.version_id == NULL_VERSION && !v.is_delete_marker)
                .and_then(|v| v.size)
                .unwrap_or(0),
        ),
    };
    let mut located = target;
    located.set("account_id", &found.account);
    located.set("region", &found.region);
    Ok(Candidate { target: located, bytes, lock: None })
}

/// Each bucket's owning account, region and versioning.
async fn read_buckets(ctx: &SessionContext, buckets: &[String]) -> Result<HashMap<String, Bucket>> {
    if buckets.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT account_id, name, region, versioning FROM aws_s3_bucket WHERE name IN ({})",
        sql_list(buckets)
    );
    let mut out = HashMap::new();
    for batch in collect(ctx, &sql).await? {
        let (account, name, region, status) = (
            strings(&batch, "account_id"),
            strings(&batch, "name"),
            strings(&batch, "region"),
            strings(&batch, "versioning"),
        );
        for i in 0..batch.num_rows() {
            if let (Some(account), Some(name), Some(region)) =
                (account[i].clone(), name[i].clone(), region[i].clone())
            {
                let versioning = match status[i].as_deref() {
                    None => Versioning::Off,
                    Some("Suspended") => Versioning::Suspended,
                    // Enabled, or a status this code does not know: assume the
                    // data stays (0 bytes) rather than promise it is freed.
                    Some(_) => Versioning::Enabled,
                };
                out.insert(name, Bucket { account, region, versioning });
            }
        }
    }
    Ok(out)
}

/// The current objects of `bucket` among `keys`: each by HeadObject, or, for
/// many keys, by listing their longest common prefix.
async fn read_current(
    ctx: &SessionContext,
    bucket: &str,
    keys: &[String],
) -> Result<HashMap<(String, String), Current>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let bucket_sql = sql_list(&[bucket.to_string()]);
    let sql = if keys.len() <= HEAD_AT_MOST {
        format!(
            "SELECT account_id, region, key, etag, size FROM aws_s3_object \
             WHERE bucket_name = {bucket_sql} AND key IN ({})",
            sql_list(keys)
        )
    } else {
        format!(
            "SELECT account_id, region, key, etag, size FROM aws_s3_object \
             WHERE bucket_name = {bucket_sql} AND prefix = {}",
            sql_list(&[common_prefix(keys)])
        )
    };
    let wanted: BTreeSet<&String> = keys.iter().collect();
    let mut out = HashMap::new();
    for batch in collect(ctx, &sql).await? {
        let (account, region, key, etag) = (
            strings(&batch, "account_id"),
            strings(&batch, "region"),
            strings(&batch, "key"),
            strings(&batch, "etag"),
        );
        let size = int64s(&batch, "size");
        for i in 0..batch.num_rows() {
            let (Some(a), Some(r), Some(k)) = (account[i].clone(), region[i].clone(), key[i].clone()) else {
                continue;
            };
            if wanted.contains(&k) {
                out.insert(
                    (bucket.to_string(), k),
                    Current { account: a, region: r, etag: etag[i].clone(), size: size[i] },
                );
            }
        }
    }
    Ok(out)
}

/// Every version of `bucket`'s `keys`, by key, from their version listing.
async fn read_versions(
    ctx: &SessionContext,
    bucket: &str,
    keys: &[String],
) -> Result<HashMap<(String, String), Vec<Version>>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let filter = if keys.len() <= HEAD_AT_MOST {
        format!("key IN ({})", sql_list(keys))
    } else {
        format!("prefix = {}", sql_list(&[common_prefix(keys)]))
    };
    let sql = format!(
        "SELECT account_id, region, key, version_id, size, is_latest, is_delete_marker \
         FROM aws_s3_object_version WHERE bucket_name = {} AND {filter}",
        sql_list(&[bucket.to_string()])
    );
    let wanted: BTreeSet<&String> = keys.iter().collect();
    let mut out: HashMap<(String, String), Vec<Version>> = HashMap::new();
    for batch in collect(ctx, &sql).await? {
        let (account, region, key, version, latest, marker) = (
            strings(&batch, "account_id"),
            strings(&batch, "region"),
            strings(&batch, "key"),
            strings(&batch, "version_id"),
            strings(&batch, "is_latest"),
            strings(&batch, "is_delete_marker"),
        );
        let size = int64s(&batch, "size");
        for i in 0..batch.num_rows() {
            let (Some(a), Some(r), Some(k), Some(v)) =
                (account[i].clone(), region[i].clone(), key[i].clone(), version[i].clone())
            else {
                continue;
            };
            if !wanted.contains(&k) {
                continue;
            }
            let found = Version {
                account: a,
                region: r,
                version_id: v,
                size: size[i],
                // Unknown counts as latest: such a version is never deleted by id.
                is_latest: latest[i].as_deref() != Some("false"),
                is_delete_marker: marker[i].as_deref() == Some("true"),
            };
            out.entry((bucket.to_string(), k)).or_default().push(found);
        }
    }
    Ok(out)
}

/// The longest prefix every key shares (on a character boundary).
fn common_prefix(keys: &[String]) -> String {
    let Some(first) = keys.first() else { return String::new() };
    let mut end = first.len();
    for key in &keys[1..] {
        end = first
            .char_indices()
            .zip(key.chars())
            .take_while(|((_, a), b)| a == b)
            .map(|((i, a), _)| i + a.len_utf8())
            .last()
            .unwrap_or(0)
            .min(end);
    }
    first[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_common_prefix_of_keys() {
        let keys = |k: &[&str]| k.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(common_prefix(&keys(&["builds/main/1/a", "builds/main/2/a", "builds/mx"])), "builds/m");
        assert_eq!(common_prefix(&keys(&["a", "b"])), "");
        assert_eq!(common_prefix(&keys(&["same"])), "same");
    }
}
