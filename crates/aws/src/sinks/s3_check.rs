//! The fresh check of `delete_s3_objects`, run on a cache-free session
//! immediately before acting (and in a dry run, on what the run's query has
//! just read: `Engine::check_session`):
//!
//! 1. **Find.** Each row's bucket is looked up in every account (bucket names
//!    are global; the owning account is the one whose ListBuckets has it), and
//!    the object is read again: a few keys by HeadObject each, many by
//!    listing their common prefix. A row naming an account that does not own
//!    the bucket, or an object that is gone, is skipped.
//! 2. **Unchanged.** A row deleting the current object must carry the `etag`
//!    it was selected with; an object whose etag differs now was overwritten
//!    since the plan and is skipped ("modified since planned"). A row without
//!    an etag is skipped too, since a change could not be seen. A row naming
//!    a `version_id` deletes exactly that version, which S3 never changes.
//! 3. **What it frees.** Deleting the current object of a versioned bucket
//!    only adds a delete marker: it frees nothing, and is counted so.
//!
//! Any failure to read is an error: the run fails and nothing is deleted.

use std::collections::{BTreeSet, HashMap};

use datafusion::prelude::SessionContext;
use skyglue_core::columns::{int64s, strings};
use skyglue_core::sink::{Checked, Outcome, Target};
use skyglue_core::{Engine, Result};

use super::fresh::{collect, df_err, sql_list};

/// Keys of one bucket read one HeadObject each up to this many; more are
/// read by listing their common prefix (1,000 per call).
const HEAD_AT_MOST: usize = 100;

/// What the fresh read found for one (bucket, key, version) .
#[derive(Debug, Clone)]
struct Found {
    account: String,
    region: String,
    etag: Option<String>,
    size: Option<i64>,
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
    let buckets: Vec<String> = by_bucket.keys().cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let versioning = versioning(&ctx, &buckets).await?;
    let mut current: HashMap<(String, String), Found> = HashMap::new();
    let mut versions: HashMap<(String, String, String), Found> = HashMap::new();
    for (bucket, rows) in &by_bucket {
        let keys = |versioned: bool| -> Vec<String> {
            let set: BTreeSet<String> = rows
                .iter()
                .filter(|t| t.get("version_id").is_some() == versioned)
                .filter_map(|t| t.get("key").map(str::to_string))
                .collect();
            set.into_iter().collect()
        };
        current.extend(read_current(&ctx, bucket, &keys(false)).await?);
        versions.extend(read_versions(&ctx, bucket, &keys(true)).await?);
    }

    let mut checked = Checked::default();
    for target in targets {
        let (Some(bucket), Some(key)) = (target.get("bucket_name"), target.get("key")) else {
            checked.skipped.push(Outcome::skipped(target, "the row names no bucket_name and key"));
            continue;
        };
        let (bucket, key) = (bucket.to_string(), key.to_string());
        let Some(owner) = versioning.get(&bucket) else {
            checked
                .skipped
                .push(Outcome::skipped(target, format!("bucket {bucket} is in no configured account")));
            continue;
        };
        let found = match target.get("version_id") {
            Some(v) => versions.get(&(bucket.clone(), key.clone(), v.to_string())).cloned(),
            None => current.get(&(bucket.clone(), key.clone())).cloned(),
        };
        let Some(found) = found else {
            checked.skipped.push(Outcome::skipped(target, "gone since planned"));
            continue;
        };
        if let Some(account) = target.get("account_id").filter(|a| *a != owner.0) {
            let reason = format!("bucket {bucket} belongs to account {}, not {account}", owner.0);
            checked.skipped.push(Outcome::skipped(target, reason));
            continue;
        }
        let mut bytes = found.size;
        if target.get("version_id").is_none() {
            match (target.get("etag"), found.etag.as_deref()) {
                (None, _) => {
                    let reason =
                        "the row has no etag, so a change since planned could not be seen (select etag)";
                    checked.skipped.push(Outcome::skipped(target, reason));
                    continue;
                }
                (Some(planned), Some(now)) if planned != now => {
                    let reason = format!("modified since planned (etag {planned}, now {now})");
                    checked.skipped.push(Outcome::skipped(target, reason));
                    continue;
                }
                _ => {}
            }
            if owner.1.is_some() {
                // A versioned bucket keeps the data as a noncurrent version.
                bytes = Some(0);
            }
        }
        let mut located = target;
        located.set("account_id", found.account.clone());
        located.set("region", found.region.clone());
        if let Some(size) = bytes {
            checked.bytes.insert(located.clone(), size);
        }
        checked.proceed.push(located);
    }
    Ok(checked)
}

/// Each bucket's owning account and versioning status (`None`: never enabled).
async fn versioning(
    ctx: &SessionContext,
    buckets: &[String],
) -> Result<HashMap<String, (String, Option<String>)>> {
    if buckets.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT account_id, name, versioning FROM aws_s3_bucket WHERE name IN ({})",
        sql_list(buckets)
    );
    let mut out = HashMap::new();
    for batch in collect(ctx, &sql).await? {
        let (account, name, status) =
            (strings(&batch, "account_id"), strings(&batch, "name"), strings(&batch, "versioning"));
        for i in 0..batch.num_rows() {
            if let (Some(account), Some(name)) = (account[i].clone(), name[i].clone()) {
                out.insert(name, (account, status[i].clone()));
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
) -> Result<HashMap<(String, String), Found>> {
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
                    Found { account: a, region: r, etag: etag[i].clone(), size: size[i] },
                );
            }
        }
    }
    Ok(out)
}

/// The named versions of `bucket`'s `keys`, from their version listing.
async fn read_versions(
    ctx: &SessionContext,
    bucket: &str,
    keys: &[String],
) -> Result<HashMap<(String, String, String), Found>> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let filter = if keys.len() <= HEAD_AT_MOST {
        format!("key IN ({})", sql_list(keys))
    } else {
        format!("prefix = {}", sql_list(&[common_prefix(keys)]))
    };
    let sql = format!(
        "SELECT account_id, region, key, version_id, etag, size FROM aws_s3_object_version \
         WHERE bucket_name = {} AND {filter}",
        sql_list(&[bucket.to_string()])
    );
    let mut out = HashMap::new();
    for batch in collect(ctx, &sql).await? {
        let (account, region, key, version, etag) = (
            strings(&batch, "account_id"),
            strings(&batch, "region"),
            strings(&batch, "key"),
            strings(&batch, "version_id"),
            strings(&batch, "etag"),
        );
        let size = int64s(&batch, "size");
        for i in 0..batch.num_rows() {
            let (Some(a), Some(r), Some(k), Some(v)) =
                (account[i].clone(), region[i].clone(), key[i].clone(), version[i].clone())
            else {
                continue;
            };
            let found = Found { account: a, region: r, etag: etag[i].clone(), size: size[i] };
            out.insert((bucket.to_string(), k, v), found);
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
