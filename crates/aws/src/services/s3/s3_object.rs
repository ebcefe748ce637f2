//! `aws_s3_object`: the current objects of a bucket, listed 1,000 per
//! ListObjectsV2 page in the bucket's own region.
//!
//! ```sql
//! SELECT key, size, last_modified FROM aws_s3_object
//! WHERE bucket_name = 'acme-ci-artifacts' AND key LIKE 'builds/main/%';
//! ```
//!
//! `bucket_name` is required (it is the API's); `prefix = ...` and a
//! `key LIKE 'builds/%'` become the listing's prefix, so only those keys are
//! listed; `key = ...` / `key IN (...)` ask for each object alone (HeadObject),
//! which is also how the delete sink re-reads an object just before acting.
//! `LIMIT` stops paging. In a multi-account config, a bucket is read through
//! the account that owns it.

use std::sync::LazyLock;

use aws_sdk_s3::types::Object;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use skyglue_core::paging::{describe_each, fan_out};
use skyglue_core::spec::{text, timestamp};
use skyglue_core::table::DEFAULT_CONCURRENCY;
use skyglue_core::{ApiTable, FetchContext, Result, Scope, TableSpec};

use super::s3_common::{BucketInfo, named_buckets};
use crate::{clients, services, time};

/// Every call the fetch makes (`TableSpec::operations`).
const OPERATIONS: &[&str] = &["s3:ListBuckets", "s3:GetBucketLocation", "s3:ListObjectsV2", "s3:HeadObject"];

static SPEC: LazyLock<TableSpec> = LazyLock::new(|| TableSpec {
    name: "aws_s3_object",
    description: "Current objects of an S3 bucket (bucket_name is required).",
    scope: Scope::AwsAccount,
    columns: Row::columns(),
    not_found_codes: &[
        ("s3:ListObjectsV2", "NoSuchBucket"),
        ("s3:HeadObject", "NotFound"),
        ("s3:HeadObject", "NoSuchKey"),
        ("s3:GetBucketLocation", "NoSuchBucket"),
    ],
    operations: OPERATIONS,
    rate_limits: services::rate_limits_for(OPERATIONS),
});

skyglue_core::columns! {
    #[derive(Default)]
    struct Row<'a> {
        bucket_name: &'a str => (text(), "The bucket.").required_key(),
        prefix: Option<&'a str> => (
            text(),
            "The prefix the listing asked for (prefix = ... or key LIKE 'p%').",
        ).optional_key(),
        key: Option<&'a str> => (text(), "The object's key.").optional_key().like_pushed_as("prefix"),
        region: &'a str => (text(), "The bucket's region."),
        size: Option<i64> => (DataType::Int64, "Size in bytes."),
        last_modified: Option<i64> => (timestamp(), "When the object was last written."),
        etag: Option<&'a str> => (text(), "The entity tag (changes when the object is overwritten)."),
        storage_class: Option<&'a str> => (text(), "STANDARD, GLACIER, ..."),
        owner: Option<&'a str> => (text(), "The owner's canonical id (read only when selected)."),
        version_id: Option<&'a str> => (
            text(),
            "The current version's id (keyed reads only; NULL in listings).",
        ),
    }
}

/// The `aws_s3_object` table.
#[derive(Debug)]
pub struct S3Object;

impl ApiTable for S3Object {
    fn spec(&self) -> &TableSpec {
        &SPEC
    }

    fn typical_rows(&self) -> usize {
        100_000
    }

    fn fetch(&self, ctx: FetchContext) -> BoxStream<'static, Result<RecordBatch>> {
        let found = named_buckets(&ctx);
        fan_out(found, DEFAULT_CONCURRENCY, move |bucket| match ctx.keys.get("key") {
            Some(keys) => head_objects(ctx.clone(), bucket, keys.to_vec()),
            None => {
                let prefixes: Vec<Option<String>> = match ctx.keys.get("prefix") {
                    Some(p) => p.iter().cloned().map(Some).collect(),
                    None => vec![None],
                };
                let ctx = ctx.clone();
                futures::stream::iter(prefixes)
                    .map(move |p| list(ctx.clone(), bucket.clone(), p))
                    .flatten()
                    .boxed()
            }
        })
    }
}

/// One bucket's objects under `prefix`, 1,000 per page (`owner` only when read).
fn list(
    ctx: FetchContext,
    bucket: BucketInfo,
    prefix: Option<String>,
) -> BoxStream<'static, Result<RecordBatch>> {
    let s3 = clients::s3(ctx.aws(), &bucket.region);
    let (name, listed_prefix, owner) = (bucket.name.clone(), prefix.clone(), ctx.needs("owner"));
    ctx.paginate(
        "s3:ListObjectsV2",
        move |token| {
            s3.list_objects_v2()
                .bucket(&name)
                .set_prefix(listed_prefix.clone())
                .max_keys(1000)
                .fetch_owner(owner)
                .set_continuation_token(token)
                .send()
        },
        |out| out.next_continuation_token().filter(|_| out.is_truncated() == Some(true)).map(str::to_string),
    )
    .and_then(move |out| {
        let (ctx, bucket, prefix) = (ctx.clone(), bucket.clone(), prefix.clone());
        async move {
            let rows: Vec<Row> =
                out.contents().iter().map(|o| listed(&bucket, prefix.as_deref(), o)).collect();
            ctx.batch(&rows)
        }
    })
    .boxed()
}

fn listed<'a>(bucket: &'a BucketInfo, prefix: Option<&'a str>, o: &'a Object) -> Row<'a> {
    Row {
        bucket_name: &bucket.name,
        prefix,
        key: o.key(),
        region: &bucket.region,
        size: o.size(),
        last_modified: time::micros(o.last_modified()),
        etag: o.e_tag(),
        storage_class: o.storage_class().map(|s| s.as_str()),
        owner: o.owner().and_then(|o| o.id()),
        version_id: None,
    }
}

/// The named objects, each read alone (HeadObject); a missing one is no row.
fn head_objects(
    ctx: FetchContext,
    bucket: BucketInfo,
    keys: Vec<String>,
) -> BoxStream<'static, Result<RecordBatch>> {
    futures::stream::once(async move {
        let s3 = clients::s3(ctx.aws(), &bucket.region);
        let heads = describe_each(keys, DEFAULT_CONCURRENCY, |key| {
            let req = s3.head_object().bucket(&bucket.name).key(&key);
            let ctx = &ctx;
            async move { Ok(ctx.call("s3:HeadObject", || req.clone().send()).await?.map(|out| (key, out))) }
        })
        .await?;
        let rows: Vec<Row> = heads
            .iter()
            .filter(|(_, h)| h.delete_marker() != Some(true))
            .map(|(key, h)| Row {
                bucket_name: &bucket.name,
                key: Some(key),
                region: &bucket.region,
                size: h.content_length(),
                last_modified: time::micros(h.last_modified()),
                etag: h.e_tag(),
                storage_class: h.storage_class().map(|s| s.as_str()).or(Some("STANDARD")),
                version_id: h.version_id(),
                ..Row::default()
            })
            .collect();
        ctx.batch(&rows)
    })
    .boxed()
}
