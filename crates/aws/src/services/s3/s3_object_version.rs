//! `aws_s3_object_version`: every version and delete marker of a bucket's
//! objects, 1,000 per ListObjectVersions page, in the bucket's own region.
//!
//! ```sql
//! SELECT key, version_id, is_latest, is_delete_marker, size FROM aws_s3_object_version
//! WHERE bucket_name = 'acme-ci-artifacts' AND prefix = 'builds/';
//! ```
//!
//! `bucket_name` is required; `prefix = ...`, `key LIKE 'p%'` and `key = ...`
//! become the listing's prefix (the API has no exact-key filter: the key
//! itself is the prefix, and the framework drops longer keys). Pages follow
//! both markers, key and version id.

use std::sync::LazyLock;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::fan_out;
use skyglue_core::spec::{text, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use super::s3_common::{BucketInfo, named_buckets};
use crate::{clients, services, time};

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["s3:ListBuckets", "s3:GetBucketLocation", "s3:ListObjectVersions"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_s3_object_version",
    description: "Every version and delete marker of a bucket's objects (bucket_name is required).",
    scope: Scope::AwsAccount,
    columns: Row::columns(),
    not_found_codes: &[("s3:ListObjectVersions", "NoSuchBucket"), ("s3:GetBucketLocation", "NoSuchBucket")],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

skyglue_core::columns! {
    struct Row<'a> {
        bucket_name: &'a str => (text(), "The bucket.").required_key(),
        prefix: Option<&'a str> => (text(), "The prefix the listing asked for.").optional_key(),
        key: Option<&'a str> => (text(), "The object's key.").optional_key().like_pushed_as("prefix"),
        region: &'a str => (text(), "The bucket's region."),
        version_id: Option<&'a str> => (text(), "The version's id (`null` for writes before versioning)."),
        is_latest: Option<bool> => (DataType::Boolean, "Whether this is the key's current version."),
        is_delete_marker: bool => (DataType::Boolean, "Whether this is a delete marker."),
        size: Option<i64> => (DataType::Int64, "Size in bytes (NULL for a delete marker)."),
        last_modified: Option<i64> => (timestamp(), "When the version was written."),
        etag: Option<&'a str> => (text(), "The version's entity tag."),
        storage_class: Option<&'a str> => (text(), "STANDARD, GLACIER, ..."),
    }
}

/// The `aws_s3_object_version` table.
#[derive(Debug)]
pub struct S3ObjectVersion;

impl ApiTable for S3ObjectVersion {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        100_000
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let found = named_buckets(&ctx);
        // A key is its own prefix: the framework keeps only the exact key.
        let prefixes: Vec<Option<String>> = match (ctx.keys.get("key"), ctx.keys.get("prefix")) {
            (Some(keys), _) => keys.iter().cloned().map(Some).collect(),
            (None, Some(p)) => p.iter().cloned().map(Some).collect(),
            (None, None) => vec![None],
        };
        fan_out(found, DEFAULT_CONCURRENCY, move |bucket| {
            let ctx = ctx.clone();
            futures::stream::iter(prefixes.clone())
                .map(move |p| list(ctx.clone(), bucket.clone(), p))
                .flatten()
                .boxed()
        })
    }
}

/// Separates the two markers in one page token (neither can contain it:
/// keys are UTF-8 without NUL in practice, version ids are URL-safe).
const MARKER_SEPARATOR: char = '\0';

fn list(
    ctx: FetchContext,
    bucket: BucketInfo,
    prefix: Option<String>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let s3 = clients::s3(ctx.aws(), &bucket.region);
    let (name, listed_prefix) = (bucket.name.clone(), prefix.clone());
    ctx.paginate(
        "s3:ListObjectVersions",
        move |token: Option<String>| {
            let (key_marker, version_marker) = match token.as_deref().map(|t| t.split_once(MARKER_SEPARATOR))
            {
                Some(Some((k, v))) => (Some(k.to_string()), Some(v.to_string()).filter(|v| !v.is_empty())),
                Some(None) => (token.clone(), None),
                None => (None, None),
            };
            s3.list_object_versions()
                .bucket(&name)
                .set_prefix(listed_prefix.clone())
                .max_keys(1000)
                .set_key_marker(key_marker)
                .set_version_id_marker(version_marker)
                .send()
        },
        |out| {
            let key = out.next_key_marker().filter(|_| out.is_truncated() == Some(true))?;
            Some(format!("{key}{MARKER_SEPARATOR}{}", out.next_version_id_marker().unwrap_or_default()))
        },
    )
    .and_then(move |out| {
        let (ctx, bucket, prefix) = (ctx.clone(), bucket.clone(), prefix.clone());
        async move {
            let mut rows: Vec<Row> = out
                .versions()
                .iter()
                .map(|v| Row {
                    bucket_name: &bucket.name,
                    prefix: prefix.as_deref(),
                    key: v.key(),
                    region: &bucket.region,
                    version_id: v.version_id(),
                    is_latest: v.is_latest(),
                    is_delete_marker: false,
                    size: v.size(),
                    last_modified: time::micros(v.last_modified()),
                    etag: v.e_tag(),
                    storage_class: v.storage_class().map(|s| s.as_str()),
                })
                .collect();
            rows.extend(out.delete_markers().iter().map(|m| Row {
                bucket_name: &bucket.name,
                prefix: prefix.as_deref(),
                key: m.key(),
                region: &bucket.region,
                version_id: m.version_id(),
                is_latest: m.is_latest(),
                is_delete_marker: true,
                size: None,
                last_modified: time::micros(m.last_modified()),
                etag: None,
                storage_class: None,
            }));
            ctx.batch(&rows)
        }
    })
    .boxed()
}
